"""Multi-layer perceptron on flattened pixels."""
from __future__ import annotations

import torch
from torch import nn

from classify.models._layers import make_activation
from faceswap.registry import register


@register("classifier_model", "mlp")
class MLP(nn.Module):
    """MLP on flattened pixels: hidden sizes and activation are settings."""

    def __init__(self, in_channels: int = 1, img_size: int = 28, hidden_sizes: tuple[int, ...] = (256, 128),
                 activation: str = "relu"):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_channels * img_size * img_size
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), make_activation(activation)]
            width = hidden
        self.layers = nn.Sequential(*layers)
        self.feature_size = width

    def forward(self, images_NCHW: torch.Tensor) -> torch.Tensor:
        return self.layers(images_NCHW)
