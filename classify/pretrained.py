"""Pretrained weights: which a model offers, and ``classify.export_pretrained``, a run folder for a
pretrained ImageNet classifier as it is.

A model offers named weights (``pretrained_weights``, e.g. MobileNetV2's offline "imagenet")
and/or weight files (``weights_from_file``: AlexNet and VGG take torchvision's state_dict files,
which the user brings). Classes of a 1,000-class ImageNet head are ImageNet's class names.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from classify.rundir import MODEL_JSON
from faceswap.errors import UserError


def check_pretrained(model: str, factory: Any, pretrained: str) -> None:
    """One clear error unless ``pretrained`` names the model's weights or an existing file it takes."""
    available = tuple(getattr(factory, "pretrained_weights", ()))
    if pretrained in available:
        return
    takes_files = getattr(factory, "weights_from_file", None)
    if takes_files and Path(pretrained).is_file():
        return
    if takes_files:
        raise UserError(f"Model '{model}' takes pretrained weights from {takes_files}; '{pretrained}' is not an "
                        "existing file.")
    offer = f"it offers {', '.join(available)}" if available else "it has no pretrained weights (mobilenet_v2 has imagenet)"
    raise UserError(f"Model '{model}' has no pretrained weights '{pretrained}'; {offer}.")


def pretrained_normalisation(factory: Any, pretrained: str) -> dict | None:
    """{"mean", "std"} that the weights were trained with (torchvision files: ImageNet's)."""
    table = getattr(factory, "pretrained_normalisation", {})
    return table.get(pretrained) or (table.get("file") if Path(pretrained).is_file() else None)


def _class_names(count: int) -> tuple[str, ...]:
    if count == 1000:
        from classify.imagenet_names import imagenet_class_names

        return imagenet_class_names()
    return tuple(str(k) for k in range(count))


def export_pretrained(out: str | Path, model: str = "mobilenet_v2", weights: str = "imagenet") -> Path:
    out = Path(out)
    if (out / MODEL_JSON).exists():
        raise UserError(f"'{out}' already holds a run; choose another --out.")
    import torch

    from classify.network import ModelSpec, build_classifier
    from classify.rundir import save_run
    from faceswap import registry

    factory = registry.get("classifier_model", model)
    check_pretrained(model, factory, weights)
    normalisation = pretrained_normalisation(factory, weights)
    spec = ModelSpec(model=model, head="linear", classes=_class_names(1000), img_size=224, channels=3,
                     mean=tuple(normalisation["mean"]), std=tuple(normalisation["std"]), crop_ratio=0.875,
                     head_options={"dropout": 0.2}, pretrained=str(weights), transfer="pretrained")
    classifier = build_classifier(spec)
    head_weights = classifier.backbone.load_pretrained(weights)
    if tuple(head_weights["weight"].shape) != tuple(classifier.head[1].weight.shape):
        raise UserError(f"'{weights}' has a {head_weights['weight'].shape[0]}-class head, not ImageNet's 1,000; "
                        "train on your classes with `classify train --pretrained` instead.")
    with torch.no_grad():
        classifier.head[1].weight.copy_(head_weights["weight"])
        classifier.head[1].bias.copy_(head_weights["bias"])
    save_run(out, classifier.eval(), spec, {"metrics": {}, "weights_from": f"pretrained {weights}"})
    return out
