"""Histogram matching per BGR channel: the swapped face's value distribution takes the original's."""
from __future__ import annotations

import numpy as np

from faceswap.convert.color import TemporalColorMatcher
from faceswap.registry import register

LEVELS = np.arange(256, dtype=np.float64)


@register("color_matcher", "histogram")
class HistogramMatch(TemporalColorMatcher):
    """Statistics: (3, 256) cumulative distributions per channel inside the mask (smoothing averages CDFs)."""

    def statistics(self, image_bgr_uint8: np.ndarray, inside: np.ndarray) -> np.ndarray:
        pixels = image_bgr_uint8[inside]
        cdfs = []
        for channel in range(3):
            counts = np.bincount(pixels[:, channel], minlength=256).astype(np.float64)
            cdfs.append(np.cumsum(counts) / counts.sum())
        return np.stack(cdfs)

    def transfer(self, image_bgr_uint8: np.ndarray, swapped_stats: np.ndarray, original_stats: np.ndarray) -> np.ndarray:
        import cv2

        channels = []
        for channel in range(3):
            # value v sits at quantile cdf_swapped(v); take the original's value at that quantile
            target_cdf, keep = np.unique(original_stats[channel], return_index=True)
            lookup = np.interp(swapped_stats[channel], target_cdf, LEVELS[keep])
            lut = np.clip(lookup + 0.5, 0, 255).astype(np.uint8)
            channels.append(cv2.LUT(image_bgr_uint8[..., channel], lut))
        return np.dstack(channels)
