"""The detector's own five points (eyes, nose, mouth corners): free, and enough to align."""
from __future__ import annotations

import numpy as np

from faceswap.registry import register


@register("aligner", "five_point")
class FivePointAligner:
    landmark_count = 5

    def __init__(self, device: str = "auto"):
        self.device = device

    def landmarks(self, frame_bgr_uint8: np.ndarray, detections: list) -> list[np.ndarray]:
        return [np.asarray(d.landmarks, dtype=np.float32) for d in detections]
