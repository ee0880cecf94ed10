"""VGG (Simonyan and Zisserman, 2014): VGG-11 and VGG-16 with torchvision's layer indices, and a
small variant.

``vgg11``/``vgg16`` are torchvision's networks up to the last linear layer (4096 features):
their state_dict keys are torchvision's (``features.N``, ``classifier.0``/``classifier.3``) and
``classifier.6`` is the head, so torchvision's ImageNet files load as they are. ``vgg_small``
keeps VGG's plan (stacks of 3x3 convolutions, halving by 2x2 max-pools, two fully connected
layers) with batch norm and CPU widths for 32-64 px images.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from classify.models.torchvision_weights import load_torchvision_weights
from faceswap.backbones.mobilenet_v2 import IMAGENET_MEAN, IMAGENET_STD
from faceswap.registry import register

Plan = tuple[int | str, ...]  # output widths of 3x3 convolutions, "M" for a 2x2 max-pool
VGG11: Plan = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
VGG16: Plan = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
VGG_SMALL: Plan = (16, "M", 32, "M", 64, 64, "M", 128, 128, "M")


def make_layers(plan: Plan, in_channels: int, batch_norm: bool) -> nn.Sequential:
    """torchvision's ``make_layers``: conv (+ BN) + ReLU per width, a max-pool per "M"."""
    layers: list[nn.Module] = []
    for step in plan:
        if step == "M":
            layers.append(nn.MaxPool2d(2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, int(step), 3, padding=1))
        layers += [nn.BatchNorm2d(int(step)), nn.ReLU(inplace=True)] if batch_norm else [nn.ReLU(inplace=True)]
        in_channels = int(step)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG: 3x3 conv stacks and max-pools - avgpool - fc/ReLU/dropout x2; torchvision's names."""

    def __init__(self, plan: Plan, in_channels: int, batch_norm: bool, pooled: int, hidden: int, dropout: float):
        super().__init__()
        self.features = make_layers(plan, in_channels, batch_norm)
        last_width = [step for step in plan if step != "M"][-1]
        self.avgpool = nn.AdaptiveAvgPool2d((pooled, pooled))
        self.classifier = nn.Sequential(  # torchvision's classifier.0-5; its classifier.6 is our head
            nn.Linear(int(last_width) * pooled * pooled, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
        )
        self.feature_size = hidden
        self._init_weights()

    def _init_weights(self) -> None:
        """torchvision's initialisation (Kaiming for convolutions), which lets VGG train from scratch;
        its N(0, 0.01) for the 4096-wide linear layers would shrink a narrow network's signal, so
        narrower ones keep PyTorch's default there."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear) and self.feature_size >= 4096:
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, images_NCHW: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(images_NCHW)), 1))


class _TorchvisionVGG(VGG):
    min_img_size = 32  # five 2x2 max-pools
    weights_from_file = "a torchvision state_dict file, e.g. vgg16-397923af.pth"
    pretrained_normalisation = {"file": {"mean": IMAGENET_MEAN, "std": IMAGENET_STD}}
    plan: Plan = VGG16
    architecture = "VGG"

    def __init__(self, in_channels: int = 3, img_size: int = 224, dropout: float = 0.5):
        super().__init__(self.plan, in_channels, False, 7, 4096, dropout)

    def load_pretrained(self, name: str | Path) -> dict[str, torch.Tensor]:
        """Load torchvision's weights for this VGG from a file; returns the head's linear layer."""
        return load_torchvision_weights(self, name, self.architecture)


@register("classifier_model", "vgg11")
class VGG11Net(_TorchvisionVGG):
    """VGG-11 as in torchvision (133M parameters with the head): 4096 features; loads its weights."""

    plan, architecture = VGG11, "VGG-11"


@register("classifier_model", "vgg16")
class VGG16Net(_TorchvisionVGG):
    """VGG-16 as in torchvision (138M parameters with the head): 4096 features; loads its weights."""

    plan, architecture = VGG16, "VGG-16"


@register("classifier_model", "vgg_small")
class VGGSmall(VGG):
    """VGG's plan at CPU size for 32-64 px: 6 conv3x3+BN, widths 16-32-64-128, 256 features."""

    min_img_size = 16  # four 2x2 max-pools

    def __init__(self, in_channels: int = 3, img_size: int = 32, dropout: float = 0.5):
        super().__init__(VGG_SMALL, in_channels, True, 2, 256, dropout)
