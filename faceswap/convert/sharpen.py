"""Unsharp masking of the swapped face after it is scaled up to the blend size.

A model face is drawn at its own resolution (64 or 128 px) and stretched to the face's size in
the frame, which softens it further; sharpening at the scale of one model pixel brings back
edges the model did draw (lids, lips, hairline) without inventing detail. This is the post-
processing faceswap and DeepFaceLab also offer at convert time.
"""
from __future__ import annotations

import numpy as np

MAX_AMOUNT = 3.0


def unsharp(face_bgr_uint8: np.ndarray, amount: float, model_pixel: float) -> np.ndarray:
    """``face + amount * (face - blur(face))``, the blur's sigma one model pixel in this image's pixels."""
    import cv2

    if amount <= 0:
        return face_bgr_uint8
    face = face_bgr_uint8.astype(np.float32)
    blurred = cv2.GaussianBlur(face, (0, 0), sigmaX=max(0.5, model_pixel))
    return np.clip(face + amount * (face - blurred) + 0.5, 0, 255).astype(np.uint8)
