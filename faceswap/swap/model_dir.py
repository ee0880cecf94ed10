"""The self-describing model folder that `faceswap train` writes and `faceswap convert` reads.

    MODEL_DIR/model.json         preset, options (resolution, widths), template, coverage, steps, version
    MODEL_DIR/model.safetensors  the swap model's weights (no pickle): the latest checkpoint's weights file
                                 itself (a hard link: written once), where the model's weights sit under
                                 "model." beside the task's augmentation counter; or the model's alone
    MODEL_DIR/preview.png        the newest preview grid
    MODEL_DIR/train_config.json  the resolved settings of the latest training run
    MODEL_DIR/training/          the engine's checkpoints, metrics.csv and resolved configs

``load_swap_model(model_dir, device) -> (model, ModelInfo)`` rebuilds the model from its preset
and options and loads the weights; ``info.template`` tells convert which faces fit.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceswap import __version__
from faceswap.align.template import Template
from faceswap.errors import UserError
from faceswap.fileio import read_json, write_json_atomic, write_weights_atomic

FORMAT = "faceswap-swap-model"
FORMAT_VERSION = 1
MODEL_JSON = "model.json"
WEIGHTS_FILE = "model.safetensors"
PREVIEW_FILE = "preview.png"
TRAIN_CONFIG_FILE = "train_config.json"
TRAINING_DIR = "training"


@dataclass(frozen=True)
class ModelInfo:
    preset: str
    resolution: int
    template: Template  # the alignment template of the faces it was trained on
    options: dict[str, Any]  # the preset factory's arguments, rebuild the same model
    steps: int  # training steps done when the weights were saved
    version: int
    model_dir: Path

    @property
    def coverage(self) -> float:
        return self.template.coverage

    @property
    def widths(self) -> dict[str, Any]:
        return {key: self.options.get(key) for key in ("encoder_widths", "bottleneck", "decoder_widths")}


def write_model_json(model_dir: str | Path, preset: str, model, template: Template, steps: int, **extra: Any) -> None:
    options = dict(model.options)
    write_json_atomic(Path(model_dir) / MODEL_JSON, {
        "format": FORMAT, "version": FORMAT_VERSION, "preset": preset, "resolution": int(model.resolution),
        "coverage": template.coverage, "template": template.as_dict(),
        "widths": {key: options.get(key) for key in ("encoder_widths", "bottleneck", "decoder_widths")},
        "options": options, "steps": int(steps), "parameters": sum(p.numel() for p in model.parameters()),
        "tool": f"faceswap {__version__}", **extra,
    })


TASK_PREFIX = "model."  # the swap model's weights inside a SwapTask checkpoint
TASK_COUNTERS = ("augment_calls",)  # the SwapTask's own state beside them: marks a checkpoint's weights file


def save_weights(folder: str | Path, model) -> None:
    write_weights_atomic(Path(folder) / WEIGHTS_FILE, model, FORMAT)


def export_weights(folder: str | Path, task, checkpoint_weights: Path) -> None:
    """MODEL_DIR/model.safetensors at a checkpoint: a hard link to the checkpoint's weights file, so the
    weights are written once, where that file holds nothing but the swap model and the task's counters;
    otherwise (a discriminator beside the model, a filesystem without hard links) the model's weights
    written apart, so that convert's file never carries training-only networks."""
    import os

    from faceswap.fileio import atomic_path

    only_model = all(name.startswith(TASK_PREFIX) or name in TASK_COUNTERS for name in task.state_dict())
    if only_model and checkpoint_weights.is_file():
        try:
            with atomic_path(Path(folder) / WEIGHTS_FILE) as temp_path:
                os.unlink(temp_path)
                os.link(checkpoint_weights, temp_path)
            return
        except (OSError, UserError):
            pass  # no hard links here: write the weights
    save_weights(folder, task.model)


def model_weights(state: dict) -> dict:
    """The swap model's weights from a model.safetensors: a checkpoint's (prefixed, with counters) or the model's alone."""
    if not any(name in state for name in TASK_COUNTERS):
        return state
    return {name[len(TASK_PREFIX):]: value for name, value in state.items() if name.startswith(TASK_PREFIX)}


def read_info(model_dir: str | Path) -> ModelInfo:
    model_dir = Path(model_dir)
    if not (model_dir / MODEL_JSON).is_file():
        raise UserError(f"'{model_dir}' is not a swap model folder (it has no {MODEL_JSON}); pass the -m folder of `faceswap train`.")
    data = read_json(model_dir / MODEL_JSON, "model description")
    if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
        raise UserError(f"'{model_dir / MODEL_JSON}' is format {data.get('format')} version {data.get('version')}, "
                        f"this faceswap reads {FORMAT} version {FORMAT_VERSION}; retrain the model with this version.")
    try:
        return ModelInfo(preset=data["preset"], resolution=int(data["resolution"]), template=Template.from_dict(data["template"]),
                         options=dict(data["options"]), steps=int(data.get("steps", 0)), version=int(data["version"]),
                         model_dir=model_dir)
    except (KeyError, TypeError, ValueError) as error:
        raise UserError(f"'{model_dir / MODEL_JSON}' is missing or has malformed fields ({error}); retrain the model.") from error


def holds_weights(model_dir: str | Path) -> bool:
    """Whether training saved weights here (model.safetensors or a checkpoint). A folder that a run
    left before its first save (model.json, the face cache) holds no model: a plain rerun may use it."""
    from faceswap.engine.checkpoint import find_latest_checkpoint

    model_dir = Path(model_dir)
    return (model_dir / WEIGHTS_FILE).is_file() or find_latest_checkpoint(model_dir / TRAINING_DIR) is not None


def build_model(info: ModelInfo):
    """The model that model.json describes (untrained); refuses options the preset does not take
    and a resolution that the options do not give."""
    from faceswap.registry import get

    description = info.model_dir / MODEL_JSON
    options = {key: tuple(value) if isinstance(value, list) else value for key, value in info.options.items()}
    factory = get("swap_model", info.preset)
    try:
        model = factory(**options)
    except (TypeError, ValueError) as error:
        raise UserError(f"The options in '{description}' do not build the '{info.preset}' model ({error}); "
                        "restore the folder's model.json or train a new model.") from error
    if int(model.resolution) != info.resolution:
        raise UserError(f"'{description}' says resolution {info.resolution} but its options build a {model.resolution} px "
                        "model; restore the folder's model.json or train a new model.")
    return model


def load_swap_model(model_dir: str | Path, device: Any = "cpu"):
    """(model in eval mode on ``device``, ModelInfo). ``device``: a torch.device or auto/cpu/cuda[:N]/mps."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from faceswap.engine.checkpoint import check_finite
    from faceswap.runtime import pick_device

    info = read_info(model_dir)
    weights_path = info.model_dir / WEIGHTS_FILE
    if not weights_path.is_file():
        raise UserError(f"'{info.model_dir}' has no {WEIGHTS_FILE} yet; let `faceswap train` run until its first save.")
    device = device if isinstance(device, torch.device) else pick_device(str(device))
    model = build_model(info)
    try:
        state = model_weights(load_file(str(weights_path)))
        model.load_state_dict(state)
    except (SafetensorError, RuntimeError, OSError) as error:
        raise UserError(f"The weights '{weights_path}' do not fit its model.json ({str(error).splitlines()[0]}); "
                        "retrain or restore the folder.") from error
    check_finite(state, weights_path)
    return model.to(device).eval(), info
