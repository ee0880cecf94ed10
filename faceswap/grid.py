"""Labelled image grids for previews (swap training, segmenter training): columns of NCHW tiles."""
from __future__ import annotations

import cv2
import numpy as np
import torch

HEADER_PX = 24
MIN_TILE_PX = 128


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


def write_image(image_bgr: np.ndarray, path) -> None:
    """Write a PNG atomically (temp name, then rename), so a reader never sees half a file."""
    from pathlib import Path

    from faceswap.fileio import atomic_path

    with atomic_path(Path(path)) as temp_path:
        if not cv2.imwrite(str(temp_path), image_bgr):
            raise OSError(f"OpenCV could not write '{path}'")
