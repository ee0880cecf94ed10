"""A small VGG-style network: three stages of two 3x3 convolutions and a max-pool."""
from __future__ import annotations

import torch
from torch import nn

from classify.models._layers import make_activation
from faceswap.registry import register


def _stage(in_channels: int, out_channels: int, activation: str) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for channels_in in (in_channels, out_channels):
        layers += [nn.Conv2d(channels_in, out_channels, 3, padding=1, bias=False),
                   nn.BatchNorm2d(out_channels), make_activation(activation)]
    return layers + [nn.MaxPool2d(2)]


@register("classifier_model", "small_cnn")
class SmallCNN(nn.Module):
    """Small VGG-style CNN: 3 stages of 2 conv3x3+BN, widths 32-64-128, 128 features."""

    min_img_size = 8

    def __init__(self, in_channels: int = 3, img_size: int = 32, activation: str = "relu",
                 widths: tuple[int, ...] = (32, 64, 128)):
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for width in widths:
            layers += _stage(channels, width, activation)
            channels = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.feature_size = channels

    def forward(self, images_NCHW: torch.Tensor) -> torch.Tensor:
        return self.pool(self.features(images_NCHW)).flatten(1)
