"""The extract stage's face types, and the box geometry they share.

``Detection`` is what a detector plugin finds in a frame; ``FoundFace`` is what ``FaceFinder``
yields once the face is tracked, smoothed and aligned. Arrays are in frame pixels unless named
otherwise. Detectors, the tracker, the finder and outside code (benchmarks, tests, third-party
plugins) import them from here; this module imports nothing from the extract stage itself.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceswap.align.alignments import FaceRecord


@dataclass
class Detection:
    """One face a detector found: a box, a confidence and five landmarks."""

    box: np.ndarray  # (4,) x0, y0, x1, y1
    score: float
    landmarks: np.ndarray  # (5, 2) float32: eyes, nose, mouth corners

    @property
    def size(self) -> float:
        """The shorter side of the box."""
        return float(min(self.box[2] - self.box[0], self.box[3] - self.box[1]))


@dataclass
class FoundFace:
    """One face in one frame, tracked and aligned."""

    box: np.ndarray  # (4,) x0, y0, x1, y1
    score: float
    landmarks: np.ndarray  # (K, 2) float32, smoothed along the track when smoothing is on
    raw_landmarks: np.ndarray  # (K, 2) float32, as the aligner gave them
    track_id: int
    matrix: np.ndarray  # (2, 3) float64, frame -> aligned crop of the finder's template size

    def record(self, face_file: str, mask_file: str) -> FaceRecord:
        return FaceRecord(box=[round(float(v), 2) for v in self.box], score=round(self.score, 4),
                          landmarks=np.round(self.landmarks.astype(np.float64), 3).tolist(), track_id=self.track_id,
                          matrix=self.matrix.tolist(), face_file=face_file, mask_file=mask_file)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (4,) box against (N, 4) boxes, as (N,) float64."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    intersection = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return intersection / np.maximum(area + areas - intersection, 1e-9)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Indices of the (N, 4) boxes kept by greedy non-maximum suppression, best first."""
    order = np.argsort(-scores)
    kept: list[int] = []
    while len(order):
        best, rest = order[0], order[1:]
        kept.append(int(best))
        order = rest[box_iou(boxes[best], boxes[rest]) <= iou_threshold]
    return kept
