"""dlib's ResNet face descriptor (128-D, 99.38% on LFW per dlib): dlib's 5-point predictor
aligns each face box to a 150 px chip, and the network describes the chips in one batch.

Needs ``pip install 'faceswap-studio[identity]'`` (the dlib-bin wheel) and the assets
``dlib_face_descriptor`` and ``dlib_landmarks5`` (fetched on first use). CPU only here.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from faceswap.registry import register

CHIP_SIZE, CHIP_PADDING = 150, 0.25  # what the network was trained on (dlib's defaults)


@register("identity", "dlib")
class DlibFaceDescriptor:
    dims = 128
    same_person_distance = 0.6  # dlib's rule for this model

    def __init__(self, device: str = "auto"):
        from faceswap import assets
        from faceswap.identity.dlib_support import import_dlib, shape_predictor

        self._dlib = import_dlib()
        self._aligner = shape_predictor("dlib_landmarks5")
        self._network = self._dlib.face_recognition_model_v1(str(assets.ensure("dlib_face_descriptor")))

    def describe(self, images_bgr_uint8: Sequence[np.ndarray], boxes_xyxy: Sequence[np.ndarray]) -> np.ndarray:
        from faceswap.identity.dlib_support import rectangle, rgb_images

        if len(images_bgr_uint8) != len(boxes_xyxy):
            raise ValueError(f"{len(images_bgr_uint8)} images but {len(boxes_xyxy)} boxes")
        if not boxes_xyxy:
            return np.zeros((0, self.dims), np.float32)
        chips = [self._dlib.get_face_chip(rgb, self._aligner(rgb, rectangle(box)), size=CHIP_SIZE, padding=CHIP_PADDING)
                 for rgb, box in zip(rgb_images(images_bgr_uint8), boxes_xyxy)]
        return np.asarray(self._network.compute_face_descriptor(chips), np.float32).reshape(len(chips), self.dims)
