"""Image classification on the shared training engine.

    import classify
    result = classify.train(classify.TrainClassifierConfig(data="digits/train", model="lenet", out="runs/lenet"))
    report = classify.evaluate("runs/lenet", "digits/test")
    predictions = classify.predict("runs/lenet", ["a.png", image_array, pil_image])

Models and heads are plugins (families ``classifier_model`` and ``classifier_head``); any head
sits on any model. Names resolve lazily so that ``import classify`` stays cheap.
"""
from __future__ import annotations

from faceswap.lazy import lazy_getattr

_EXPORTS = {
    "TrainClassifierConfig": "classify.settings",
    "TrainResult": "classify.training",
    "train": "classify.training",
    "evaluate": "classify.evaluation",
    "EvalReport": "classify.evaluation",
    "predict": "classify.prediction",
    "Prediction": "classify.prediction",
    "inspect_run": "classify.inspection",
    "export_pretrained": "classify.pretrained",
    "write_dataset": "classify.datasets",
    "list_models": "classify.catalogue",
    "run_demo": "classify.demo",
    "imagenet_class_names": "classify.imagenet_names",
    "ModelSpec": "classify.network",
    "Classifier": "classify.network",
    "build_classifier": "classify.network",
    "load_run": "classify.rundir",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
