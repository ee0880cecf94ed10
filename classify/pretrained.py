"""``classify.export_pretrained``: a run folder for a pretrained ImageNet classifier as it is.

Classes are the ImageNet-1k class indices ("0" ... "999"); no class names ship offline.
Useful with ``classify predict`` on photos, and as a check that the weights load correctly.
"""
from __future__ import annotations

from pathlib import Path

from classify.rundir import MODEL_JSON
from faceswap.errors import UserError


def export_pretrained(out: str | Path, model: str = "mobilenet_v2", weights: str = "imagenet") -> Path:
    out = Path(out)
    if (out / MODEL_JSON).exists():
        raise UserError(f"'{out}' already holds a run; choose another --out.")
    import torch

    from classify.network import ModelSpec, build_classifier
    from classify.rundir import save_run
    from faceswap import registry

    factory = registry.get("classifier_model", model)
    if weights not in getattr(factory, "pretrained_weights", ()):
        raise UserError(f"Model '{model}' has no pretrained weights '{weights}'.")
    normalisation = factory.pretrained_normalisation[weights]
    spec = ModelSpec(model=model, head="linear", classes=tuple(str(k) for k in range(1000)), img_size=224, channels=3,
                     mean=tuple(normalisation["mean"]), std=tuple(normalisation["std"]), crop_ratio=0.875,
                     head_options={"dropout": 0.2}, pretrained=weights, transfer="pretrained")
    classifier = build_classifier(spec)
    head_weights = classifier.backbone.load_pretrained(weights)
    with torch.no_grad():
        classifier.head[1].weight.copy_(head_weights["weight"])
        classifier.head[1].bias.copy_(head_weights["bias"])
    save_run(out, classifier.eval(), spec, {"metrics": {}, "weights_from": f"pretrained {weights}"})
    return out
