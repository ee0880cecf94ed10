"""A classifier is normalisation + a registered backbone + a registered head.

``ModelSpec`` says everything needed to rebuild one (it is what model.json holds besides the
weights), so evaluation, prediction and inspection need nothing but the run folder.
"""
from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from faceswap import registry
from faceswap.errors import UserError


@dataclass(frozen=True)
class ModelSpec:
    model: str
    head: str
    classes: tuple[str, ...]
    img_size: int
    channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    crop_ratio: float = 1.0
    model_options: dict[str, Any] = field(default_factory=dict)
    head_options: dict[str, Any] = field(default_factory=dict)
    pretrained: str | None = None
    transfer: str = "scratch"  # scratch | freeze | finetune

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ModelSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: tuple(v) if k in ("classes", "mean", "std") else v for k, v in values.items() if k in known}
        return cls(**values)


class Classifier(nn.Module):
    """Images (N, C, H, W) float in [0, 1] -> logits (N, classes); normalises inside."""

    def __init__(self, backbone: nn.Module, head: nn.Module, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)

    def features(self, images_NCHW: torch.Tensor) -> torch.Tensor:
        return self.backbone((images_NCHW - self.mean) / self.std)

    def forward(self, images_NCHW: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images_NCHW))


def accepted_options(factory: Callable, options: dict[str, Any]) -> dict[str, Any]:
    """The options that the factory's signature takes (all of them if it takes **kwargs)."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return dict(options)
    return {k: v for k, v in options.items() if k in parameters}


def build_backbone(name: str, channels: int, img_size: int, options: dict[str, Any]) -> nn.Module:
    factory = registry.get("classifier_model", name)
    min_size = getattr(factory, "min_img_size", 1)
    if img_size < min_size:
        raise UserError(f"Model '{name}' needs images of at least {min_size} px; pass --img-size {min_size} or more.")
    backbone = factory(in_channels=channels, img_size=img_size, **accepted_options(factory, options))
    if not isinstance(getattr(backbone, "feature_size", None), int):
        raise UserError(f"Classifier model '{name}' ({registry.source('classifier_model', name)}) has no int "
                        "feature_size; its plugin must set one.")
    return backbone


def build_head(name: str, in_features: int, num_classes: int, options: dict[str, Any]) -> nn.Module:
    factory = registry.get("classifier_head", name)
    return factory(in_features=in_features, num_classes=num_classes, **accepted_options(factory, options))


def build_classifier(spec: ModelSpec) -> Classifier:
    backbone = build_backbone(spec.model, spec.channels, spec.img_size, spec.model_options)
    head = build_head(spec.head, backbone.feature_size, len(spec.classes), spec.head_options)
    return Classifier(backbone, head, spec.mean, spec.std)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
