"""Measures of one face, on arrays, for every stage above align: its head pose from five
landmarks, the detail (sharpness) inside it, and where its detector box lies in its aligned crop.

Used by convert's quality numbers and by `faceswap faces sort`.
"""
from __future__ import annotations

import numpy as np

from faceswap.align.transform import transform_points

SHARPNESS_CROP = 128  # aligned crop size the detail is measured at (eye distance ~34 px)

# A generic head: eye centres, nose tip, mouth corners (mm; x right, y down, z away from the camera).
_HEAD_5 = np.array([[-32.0, -36.0, 28.0], [32.0, -36.0, 28.0], [0.0, 0.0, 0.0], [-25.0, 32.0, 24.0], [25.0, 32.0, 24.0]])


def head_pose(five_xy: np.ndarray, width: int, height: int) -> np.ndarray:
    """(yaw, pitch, roll) in degrees from five landmarks, for a camera of focal length ``width``."""
    import cv2

    camera = np.array([[width, 0, width / 2], [0, width, height / 2], [0, 0, 1]], np.float64)
    _, rotation, _ = cv2.solvePnP(_HEAD_5, np.asarray(five_xy, np.float64), camera, None, flags=cv2.SOLVEPNP_SQPNP)
    pitch, yaw, roll = cv2.RQDecomp3x3(cv2.Rodrigues(rotation)[0])[0]
    return np.array([yaw, pitch, roll])


def face_detail(image_bgr: np.ndarray, five_xy: np.ndarray) -> float:
    """Laplacian variance inside the five-landmark box of the face's aligned SHARPNESS_CROP crop."""
    import cv2

    from faceswap.align.template import Template
    from faceswap.align.transform import frame_to_crop, warp_to_crop

    template = Template(size=SHARPNESS_CROP)
    crop = warp_to_crop(image_bgr, frame_to_crop(five_xy, template), template.size)
    points = template.points()
    (x0, y0), (x1, y1) = np.floor(points.min(axis=0)).astype(int), np.ceil(points.max(axis=0)).astype(int)
    grey = cv2.cvtColor(crop[y0:y1 + 1, x0:x1 + 1], cv2.COLOR_BGR2GRAY).astype(np.float32)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def box_in_crop(box_xyxy: np.ndarray, frame_to_crop_2x3: np.ndarray) -> np.ndarray:
    """(4,) float32 x0 y0 x1 y1: a face box in frame pixels, mapped into its aligned crop (the
    bounds of its mapped corners; a crop may cut the box off, so values can lie outside it)."""
    x0, y0, x1, y1 = (float(value) for value in box_xyxy[:4])
    corners = transform_points(np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]), frame_to_crop_2x3)
    return np.concatenate([corners.min(axis=0), corners.max(axis=0)]).astype(np.float32)
