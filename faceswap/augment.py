"""Batch image augmentation on the training device, shared by the training tasks (swap, segment).

Everything draws from an explicit ``torch.Generator`` so that a task can replay the exact
randomness of an interrupted run, and works on whole NCHW batches so a GPU never waits for
the CPU.
"""
from __future__ import annotations

import math

import torch


def uniform(count: int, spread: float, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """(count,) uniform in [-spread, spread]."""
    return (torch.rand(count, generator=generator, device=device) * 2 - 1) * spread


def random_affine(count: int, rotation_deg: float, zoom: float, shift: float, flip: float,
                  generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """(N, 2, 3) affine matrices from output to input normalised coordinates (for affine_grid)."""
    angle = uniform(count, math.radians(rotation_deg), generator, device)
    scale = 1 + uniform(count, zoom, generator, device)
    offset = torch.stack([uniform(count, 2 * shift, generator, device) for _ in range(2)], dim=1)
    mirror = torch.where(torch.rand(count, generator=generator, device=device) < flip, -1.0, 1.0)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    return torch.stack([torch.stack([cos * mirror, -sin, offset[:, 0]], dim=1),
                        torch.stack([sin * mirror, cos, offset[:, 1]], dim=1)], dim=1)


def colour_jitter(images: list[torch.Tensor], strength: float, generator: torch.Generator) -> list[torch.Tensor]:
    """The same random brightness, contrast and saturation change (+- ``strength``) for each
    list entry (N3HW RGB in [0, 1])."""
    if strength == 0:
        return images
    first = images[0]
    count, device = len(first), first.device
    brightness, contrast, saturation = (1 + uniform(count, strength, generator, device).view(-1, 1, 1, 1) for _ in range(3))
    jittered = []
    for image in images:
        gray = 0.299 * image[:, 0:1] + 0.587 * image[:, 1:2] + 0.114 * image[:, 2:3]  # no weights tensor copied to the device
        image = gray + saturation * (image - gray)
        mean = gray.mean((2, 3), keepdim=True)
        image = mean + contrast * (image - mean)
        jittered.append((image * brightness).clamp(0, 1))
    return jittered
