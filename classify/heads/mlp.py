"""MLP head: one hidden layer with an activation and dropout."""
from __future__ import annotations

from torch import nn

from classify.models._layers import make_activation
from faceswap.registry import register


@register("classifier_head", "mlp")
def mlp_head(in_features: int, num_classes: int, hidden: int = 256, activation: str = "relu",
             dropout: float = 0.0) -> nn.Sequential:
    """MLP head: linear - activation - dropout - linear."""
    return nn.Sequential(
        nn.Linear(in_features, hidden), make_activation(activation), nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    )
