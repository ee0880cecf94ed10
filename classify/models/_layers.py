"""Building blocks shared by the built-in classifier models."""
from __future__ import annotations

from torch import nn

from faceswap.errors import UserError

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
}


def make_activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise UserError(f"Unknown activation '{name}'; choose one of {', '.join(ACTIVATIONS)}.")
    return ACTIVATIONS[name]()
