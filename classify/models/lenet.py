"""LeNet-5 (LeCun et al., 1998): two convolution + subsampling stages, then C5 and F6.

The first convolution pads by 2 so that 28x28 MNIST digits get the 32x32 field of the
original; C5 is a fully connected layer so that other input sizes work too.
"""
from __future__ import annotations

import torch
from torch import nn

from classify.models._layers import make_activation
from faceswap.registry import register


@register("classifier_model", "lenet")
class LeNet5(nn.Module):
    """LeNet-5: conv 6 - pool - conv 16 - pool - fc 120 - fc 84 features."""

    min_img_size = 12

    def __init__(self, in_channels: int = 1, img_size: int = 28, activation: str = "relu"):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), make_activation(activation), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), make_activation(activation), nn.MaxPool2d(2),
        )
        side = (img_size // 2 - 4) // 2
        self.fully_connected = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * side * side, 120), make_activation(activation),
            nn.Linear(120, 84), make_activation(activation),
        )
        self.feature_size = 84

    def forward(self, images_NCHW: torch.Tensor) -> torch.Tensor:
        return self.fully_connected(self.features(images_NCHW))
