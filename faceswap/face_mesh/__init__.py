"""The ``face_mesh`` plugin family: dense landmarks on an aligned face, the same points in the same
order on any face, so that convert can move the swapped face's eyelids, brows, lips, nose and
outline onto where the original face has them (``convert.shape_warp``).

A plugin is a class registered with ``@register("face_mesh", name)``, built as ``Mesh()``, with

- ``points(crops_NHWC_bgr_uint8) -> (points (N, K, 2) float32 crop pixels, found (N,) bool)``:
  K feature points per square aligned crop, and whether a face was there at all (``found`` False:
  the points mean nothing).
"""
from __future__ import annotations

DEFAULT_MESH = "mediapipe"
NO_MESH = "none"


def load_mesh(name: str = DEFAULT_MESH):
    """The named face mesh, or None for ``none``."""
    from faceswap.registry import get

    return None if name == NO_MESH else get("face_mesh", name)()


__all__ = ["DEFAULT_MESH", "NO_MESH", "load_mesh"]
