"""The ``hands`` plugin family: hands in a frame, so that convert keeps them in front of the swapped face.

A hand over a face is skin over skin; a segmenter taught from the user's own frames learns that
it is face (those frames are labelled from colour). A hand finder instead knows hands. A plugin is
a class registered with ``@register("hands", name)``, built as ``Finder()`` (OpenCV's thread
count is the command's, set by ``runtime.set_threads``), with

- ``find(image_bgr_uint8, face_boxes_xyxy) -> list[np.ndarray]``: one (21, 2) float array of hand
  landmarks in image pixels per hand near any of the given faces (MediaPipe's 21-point order:
  wrist, then four joints per finger from the thumb to the little finger).

``drawing.hands_mask`` turns those points into a mask in any aligned crop.
"""
from __future__ import annotations

DEFAULT_FINDER = "mediapipe"
NO_FINDER = "none"


def load_finder(name: str = DEFAULT_FINDER):
    """The named hand finder, or None for ``none``."""
    from faceswap.registry import get

    return None if name == NO_FINDER else get("hands", name)()


__all__ = ["DEFAULT_FINDER", "NO_FINDER", "load_finder"]
