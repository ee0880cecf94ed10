"""The colour matcher that leaves the swapped face as the model drew it."""
from __future__ import annotations

import numpy as np

from faceswap.registry import register


@register("color_matcher", "none")
class NoColorMatch:
    def __init__(self, smoothing: float = 0.0):
        self.smoothing = smoothing

    def reset(self) -> None:
        pass

    def __call__(self, swapped_bgr_uint8: np.ndarray, original_bgr_uint8: np.ndarray,
                 mask_float01: np.ndarray, track_id: int = 0) -> np.ndarray:
        return swapped_bgr_uint8
