"""``classify.list_models``: every registered model and head, with parameter counts."""
from __future__ import annotations

import inspect
from dataclasses import dataclass

REFERENCE_CHANNELS, REFERENCE_SIZE, REFERENCE_CLASSES, REFERENCE_FEATURES = 3, 32, 10, 512


@dataclass
class PluginInfo:
    family: str
    name: str
    source: str
    parameters: int | None  # None when it could not be built at the reference size
    description: str
    pretrained: tuple[str, ...] = ()


def _summary(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _backbone_parameters(name: str, size: int) -> int | None:
    """Counted on the meta device (VGG-16 would allocate 0.5 GB), on the CPU for plugins that refuse meta."""
    import torch

    from classify.network import build_backbone, parameter_count

    for device in ("meta", "cpu"):
        try:
            with torch.device(device):
                return parameter_count(build_backbone(name, REFERENCE_CHANNELS, size, {}))
        except Exception:  # a plugin that cannot build at the reference size still gets listed
            continue
    return None


def list_models() -> list[PluginInfo]:
    """Models counted at 3x32x32 input or their smallest size (feature extractor only); heads on 512
    features and 10 classes."""
    from classify.network import build_head, parameter_count
    from faceswap import registry

    found = []
    for name in registry.names("classifier_model"):
        factory = registry.get("classifier_model", name)
        count = _backbone_parameters(name, max(REFERENCE_SIZE, getattr(factory, "min_img_size", 1)))
        found.append(PluginInfo("classifier_model", name, registry.source("classifier_model", name), count,
                                _summary(factory), tuple(getattr(factory, "pretrained_weights", ()))
                                + (("torchvision weights file",) if getattr(factory, "weights_from_file", None) else ())))
    for name in registry.names("classifier_head"):
        factory = registry.get("classifier_head", name)
        try:
            count = parameter_count(build_head(name, REFERENCE_FEATURES, REFERENCE_CLASSES, {}))
        except Exception:
            count = None
        found.append(PluginInfo("classifier_head", name, registry.source("classifier_head", name), count, _summary(factory)))
    return found
