"""What every detector shares: its settings, loading and the helpers that size frames and filter faces.

The result type (``Detection``) and the box geometry (``nms``, ``box_iou``) are public, in
``faceswap.extract.faces``."""
from __future__ import annotations

from dataclasses import dataclass

from faceswap.extract.config import ExtractConfig
from faceswap.extract.faces import Detection

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


def keep_large_enough(detections: list[Detection], settings: DetectorSettings) -> list[Detection]:
    return [d for d in detections if d.score >= settings.score_threshold and d.size >= settings.min_face_size]
