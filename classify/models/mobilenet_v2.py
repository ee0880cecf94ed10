"""The ``mobilenet_v2`` classifier backbone: MobileNetV2 features + global average pooling.

The architecture and its ImageNet weights live in ``faceswap.backbones.mobilenet_v2`` (the swap's
perceptual loss uses them too); the state_dict keys are torchvision's (``features.N...``).
"""
from __future__ import annotations

import torch
from torch import nn

from faceswap.backbones.mobilenet_v2 import (IMAGENET_MEAN, IMAGENET_STD, MobileNetV2, build_features, init_weights,
                                             load_imagenet_model)
from faceswap.errors import UserError
from faceswap.registry import register

__all__ = ["MobileNetV2", "MobileNetV2Backbone", "load_imagenet_model"]


@register("classifier_model", "mobilenet_v2")
class MobileNetV2Backbone(nn.Module):
    """MobileNetV2 features (torchvision names) + global average pooling: 1280 features."""

    min_img_size = 32
    pretrained_weights = ("imagenet",)
    pretrained_normalisation = {"imagenet": {"mean": IMAGENET_MEAN, "std": IMAGENET_STD}}

    def __init__(self, in_channels: int = 3, img_size: int = 224, width_mult: float = 1.0):
        super().__init__()
        self.in_channels, self.width_mult = in_channels, width_mult
        self.features, self.feature_size = build_features(in_channels, width_mult)
        init_weights(self)

    def forward(self, images_NCHW: torch.Tensor) -> torch.Tensor:
        return nn.functional.adaptive_avg_pool2d(self.features(images_NCHW), 1).flatten(1)

    def load_pretrained(self, name: str) -> dict[str, torch.Tensor]:
        """Load the named weights; returns the pretrained classifier's linear layer (weight, bias)."""
        if name != "imagenet":
            raise UserError(f"MobileNetV2 has no pretrained weights '{name}'; use imagenet.")
        if self.in_channels != 3 or self.width_mult != 1.0:
            raise UserError("ImageNet weights need 3-channel input and width_mult 1.0; drop those settings.")
        model = load_imagenet_model()
        self.features.load_state_dict(model.features.state_dict(), strict=True)
        return {"weight": model.classifier[1].weight.detach(), "bias": model.classifier[1].bias.detach()}
