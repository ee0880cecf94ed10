"""Batched class probabilities for decoded images, on the run's device."""
from __future__ import annotations

import numpy as np
import torch

from classify.samples import to_tensor_NCHW


@torch.no_grad()
def probabilities(classifier, images_NHWC_uint8: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """(N, classes) softmax probabilities; the classifier is in eval mode."""
    device = next(classifier.parameters()).device
    chunks = []
    for start in range(0, len(images_NHWC_uint8), batch_size):
        batch = to_tensor_NCHW(images_NHWC_uint8[start:start + batch_size]).to(device)
        chunks.append(torch.softmax(classifier(batch).float(), dim=1).cpu())
    return torch.cat(chunks).numpy() if chunks else np.zeros((0, 0), np.float32)
