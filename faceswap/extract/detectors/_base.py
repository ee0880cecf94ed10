"""What every detector shares: its settings, its result type, non-maximum suppression."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceswap.extract.config import ExtractConfig


_DEFAULTS = ExtractConfig()  # the one source of defaults


@dataclass(frozen=True)
class DetectorSettings:
    score_threshold: float = _DEFAULTS.score_threshold
    min_face_size: int = _DEFAULTS.min_face_size  # shorter box side in frame pixels
    detect_size: int = _DEFAULTS.detect_size  # longer side of the detector input; 0 = full frame
    device: str = _DEFAULTS.device
    threads: int = _DEFAULTS.threads

    @classmethod
    def from_config(cls, config: ExtractConfig) -> "DetectorSettings":
        return cls(score_threshold=config.score_threshold, min_face_size=config.min_face_size,
                   detect_size=config.detect_size, device=config.device, threads=config.threads)


@dataclass
class Detection:
    box: np.ndarray  # (4,) x0, y0, x1, y1 in frame pixels
    score: float
    landmarks: np.ndarray  # (5, 2) eyes, nose, mouth corners in frame pixels (float32)

    @property
    def size(self) -> float:
        return float(min(self.box[2] - self.box[0], self.box[3] - self.box[1]))


def load_detector(name: str, settings: DetectorSettings):
    from faceswap.registry import get

    return get("detector", name)(settings)


def describe_detector(name: str, detector) -> str:
    """One line naming the detector, where it runs and with how many threads (for extract's log)."""
    describe = getattr(detector, "describe", None)
    return describe() if callable(describe) else f"{name} (device {detector.settings.device})"


def detection_scale(width: int, height: int, settings: DetectorSettings, smallest_detectable: float) -> float:
    """Factor that shrinks a frame so its longer side fits ``detect_size``, but never so far
    that a face of ``min_face_size`` falls below what the network can find, and never enlarges."""
    if settings.detect_size <= 0:
        return 1.0
    fit = settings.detect_size / max(width, height)
    keep_small_faces = smallest_detectable / max(settings.min_face_size, 1)
    return min(1.0, max(fit, keep_small_faces))


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Indices of the boxes kept by greedy non-maximum suppression, best first."""
    order = np.argsort(-scores)
    kept: list[int] = []
    while len(order):
        best, rest = order[0], order[1:]
        kept.append(int(best))
        order = rest[box_iou(boxes[best], boxes[rest]) <= iou_threshold]
    return kept


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (4,) box against (N, 4) boxes."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    intersection = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return intersection / np.maximum(area + areas - intersection, 1e-9)


def keep_large_enough(detections: list[Detection], settings: DetectorSettings) -> list[Detection]:
    return [d for d in detections if d.score >= settings.score_threshold and d.size >= settings.min_face_size]
