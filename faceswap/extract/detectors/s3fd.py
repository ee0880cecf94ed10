"""S3FD through the optional face-alignment package, with FAN-free five points.

S3FD gives boxes only; the five points are placed from the box with the template so that the
five_point aligner still works, but pair this detector with the fan68 aligner for real
landmarks. Needs ``pip install 'faceswap-studio[fan]'`` and s3fd-619a316812.pth in
$TORCH_HOME/hub/checkpoints.
"""
from __future__ import annotations

import numpy as np

from faceswap.extract.detectors._base import DetectorSettings, keep_large_enough
from faceswap.extract.faces import Detection
from faceswap.registry import register

# Where the five points sit in an S3FD box, as fractions of its width and height (typical frontal face).
_POINTS_IN_BOX = np.array([[0.33, 0.42], [0.67, 0.42], [0.5, 0.6], [0.36, 0.78], [0.64, 0.78]], dtype=np.float32)


@register("detector", "s3fd")
class S3FDDetector:
    landmark_count = 5

    def __init__(self, settings: DetectorSettings):
        from faceswap.extract._face_alignment import S3FD_WEIGHTS, import_face_alignment, require_weights
        from faceswap.runtime import pick_device

        import_face_alignment("s3fd")
        require_weights("s3fd", S3FD_WEIGHTS, "s3fd-619a316812.pth")
        from face_alignment.detection.sfd.sfd_detector import SFDDetector

        self.settings = settings
        self._detector = SFDDetector(device=str(pick_device(settings.device)), filter_threshold=settings.score_threshold)

    def describe(self) -> str:
        """Which detector runs where, for extract's start-up log line."""
        return f"s3fd on torch {self._detector.device}, threads {self.settings.threads or 'default'}"

    def detect(self, frames_bgr_uint8: list[np.ndarray]) -> list[list[Detection]]:
        results = []
        for frame in frames_bgr_uint8:
            raw = self._detector.detect_from_image(frame[:, :, ::-1].copy())
            detections = []
            for x0, y0, x1, y1, score in raw:
                box = np.array([x0, y0, x1, y1], dtype=np.float32)
                size = np.array([x1 - x0, y1 - y0], dtype=np.float32)
                detections.append(Detection(box=box, score=float(score), landmarks=box[:2] + _POINTS_IN_BOX * size))
            results.append(keep_large_enough(detections, self.settings))
        return results
