"""The template's face outline, bent onto the face's own five points (works with any aligner)."""
from __future__ import annotations

import numpy as np

from faceswap.align.mask import outline_mask
from faceswap.align.template import Template
from faceswap.registry import register


@register("masker", "outline")
class OutlineMasker:
    needs_landmarks = 5

    def mask(self, landmarks_crop_xy: np.ndarray, template: Template, size: int) -> np.ndarray:
        return outline_mask(landmarks_crop_xy, template, size)
