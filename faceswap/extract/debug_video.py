"""--debug-video: the input with boxes, landmarks, track ids, the mask outline and the hands found
drawn, for a quick look."""
from __future__ import annotations

import numpy as np

_COLOURS = [(0, 200, 0), (0, 140, 255), (255, 80, 0), (200, 0, 200), (0, 220, 220), (255, 255, 0)]


def draw_faces(image_bgr: np.ndarray, faces: list, mask_outlines: list | None = None, hands: list | None = None) -> np.ndarray:
    """A copy of the frame with each face's box, landmarks, track id, (when given) the outline of
    its mask, as (K, 1, 2) int32 contours in frame pixels, and the hands' (21, 2) points as skeletons."""
    import cv2

    from faceswap.hands.drawing import FINGERS

    canvas = image_bgr.copy()
    for points in hands or []:
        points = np.round(np.asarray(points, np.float64)).astype(np.int32)
        for finger in FINGERS:
            cv2.polylines(canvas, [points[[0, *finger]][:, None]], False, (255, 200, 0), 2, cv2.LINE_AA)
        for x, y in points:
            cv2.circle(canvas, (int(x), int(y)), 2, (255, 255, 255), -1)
    for contours in mask_outlines or []:
        cv2.polylines(canvas, contours, True, (255, 255, 255), 1, cv2.LINE_AA)
    for face in faces:
        colour = _COLOURS[face.track_id % len(_COLOURS)]
        x0, y0, x1, y1 = (int(round(float(v))) for v in face.box)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, 2)
        for x, y in face.landmarks:
            cv2.circle(canvas, (int(round(float(x))), int(round(float(y)))), 2, (0, 0, 255), -1)
        cv2.putText(canvas, f"#{face.track_id} {face.score:.2f}", (x0, max(12, y0 - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    return canvas


class DebugVideo:
    """Context manager around the project's VideoWriter; frames of another size are resized."""

    def __init__(self, path: str, width: int, height: int, fps: float):
        from faceswap.video import VideoWriter

        self.size = (width, height)
        self._writer = VideoWriter(path, width, height, fps or 25.0, preset="veryfast")

    def __enter__(self) -> "DebugVideo":
        self._writer.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._writer.__exit__(*exc)

    def write(self, image_bgr: np.ndarray, faces: list, finder=None, hands: list | None = None) -> None:
        import cv2

        outlines = [mask_outline(finder, image_bgr, face) for face in faces] if finder is not None else None
        canvas = draw_faces(image_bgr, faces, outlines, hands)
        if canvas.shape[1::-1] != self.size:
            canvas = cv2.resize(canvas, self.size, interpolation=cv2.INTER_AREA)
        self._writer.write(canvas)


def mask_outline(finder, image_bgr: np.ndarray, face) -> list[np.ndarray]:
    """The contours of the face's mask (as the finder's masker draws it), mapped into the frame."""
    import cv2

    from faceswap.align.transform import invert, transform_points

    mask = finder.mask(face, finder.crop(image_bgr, face))
    contours, _ = cv2.findContours((mask > 127).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    to_frame = invert(face.matrix)
    return [np.round(transform_points(contour[:, 0].astype(np.float64), to_frame)).astype(np.int32)[:, None] for contour in contours]
