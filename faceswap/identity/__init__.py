"""The ``identity`` plugin family: who a face is, as a descriptor vector.

An identity plugin is a class registered with ``@register("identity", name)``, built as
``Describer(device: str = "auto")``, with

- ``dims``: the length of a descriptor;
- ``same_person_distance``: the Euclidean distance below which two descriptors are taken to be
  the same person (the model's own rule, e.g. 0.6 for dlib's ResNet);
- ``describe(images_bgr_uint8, boxes_xyxy) -> np.ndarray (N, dims) float32``: one descriptor
  per (image, face box) pair, boxes in that image's pixels (a detector's box is enough; the
  plugin aligns the face itself). Images may repeat, one entry per face. Work is batched.

Optional dependencies are imported when a plugin is built, and a missing one is a
``UserError`` naming the extra to install. ``load_describer(name)`` builds one by name.
"""
from __future__ import annotations

DEFAULT_DESCRIBER = "dlib"


def load_describer(name: str = DEFAULT_DESCRIBER, device: str = "auto"):
    from faceswap.registry import get

    return get("identity", name)(device)
