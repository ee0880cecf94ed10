"""A hand as a mask: its 21 landmarks drawn as a palm, a wrist and fingers of a real finger's width.

Widths come from the hand itself: the gap between the index and middle finger roots is about one
finger's width, at any distance from the camera.
"""
from __future__ import annotations

import numpy as np

FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
PALM = (0, 1, 2, 5, 9, 13, 17)
FINGER_WIDTH = 1.0  # times the index-to-middle root gap
THUMB_WIDTH = 1.2
WRIST_LENGTH = 0.8  # the forearm drawn beyond the wrist, times the wrist-to-middle-root length


def hands_mask(hands_xy: list[np.ndarray], matrix_image_to_crop: np.ndarray, size: int) -> np.ndarray | None:
    """(size, size) uint8 mask (255 = hand) of the hands in an aligned crop, or None when none reaches it."""
    import cv2

    if not hands_xy:
        return None
    mask = np.zeros((size, size), np.uint8)
    scale = 16  # fixed-point drawing: sub-pixel ends, smooth edges
    for points in hands_xy:
        crop = np.asarray(points, np.float64) @ matrix_image_to_crop[:, :2].T + matrix_image_to_crop[:, 2]
        gap = float(np.linalg.norm(crop[5] - crop[9]))
        if gap < 0.5:
            continue
        wrist_direction = crop[0] - crop[9]
        forearm = crop[0] + WRIST_LENGTH * wrist_direction
        palm_width = float(np.linalg.norm(crop[5] - crop[17])) + gap
        cv2.fillConvexPoly(mask, np.round(cv2.convexHull(crop[list(PALM)].astype(np.float32)).reshape(-1, 2) * scale).astype(np.int32),
                           255, cv2.LINE_AA, shift=4)
        _bone(mask, crop[0], forearm, palm_width, scale)
        for finger in FINGERS:
            width = gap * (THUMB_WIDTH if finger[0] == 1 else FINGER_WIDTH)
            joints = [crop[0] if finger[0] == 1 else crop[finger[0]]] + [crop[i] for i in finger]
            for start, end in zip(joints[:-1], joints[1:]):
                _bone(mask, start, end, width, scale)
    return mask if mask.any() else None


def _bone(mask: np.ndarray, start: np.ndarray, end: np.ndarray, width: float, scale: int) -> None:
    import cv2

    thickness = max(int(round(width)), 1)
    cv2.line(mask, tuple(int(v) for v in np.round(start * scale)), tuple(int(v) for v in np.round(end * scale)), 255,
             thickness, cv2.LINE_AA, shift=4)
