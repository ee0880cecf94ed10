"""The measures behind the quality numbers, on arrays: eye and mouth aspect ratios and the
normalised error of 68 landmarks; head pose from five landmarks and the detail in a face live
in faceswap.align.face_measures (curate sorts faces by them too) and are re-exported here.
Thresholds and verdicts are in quality.py."""
from __future__ import annotations

import numpy as np

from faceswap.align.face_measures import SHARPNESS_CROP, face_detail, head_pose

__all__ = ["SHARPNESS_CROP", "eye_aspect_ratio", "face_detail", "head_pose", "landmark_error", "mouth_aspect_ratio"]

_RIGHT_EYE, _LEFT_EYE = list(range(36, 42)), list(range(42, 48))  # iBUG 300-W, 0-based
_OUTER_EYE_CORNERS = (36, 45)


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
