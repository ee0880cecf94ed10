"""MediaPipe's face mesh (468 points from a 192 px face), run by OpenCV from a TFLite file read
out of the ``mediapipe`` wheel (Apache-2.0); mediapipe itself is never installed.

The model expects a face roughly filling its square, which is what an aligned crop is. Of its 468
points convert needs the ones that carry expression and shape: the eyelids, brows, lips, the nose
ridge and wings, and the face outline (indices from MediaPipe's own connection lists).
"""
from __future__ import annotations

import numpy as np

from faceswap.registry import register

ASSET = "mediapipe_face_mesh"
INPUT_SIZE = 192
MIN_PRESENCE = 0.5  # the model's own "a face is here" score, after the sigmoid
BATCH = 16  # crops per network call: OpenCV runs 16 at 1.8 ms each on 2 threads, 64 at 2.6 ms

RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398)
RIGHT_BROW = (46, 53, 52, 65, 55, 70, 63, 105, 66, 107)
LEFT_BROW = (276, 283, 282, 295, 285, 300, 293, 334, 296, 336)
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409,
        78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415)
NOSE = (1, 2, 4, 5, 6, 19, 94, 168, 197, 195, 98, 327)
OUTLINE = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
           152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
FEATURE_POINTS = RIGHT_EYE + LEFT_EYE + RIGHT_BROW + LEFT_BROW + LIPS + NOSE + OUTLINE


@register("face_mesh", "mediapipe")
class MediaPipeFaceMesh:
    """Batched: the crops of one call go through the network ``BATCH`` at a time."""

    def __init__(self):
        import cv2

        from faceswap import assets

        self.net = cv2.dnn.readNetFromTFLite(str(assets.ensure(ASSET)))
        self.outputs = self.net.getUnconnectedOutLayersNames()

    def points(self, crops_NHWC_bgr_uint8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        crops = np.asarray(crops_NHWC_bgr_uint8)
        chunks = [self._points(crops[start:start + BATCH]) for start in range(0, len(crops), BATCH)]
        return np.concatenate([points for points, _ in chunks]), np.concatenate([found for _, found in chunks])

    def _points(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        size = crops.shape[1]
        inputs = [cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA if size > INPUT_SIZE else cv2.INTER_LINEAR)
                  for crop in crops]
        # NCHW RGB in [0, 1], as MediaPipe's graph feeds it
        self.net.setInput(cv2.dnn.blobFromImages(inputs, scalefactor=1 / 255.0, swapRB=True))
        landmarks, presence = (np.asarray(output) for output in self.net.forward(self.outputs))
        if landmarks.size != len(crops) * 468 * 3:  # the outputs' order is the importer's, not ours
            landmarks, presence = presence, landmarks
        mesh = landmarks.reshape(len(crops), 468, 3)[:, FEATURE_POINTS, :2] * (size / INPUT_SIZE)
        found = 1.0 / (1.0 + np.exp(-presence.reshape(len(crops)))) >= MIN_PRESENCE
        return mesh.astype(np.float32), found
