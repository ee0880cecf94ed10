"""Linear head: optional dropout, then one linear layer (torchvision's classifier layout)."""
from __future__ import annotations

from torch import nn

from faceswap.registry import register


@register("classifier_head", "linear")
def linear_head(in_features: int, num_classes: int, dropout: float = 0.0) -> nn.Sequential:
    """Linear head: dropout then one linear layer (indices as in torchvision's classifier)."""
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(in_features, num_classes))
