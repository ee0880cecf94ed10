"""FAN 68-point landmarks through the optional face-alignment package.

Needs ``pip install 'faceswap-studio[fan]'`` and the 2DFAN4 weights in
$TORCH_HOME/hub/checkpoints (face-alignment downloads them there when online). On the CPU the
model runs without torch.compile, which would only add start-up time.
"""
from __future__ import annotations

import numpy as np

from faceswap.registry import register


@register("aligner", "fan68")
class Fan68Aligner:
    landmark_count = 68

    def __init__(self, device: str = "auto"):
        from faceswap.errors import UserError
        from faceswap.extract._face_alignment import (FAN_WEIGHTS, checkpoints_dir, import_face_alignment,
                                                      landmarks_type_2d, require_weights)
        from faceswap.runtime import pick_device

        face_alignment = import_face_alignment("fan68")
        require_weights("fan68", FAN_WEIGHTS, "2DFAN4-11f355bf06.pth.tar or 2DFAN4_1.6-c827573f02.zip")
        torch_device = pick_device(device)
        options = {"device": str(torch_device), "flip_input": False, "face_detector": "sfd"}
        if torch_device.type == "cpu":
            options["compile"] = False  # not accepted by face-alignment < 1.4; retried without below
        # FaceAlignment also builds its S3FD detector (unused: boxes come from our detector), so
        # that file must be present too.
        require_weights("fan68", "s3fd", "s3fd-619a316812.pth")
        try:
            try:
                self._model = face_alignment.FaceAlignment(landmarks_type_2d(face_alignment), **options)
            except TypeError:
                options.pop("compile", None)
                self._model = face_alignment.FaceAlignment(landmarks_type_2d(face_alignment), **options)
        except OSError as error:  # a download attempt when offline
            raise UserError(f"face-alignment could not load its weights ({error}); put the 2DFAN4 and s3fd files in {checkpoints_dir()}.") from error

    def landmarks(self, frame_bgr_uint8: np.ndarray, detections: list) -> list[np.ndarray]:
        if not detections:
            return []
        boxes = [np.append(np.asarray(d.box, dtype=np.float32), d.score) for d in detections]
        found = self._model.get_landmarks_from_image(frame_bgr_uint8[:, :, ::-1].copy(), detected_faces=boxes)
        return [np.asarray(points[:, :2], dtype=np.float32) for points in (found or [])]
