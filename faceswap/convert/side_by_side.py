"""Before|after comparison frames, for `convert --side-by-side` and `--preview`."""
from __future__ import annotations

import numpy as np


def compose(before_bgr_uint8: np.ndarray, after_bgr_uint8: np.ndarray, labels: bool = True) -> np.ndarray:
    """One frame twice as wide: the input on the left, the swapped output on the right."""
    import cv2

    pair = np.hstack([before_bgr_uint8, after_bgr_uint8])
    if labels:
        height, width = before_bgr_uint8.shape[:2]
        scale = max(0.4, height / 720)
        for text, x in (("before", 8), ("after", width + 8)):
            origin = (x, int(24 * scale) + 4)
            cv2.putText(pair, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(pair, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return pair
