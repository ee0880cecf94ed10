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
    needs_image = False

    def __init__(self, **_options):
        pass

    def masks(self, crops_bgr_NHWC_uint8, landmarks_crop_xy: list[np.ndarray], template: Template, size: int) -> np.ndarray:
        short = [len(points) for points in landmarks_crop_xy if len(points) < 68]
        if short:
            raise UserError(f"The hull masker needs 68 landmarks but got {short[0]}; use --aligner fan68 or --masker outline.")
        return np.stack([hull_mask(points[:68], size) for points in landmarks_crop_xy]) if landmarks_crop_xy \
            else np.zeros((0, size, size), np.uint8)
