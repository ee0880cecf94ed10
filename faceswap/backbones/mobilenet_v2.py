"""MobileNetV2 (Sandler et al., 2018), written here with torchvision's parameter names.

``MobileNetV2`` is the whole ImageNet network; its state_dict keys are exactly those of
``torchvision.models.mobilenet_v2`` (``features.N...``, ``classifier.1...``), so torchvision's
weights and the offline ``mobilenet_v2_imagenet`` asset load into it with ``strict=True``.
``classify`` registers a backbone of it; the swap's perceptual loss reads its early stages.
"""
from __future__ import annotations

import torch
from torch import nn

# expansion t, output channels c, repeats n, first stride s (table 2 of the paper)
INVERTED_RESIDUAL_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                              (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _make_divisible(value: float, divisor: int = 8) -> int:
    """Round channel counts to a multiple of 8 without dropping more than 10%."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _conv_bn_relu6(in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """1x1 expansion, 3x3 depthwise, linear 1x1 projection; a skip when shapes allow."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = int(round(in_channels * expand_ratio))
        self.use_res_connect = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(_conv_bn_relu6(in_channels, hidden, kernel=1))
        layers += [
            _conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


def build_features(in_channels: int = 3, width_mult: float = 1.0) -> tuple[nn.Sequential, int]:
    """The ``features`` stack and its output channel count."""
    channels = _make_divisible(32 * width_mult)
    last_channels = _make_divisible(1280 * max(1.0, width_mult))
    layers: list[nn.Module] = [_conv_bn_relu6(in_channels, channels, stride=2)]
    for expand_ratio, out, repeats, first_stride in INVERTED_RESIDUAL_SETTINGS:
        out_channels = _make_divisible(out * width_mult)
        for index in range(repeats):
            layers.append(InvertedResidual(channels, out_channels, first_stride if index == 0 else 1, expand_ratio))
            channels = out_channels
    layers.append(_conv_bn_relu6(channels, last_channels, kernel=1))
    return nn.Sequential(*layers), last_channels


def init_weights(module: nn.Module) -> None:
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight, mode="fan_out")
        elif isinstance(layer, nn.BatchNorm2d):
            nn.init.ones_(layer.weight)
            nn.init.zeros_(layer.bias)
        elif isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0, 0.01)
            nn.init.zeros_(layer.bias)


class MobileNetV2(nn.Module):
    """The full network with torchvision's names: ``features`` then ``classifier`` (dropout, linear)."""

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2, in_channels: int = 3):
        super().__init__()
        self.features, channels = build_features(in_channels, width_mult)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, num_classes))
        init_weights(self)

    def forward(self, images_NCHW: torch.Tensor) -> torch.Tensor:
        pooled = nn.functional.adaptive_avg_pool2d(self.features(images_NCHW), 1).flatten(1)
        return self.classifier(pooled)


def load_imagenet_model() -> MobileNetV2:
    """MobileNetV2 with the offline ImageNet-1k weights (torchvision IMAGENET1K_V1), loaded strictly."""
    from faceswap import assets

    weights_path = assets.ensure("mobilenet_v2_imagenet")
    state_dict = torch.load(weights_path, map_location="cpu", weights_only=True)
    model = MobileNetV2()
    model.load_state_dict(state_dict, strict=True)
    return model
