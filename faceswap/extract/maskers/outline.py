"""The template's face outline, bent onto the face's own five points (works with any aligner)."""
from __future__ import annotations

import numpy as np

from faceswap.align.mask import outline_mask
from faceswap.align.template import Template
from faceswap.registry import register


@register("masker", "outline")
class OutlineMasker:
    needs_landmarks = 5
    needs_image = False

    def __init__(self, **_options):
        pass

    def masks(self, crops_bgr_NHWC_uint8, landmarks_crop_xy: list[np.ndarray], template: Template, size: int) -> np.ndarray:
        return np.stack([outline_mask(points, template, size) for points in landmarks_crop_xy]) if landmarks_crop_xy \
            else np.zeros((0, size, size), np.uint8)
