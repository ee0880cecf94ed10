"""Preview grid on fixed held-out faces: A, A->A, A->B, B, B->B, B->A per row, drawn with OpenCV.

The newest is always at MODEL_DIR/preview.png; with a timelapse folder every save is also kept
there as preview_<step>.png.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from faceswap.fileio import atomic_path
from faceswap.swap.augment import plain

COLUMNS = ("A", "A->A", "A->B", "B", "B->B", "B->A")
HEADER_PX = 24
MIN_TILE_PX = 128


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


def draw_grid(columns: list[torch.Tensor], labels: tuple[str, ...]) -> np.ndarray:
    """Columns of NCHW RGB [0, 1] tiles -> one BGR image with a labelled header row."""
    rows, size = len(columns[0]), columns[0].shape[-1]
    tile = max(size, MIN_TILE_PX)
    grid = np.full((HEADER_PX + rows * tile, len(columns) * tile, 3), 32, np.uint8)
    for col, (images, label) in enumerate(zip(columns, labels)):
        cv2.putText(grid, label, (col * tile + 6, HEADER_PX - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (235, 235, 235), 1, cv2.LINE_AA)
        images_rgb = (images.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
        for row, image_rgb in enumerate(images_rgb):
            image_bgr = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)
            if tile != size:
                image_bgr = cv2.resize(image_bgr, (tile, tile), interpolation=cv2.INTER_CUBIC)
            top = HEADER_PX + row * tile
            grid[top:top + tile, col * tile:(col + 1) * tile] = image_bgr
    return grid


def write_preview(image_bgr: np.ndarray, path: str | Path, timelapse_dir: str | Path | None = None, step: int = 0) -> None:
    _write_png(image_bgr, Path(path))
    if timelapse_dir:
        _write_png(image_bgr, Path(timelapse_dir) / f"preview_{step:08d}.png")


def _write_png(image_bgr: np.ndarray, path: Path) -> None:
    with atomic_path(path) as temp_path:
        if not cv2.imwrite(str(temp_path), image_bgr):
            raise OSError(f"OpenCV could not write '{path}'")
