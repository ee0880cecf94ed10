"""The run folder is self-describing: model.json + model.safetensors rebuild the classifier.

model.json holds the ModelSpec (model, head, classes, image size, channels, normalisation,
crop) plus the final metrics and the versions that wrote it; train_config.json the resolved
training settings. The engine's checkpoints and metrics.csv live beside them.
"""
from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

from faceswap.errors import UserError
from faceswap.fileio import read_json, write_json_atomic

MODEL_JSON = "model.json"
WEIGHTS_FILE = "model.safetensors"
TRAIN_CONFIG_FILE = "train_config.json"
FORMAT = "classify-run"
FORMAT_VERSION = 1


def read_model_json(run_dir: str | Path) -> dict[str, Any]:
    """model.json of a finished run, with a clear error for anything that is not one."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"The run folder '{run_dir}' does not exist; pass the --out folder of `classify train`.")
    if not (run_dir / MODEL_JSON).is_file() or not (run_dir / WEIGHTS_FILE).is_file():
        raise UserError(f"'{run_dir}' is not a classify run folder (no {MODEL_JSON} and {WEIGHTS_FILE}); "
                        "pass the --out folder of a finished `classify train`.")
    info = read_json(run_dir / MODEL_JSON, "model description")
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise UserError(f"'{run_dir / MODEL_JSON}' is not a classify model description; pass a classify run folder.")
    if info.get("format_version", 0) > FORMAT_VERSION:
        raise UserError(f"'{run_dir}' was written by a newer classify (format {info['format_version']}); upgrade to read it.")
    return info


def versions() -> dict[str, str]:
    import numpy
    import torch

    from faceswap import __version__

    return {"faceswap": __version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "python": platform.python_version()}


def save_run(run_dir: str | Path, classifier, spec, extra: dict[str, Any]) -> None:
    """Write the weights then model.json (each atomically): model.json appears last, so a run
    folder with a model.json always has matching weights."""
    from safetensors.torch import save_model

    from faceswap.fileio import atomic_path

    run_dir = Path(run_dir)
    with atomic_path(run_dir / WEIGHTS_FILE) as temp_path:
        save_model(classifier, str(temp_path))
    write_json_atomic(run_dir / MODEL_JSON, {"format": FORMAT, "format_version": FORMAT_VERSION, **spec.to_dict(),
                                             "weights": WEIGHTS_FILE, **extra, "versions": versions()})


def load_run(run_dir: str | Path, device: str = "cpu"):
    """(classifier in eval mode on the device, ModelSpec, model.json dict)."""
    from classify.network import ModelSpec, build_classifier
    from faceswap.engine.checkpoint import load_model_weights
    from faceswap.runtime import pick_device

    info = read_model_json(run_dir)
    spec = ModelSpec.from_dict(info)
    classifier = build_classifier(spec)
    load_model_weights(classifier, Path(run_dir) / WEIGHTS_FILE)
    return classifier.to(pick_device(device)).eval(), spec, info
