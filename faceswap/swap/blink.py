"""Synthetic blinks: close a training face's eyes with a warp, so that a decoder learns closed eyes
its person's footage may lack (a talking-head clip holds few blinks, and a swap draws only what B's
faces show).

Each eye is modelled on the template: an almond whose upper lid arches ``UPPER_LID`` eye distances
above the eye centre and lower lid ``LOWER_LID`` below it, ``EYE_HALF_WIDTH`` either side. Closing
it by ``t`` moves the upper lid down to ``t`` of the way to the lower lid: the lid skin between the
brow side (``LID_SKIN`` above the lid) and the new lid line is stretched over the opening, so the
upper lash line ends where the lid now is and the iris above it is covered. Nothing changes
outside the almonds and the lid skin above them, and the field is an offset on grid_sample's
sampling points, so it folds into the augmentation's single resample.
"""
from __future__ import annotations

import torch

from faceswap.align.template import LEFT_EYE, REFERENCE_POINTS_5, RIGHT_EYE, Template

# In eye distances; wide enough for most open eyes (an adult's eye is ~0.45 eye distances wide).
EYE_HALF_WIDTH = 0.26
UPPER_LID = 0.10
LOWER_LID = 0.08
LID_SKIN = 0.22
LASH_BAND = 0.05  # the lash line's band: moved down whole, not stretched


def eye_centres(template: Template) -> torch.Tensor:
    """(2, 2) the template's eye centres in grid_sample's normalised coordinates (x, y in [-1, 1])."""
    points = torch.as_tensor(REFERENCE_POINTS_5[[LEFT_EYE, RIGHT_EYE]], dtype=torch.float32)
    return 2 * template.coverage * points


def blink_offsets(grid: torch.Tensor, centres: torch.Tensor, closure: torch.Tensor) -> torch.Tensor:
    """Offsets (N, H, W, 2) to add to ``grid`` (N, H, W, 2, normalised crop coordinates) that close
    the eyes at ``centres`` (2, 2) by ``closure`` (N,) in [0, 1] (0: unchanged, 1: shut)."""
    eye_distance = torch.linalg.vector_norm(centres[1] - centres[0])
    x, y = grid[..., 0:1], grid[..., 1:2]  # (N, H, W, 1), compared with each eye on the last axis
    u = (x - centres[:, 0]) / (EYE_HALF_WIDTH * eye_distance)
    arch = (1 - u * u).clamp(min=0)  # 1 at the eye's middle, 0 at and beyond its corners
    upper = centres[:, 1] - UPPER_LID * eye_distance * arch
    lower = centres[:, 1] + LOWER_LID * eye_distance * arch
    top = upper - LID_SKIN * eye_distance
    t = closure.view(-1, 1, 1, 1)
    lid = upper + t * (lower - upper)  # where the upper lid's edge is drawn
    # The lash band moves down whole onto the new lid line; the skin between it and ``top`` stretches.
    band = LASH_BAND * eye_distance
    stretched = top + (y - top) * (upper - band - top) / (lid - band - top)
    source = torch.where(y >= lid - band, y - (lid - upper), stretched)
    shift = torch.where((y >= top) & (y <= lid), source - y, torch.zeros_like(y)).sum(dim=-1)
    return torch.stack([torch.zeros_like(shift), shift], dim=-1)


def random_closure(count: int, probability: float, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """(N,) closures: 0 for most faces, and for a ``probability`` share a closure in [0.7, 1]
    (shut or nearly: the state a viewer reads as closed)."""
    chosen = torch.rand(count, generator=generator, device=device) < probability
    amount = 0.7 + 0.3 * torch.rand(count, generator=generator, device=device)
    return torch.where(chosen, amount, torch.zeros_like(amount))
