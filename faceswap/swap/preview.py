"""Preview grid on fixed held-out faces: A, A->A, A->B, B, B->B, B->A per row, drawn with OpenCV.

The newest is always at MODEL_DIR/preview.png; with a timelapse folder every save is also kept
there as preview_<step>.png.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from faceswap.grid import draw_grid, write_image
from faceswap.swap.augment import plain

COLUMNS = ("A", "A->A", "A->B", "B", "B->B", "B->A")


@torch.no_grad()
def render_preview(model, faces_a: torch.Tensor, faces_b: torch.Tensor) -> np.ndarray:
    """faces_a/faces_b: (K, 4, S, S) uint8 held-out faces -> BGR uint8 grid of K rows, 6 columns."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    size = model.resolution
    empty_weights = torch.ones(1, 1, faces_a.shape[-2], faces_a.shape[-1])
    a = plain(faces_a.to(device), empty_weights, size).inputs
    b = plain(faces_b.to(device), empty_weights, size).inputs
    tiles = [a, model.decode(a, "a")[0], model.decode(a, "b")[0], b, model.decode(b, "b")[0], model.decode(b, "a")[0]]
    model.train(was_training)
    return draw_grid([tile.float().clamp(0, 1).cpu() for tile in tiles], COLUMNS)


def write_preview(image_bgr: np.ndarray, path: str | Path, timelapse_dir: str | Path | None = None, step: int = 0) -> None:
    _write_png(image_bgr, Path(path))
    if timelapse_dir:
        _write_png(image_bgr, Path(timelapse_dir) / f"preview_{step:08d}.png")


def _write_png(image_bgr: np.ndarray, path: Path) -> None:
    write_image(image_bgr, path)
