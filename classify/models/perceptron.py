"""Perceptron: the raw pixels are the features, so with the linear head the whole model is
one linear layer (multinomial logistic regression)."""
from __future__ import annotations

import torch
from torch import nn

from faceswap.registry import register


@register("classifier_model", "perceptron")
class Perceptron(nn.Module):
    """Perceptron: the pixels are the features, the head is the only layer."""

    def __init__(self, in_channels: int = 1, img_size: int = 28):
        super().__init__()
        self.feature_size = in_channels * img_size * img_size

    def forward(self, images_NCHW: torch.Tensor) -> torch.Tensor:
        return images_NCHW.flatten(1)
