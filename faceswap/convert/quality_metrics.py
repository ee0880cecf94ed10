"""The measures behind the quality numbers, on arrays: eye and mouth aspect ratios and the
normalised error of 68 landmarks, head pose from five landmarks, and the detail in a face.
Thresholds and verdicts are in quality.py."""
from __future__ import annotations

import numpy as np

SHARPNESS_CROP = 128  # aligned crop size the detail is measured at (eye distance ~34 px)

_RIGHT_EYE, _LEFT_EYE = list(range(36, 42)), list(range(42, 48))  # iBUG 300-W, 0-based
_OUTER_EYE_CORNERS = (36, 45)
# A generic head: eye centres, nose tip, mouth corners (mm; x right, y down, z away from the camera).
_HEAD_5 = np.array([[-32.0, -36.0, 28.0], [32.0, -36.0, 28.0], [0.0, 0.0, 0.0], [-25.0, 32.0, 24.0], [25.0, 32.0, 24.0]])


def eye_aspect_ratio(landmarks68: np.ndarray) -> float:
    """Mean of both eyes' (|p2-p6| + |p3-p5|) / (2 |p1-p4|) (Soukupova & Cech 2016); ~0 when closed."""
    def one(eye: list[int]) -> float:
        p = landmarks68[eye]
        return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * max(np.linalg.norm(p[0] - p[3]), 1e-6)))
    return (one(_RIGHT_EYE) + one(_LEFT_EYE)) / 2


def mouth_aspect_ratio(landmarks68: np.ndarray) -> float:
    """Inner-lip opening over mouth width: three vertical gaps (61-67, 62-66, 63-65) over 60-64."""
    p = landmarks68
    gaps = sum(np.linalg.norm(p[top] - p[bottom]) for top, bottom in ((61, 67), (62, 66), (63, 65)))
    return float(gaps / (3 * max(np.linalg.norm(p[60] - p[64]), 1e-6)))


def landmark_error(output68: np.ndarray, reference68: np.ndarray) -> float:
    """Mean point distance over the reference's outer-eye-corner distance (300-W NME)."""
    inter_ocular = max(float(np.linalg.norm(reference68[_OUTER_EYE_CORNERS[1]] - reference68[_OUTER_EYE_CORNERS[0]])), 1e-6)
    return float(np.linalg.norm(np.asarray(output68, np.float64) - reference68, axis=1).mean() / inter_ocular)


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
