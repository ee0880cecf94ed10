"""Mean and standard deviation transfer in Lab colour space (Reinhard et al. 2001)."""
from __future__ import annotations

import numpy as np

from faceswap.convert.color import TemporalColorMatcher
from faceswap.registry import register

MIN_STD = 1e-3


@register("color_matcher", "mean_std_lab")
class MeanStdLab(TemporalColorMatcher):
    """Statistics: (2, 3) array of per-channel Lab mean and std inside the mask."""

    def to_working(self, image_bgr_uint8: np.ndarray) -> np.ndarray:
        import cv2

        return cv2.cvtColor(image_bgr_uint8.astype(np.float32) * (1 / 255.0), cv2.COLOR_BGR2LAB)

    def from_working(self, lab: np.ndarray) -> np.ndarray:
        import cv2

        lab[..., 0] = np.clip(lab[..., 0], 0, 100)
        bgr = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
        return np.clip(bgr * 255.0 + 0.5, 0, 255).astype(np.uint8)

    def statistics(self, lab: np.ndarray, inside: np.ndarray) -> np.ndarray:
        pixels = lab[inside]
        return np.stack([pixels.mean(axis=0), pixels.std(axis=0)])

    def transfer(self, lab: np.ndarray, swapped_stats: np.ndarray, original_stats: np.ndarray) -> np.ndarray:
        scale = (original_stats[1] / np.maximum(swapped_stats[1], MIN_STD)).astype(np.float32)
        shift = (original_stats[0] - swapped_stats[0] * scale).astype(np.float32)
        return lab * scale + shift
