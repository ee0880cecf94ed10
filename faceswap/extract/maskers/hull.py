"""Convex hull of 68 landmarks with the forehead added (needs the fan68 aligner)."""
from __future__ import annotations

import numpy as np

from faceswap.align.mask import hull_mask
from faceswap.align.template import Template
from faceswap.errors import UserError
from faceswap.registry import register


@register("masker", "hull")
class HullMasker:
    needs_landmarks = 68

    def mask(self, landmarks_crop_xy: np.ndarray, template: Template, size: int) -> np.ndarray:
        if len(landmarks_crop_xy) != 68:
            raise UserError(f"The hull masker needs 68 landmarks but got {len(landmarks_crop_xy)}; use --aligner fan68 or --masker outline.")
        return hull_mask(landmarks_crop_xy, size)
