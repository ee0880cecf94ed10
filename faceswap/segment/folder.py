"""The segmenter folder: a trained face segmenter that describes itself.

    SEGMENTER_DIR/segmenter.json         format, version, preset, options, template, steps, metrics
    SEGMENTER_DIR/segmenter.safetensors  the weights (no pickle)
    SEGMENTER_DIR/preview.png            held-out faces with the predicted mask drawn on them
    SEGMENTER_DIR/training/              the engine's checkpoints and metrics.csv

``faceswap train`` writes one into MODEL_DIR/segmenter; ``faceswap mask train`` anywhere.
``load_segmenter(folder, device).predict(crops_bgr_NHWC_uint8)`` gives masks in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faceswap import __version__
from faceswap.align.template import Template
from faceswap.errors import UserError
from faceswap.fileio import read_json, write_json_atomic, write_weights_atomic

FORMAT = "faceswap-segmenter"
FORMAT_VERSION = 1
INFO_FILE = "segmenter.json"
WEIGHTS_FILE = "segmenter.safetensors"
PREVIEW_FILE = "preview.png"
TRAINING_DIR = "training"


@dataclass(frozen=True)
class SegmenterInfo:
    preset: str
    options: dict[str, Any]
    template: Template
    steps: int
    folder: Path


def write_info(folder: str | Path, preset: str, model, template: Template, steps: int, **extra: Any) -> None:
    write_json_atomic(Path(folder) / INFO_FILE, {
        "format": FORMAT, "version": FORMAT_VERSION, "preset": preset, "resolution": int(model.resolution),
        "options": dict(model.options), "template": template.as_dict(), "steps": int(steps),
        "parameters": sum(p.numel() for p in model.parameters()), "tool": f"faceswap {__version__}", **extra})


def save_weights(folder: str | Path, model) -> None:
    write_weights_atomic(Path(folder) / WEIGHTS_FILE, model, FORMAT)


def read_info(folder: str | Path) -> SegmenterInfo:
    folder = Path(folder)
    if not (folder / INFO_FILE).is_file():
        raise UserError(f"'{folder}' is not a segmenter folder (it has no {INFO_FILE}); train one with "
                        "`faceswap mask train` or `faceswap train`, or pass --mask outline.")
    data = read_json(folder / INFO_FILE, "segmenter description")
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
        found = (data.get("format"), data.get("version")) if isinstance(data, dict) else ("?", "?")
        raise UserError(f"'{folder / INFO_FILE}' is format {found[0]} version {found[1]}, this faceswap reads "
                        f"{FORMAT} version {FORMAT_VERSION}; retrain it with `faceswap mask train`.")
    try:
        return SegmenterInfo(preset=str(data["preset"]), options=dict(data["options"]),
                             template=Template.from_dict(data["template"]), steps=int(data.get("steps", 0)), folder=folder)
    except (KeyError, TypeError, ValueError) as error:
        raise UserError(f"'{folder / INFO_FILE}' has missing or malformed fields ({error}); retrain the segmenter.") from error


def build_model(info: SegmenterInfo):
    from faceswap.registry import get

    options = {key: tuple(value) if isinstance(value, list) else value for key, value in info.options.items()}
    try:
        return get("segmenter", info.preset)(**options)
    except TypeError as error:
        raise UserError(f"'{info.folder / INFO_FILE}' has options that the '{info.preset}' segmenter does not take "
                        f"({error}); retrain the segmenter.") from error


class Segmenter:
    """A trained segmenter ready for inference: ``predict`` takes aligned BGR crops of any size."""

    def __init__(self, model, info: SegmenterInfo, device):
        self.model, self.info, self.device = model, info, device
        self.template = info.template
        self.resolution = int(model.resolution)

    def predict_rgb(self, images):
        """N3HW RGB float [0, 1] torch tensor (any square size) -> N1HW P(visible face) at the same size."""
        import torch
        import torch.nn.functional as F

        size = images.shape[-1]
        with torch.inference_mode():
            images = images.to(self.device).float()
            if size != self.resolution:
                images = F.interpolate(images, size=(self.resolution,) * 2, mode="bilinear", antialias=True, align_corners=False)
            masks = torch.sigmoid(self.model(images).float())
            if size != self.resolution:
                masks = F.interpolate(masks, size=(size, size), mode="bilinear", align_corners=False)
        return masks

    def predict(self, crops_bgr_NHWC_uint8: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 BGR crops -> (N, S, S) float32 P(visible face), at the crops' size S."""
        import torch

        crops = np.ascontiguousarray(np.asarray(crops_bgr_NHWC_uint8)[..., ::-1])
        if len(crops) == 0:
            return np.zeros((0, *crops.shape[1:3]), np.float32)
        images = torch.from_numpy(crops).permute(0, 3, 1, 2).float().div_(255)
        return self.predict_rgb(images)[:, 0].cpu().numpy()


def load_segmenter(folder: str | Path, device: Any = "cpu") -> Segmenter:
    """The segmenter in ``folder`` on ``device`` (a torch.device or auto/cpu/cuda[:N]/mps), in eval mode."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from faceswap.runtime import pick_device

    info = read_info(folder)
    weights = info.folder / WEIGHTS_FILE
    if not weights.is_file():
        raise UserError(f"'{info.folder}' has no {WEIGHTS_FILE}; let the segmenter's training run to its first save.")
    model = build_model(info)
    try:
        state = load_file(str(weights))
        model.load_state_dict(state)
    except (SafetensorError, RuntimeError, OSError) as error:
        raise UserError(f"The segmenter weights '{weights}' are corrupt or do not fit {INFO_FILE} "
                        f"({str(error).splitlines()[0]}); retrain the segmenter.") from error
    if not all(torch.isfinite(tensor).all() for tensor in state.values() if tensor.is_floating_point()):
        raise UserError(f"The segmenter weights '{weights}' hold NaN or infinite values; retrain the segmenter.")
    device = device if isinstance(device, torch.device) else pick_device(str(device))
    return Segmenter(model.to(device).eval(), info, device)
