"""The segmenter's preview: held-out faces with a synthetic occluder, the label and the prediction.

Columns: the face as the network sees it, the known mask (green) and the predicted one (red)
drawn on it, so a glance tells whether the mask follows the face and leaves the occluder out.
"""
from __future__ import annotations

import numpy as np
import torch

COLUMNS = ("input", "known mask", "predicted mask")


@torch.no_grad()
def render_preview(task, crops: torch.Tensor, labels: torch.Tensor, inside: torch.Tensor) -> np.ndarray:
    """(K, ...) uint8 held-out samples -> BGR uint8 grid of K rows."""
    from faceswap.grid import draw_grid

    was_training = task.training
    task.eval()
    device = next(task.model.parameters()).device
    images, targets, _, _ = task.prepare(crops.to(device), labels.to(device), inside.to(device))
    predicted = torch.sigmoid(task.model(images).float())
    task.train(was_training)
    return draw_grid([images.cpu(), _tint(images, targets, (0.0, 1.0, 0.0)), _tint(images, predicted, (1.0, 0.0, 0.0))], COLUMNS)


def _tint(images: torch.Tensor, masks: torch.Tensor, rgb: tuple[float, float, float]) -> torch.Tensor:
    colour = torch.tensor(rgb, device=images.device).view(1, 3, 1, 1)
    return (images * (1 - 0.45 * masks) + colour * 0.45 * masks).clamp(0, 1).cpu()
