"""AlexNet (Krizhevsky et al., 2012) with torchvision's layer indices, and a small variant.

``alexnet`` is torchvision's AlexNet up to its last linear layer (4096 features): its
state_dict keys are torchvision's (``features.0.weight`` ... ``classifier.4.bias``) and
``classifier.6`` is the head, so torchvision's ImageNet file loads as is. ``alexnet_small``
keeps the shape of the network (5 convolutions, 3 max-pools, 2 dropout + fully connected
layers, ReLU, no batch norm) at widths and a first stride that train on a CPU at 32-64 px.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from classify.models.torchvision_weights import load_torchvision_weights
from faceswap.backbones.mobilenet_v2 import IMAGENET_MEAN, IMAGENET_STD
from faceswap.registry import register

WEIGHTS_FILE_NOTE = "a torchvision state_dict file, e.g. alexnet-owt-7be5be79.pth"


class AlexNet(nn.Module):
    """AlexNet: 5 conv (ReLU, 3 max-pools) - avgpool - dropout/fc/ReLU x2; torchvision's names."""

    def __init__(self, in_channels: int, widths: tuple[int, int, int, int, int], first_kernel: int, first_stride: int,
                 pool_kernel: int, pooled: int, hidden: int, dropout: float):
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, first_kernel, stride=first_stride, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(pool_kernel, stride=2),
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(pool_kernel, stride=2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(pool_kernel, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((pooled, pooled))
        self.classifier = nn.Sequential(  # torchvision's classifier.0-5; its classifier.6 is our head
            nn.Dropout(dropout), nn.Linear(c5 * pooled * pooled, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
        )
        self.feature_size = hidden
        for module in self.features:  # PyTorch's default init fades through 5 ReLU convolutions without batch norm
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, images_NCHW: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(images_NCHW)), 1))


@register("classifier_model", "alexnet")
class AlexNetImageNet(AlexNet):
    """AlexNet as in torchvision (61M parameters with the head): 4096 features; loads its weights."""

    min_img_size = 63  # torchvision's min_size: below it the last max-pool has nothing to pool
    weights_from_file = WEIGHTS_FILE_NOTE
    pretrained_normalisation = {"file": {"mean": IMAGENET_MEAN, "std": IMAGENET_STD}}

    def __init__(self, in_channels: int = 3, img_size: int = 224, dropout: float = 0.5):
        super().__init__(in_channels, (64, 192, 384, 256, 256), 11, 4, 3, 6, 4096, dropout)

    def load_pretrained(self, name: str | Path) -> dict[str, torch.Tensor]:
        """Load torchvision's AlexNet weights from a file; returns the head's linear layer."""
        return load_torchvision_weights(self, name, "AlexNet")


@register("classifier_model", "alexnet_small")
class AlexNetSmall(AlexNet):
    """AlexNet's layout at CPU size for 32-64 px: widths 32-64-96-64-64, first stride img_size//32, 256 features."""

    min_img_size = 16

    def __init__(self, in_channels: int = 3, img_size: int = 32, dropout: float = 0.5):
        # a 5x5 first convolution and 2x2 pools: an 11x11 stride-4 start would leave a 32 px image 7 px wide;
        # like AlexNet's stride 4 at 224 px, the first stride grows with the input (1 below 64 px, 2 at 64-127)
        first_stride = min(4, max(1, img_size // 32))
        super().__init__(in_channels, (32, 64, 96, 64, 64), 5, first_stride, 2, 4, 256, dropout)
