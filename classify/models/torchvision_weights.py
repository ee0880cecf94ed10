"""Loading torchvision state_dicts into backbones that use torchvision's parameter names.

AlexNet and VGG keep torchvision's ``features.N`` / ``classifier.N`` keys; the backbone stops
before the last linear layer (``classifier.6``), which becomes the head's linear layer, so a
torchvision file (``alexnet-owt-7be5be79.pth``, ``vgg16-397923af.pth``) fills backbone + head.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from faceswap.errors import UserError

HEAD_PREFIX = "classifier.6."


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state_dict from .safetensors or a pickle-free torch file (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"The weights file '{path}' does not exist; pass the path of a torchvision state_dict.")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # any decoding failure is the same user mistake: not a weights file
        raise UserError(f"'{path}' cannot be read as a state_dict ({type(error).__name__}); pass a .pth or "
                        ".safetensors file of torchvision weights.") from error
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise UserError(f"'{path}' holds no plain state_dict of tensors; pass a torchvision weights file.")
    return loaded


def load_torchvision_weights(backbone: nn.Module, path: str | Path, architecture: str) -> dict[str, torch.Tensor]:
    """Fill ``backbone`` from the file; returns the head's linear layer ``{"weight", "bias"}``.
    A file for another architecture (other keys or shapes) is one clear error, nothing loaded."""
    state_dict = read_state_dict(path)
    expected = {k: v.shape for k, v in backbone.state_dict().items()}
    head = {k[len(HEAD_PREFIX):]: v for k, v in state_dict.items() if k.startswith(HEAD_PREFIX)}
    body = {k: v for k, v in state_dict.items() if not k.startswith(HEAD_PREFIX)}
    missing = [k for k in expected if k not in body]
    unexpected = [k for k in body if k not in expected]
    wrong_shape = [k for k in expected if k in body and body[k].shape != expected[k]]
    if missing or unexpected or wrong_shape or set(head) != {"weight", "bias"}:
        found = (missing and f"{len(missing)} of its {len(expected)} tensors missing, e.g. {missing[0]}") or (unexpected and f"unexpected {unexpected[0]}") \
            or (wrong_shape and f"{wrong_shape[0]} is {tuple(body[wrong_shape[0]].shape)}, not "
                                f"{tuple(expected[wrong_shape[0]])}") or f"no {HEAD_PREFIX}weight/bias"
        raise UserError(f"'{path}' does not hold {architecture} weights ({found}); pass torchvision's {architecture} "
                        "state_dict for 3-channel input.")
    backbone.load_state_dict(body, strict=True)
    return head
