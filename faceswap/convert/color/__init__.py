"""Colour matchers: make the swapped face take the colour of the face it replaces.

A colour matcher is the ``color_matcher`` plugin family. A plugin is a class built with
``Matcher(smoothing=0.8)`` and called once per face and frame::

    corrected_bgr_uint8 = matcher(swapped_bgr_uint8, original_bgr_uint8, mask_float01, track_id)

where both images are the same aligned crop (HxWx3 uint8, BGR) and ``mask_float01`` (HxW)
marks the face. Statistics are taken inside the mask only. Statistics that flicker from frame
to frame make the face flicker, so built-ins keep an exponential moving average per track
(``smoothing`` is the weight of the past; 0 = this frame only). Subclass
``TemporalColorMatcher`` and define ``statistics`` and ``transfer`` (and, to work in another
colour space, ``to_working``/``from_working``) to add one.
"""
from __future__ import annotations

import numpy as np

from faceswap import registry

MASK_THRESHOLD = 0.5  # pixels above this count as face for statistics
MIN_FACE_PIXELS = 16  # fewer than this inside the mask: leave the colours alone


class TemporalColorMatcher:
    """Per-track smoothed statistics; subclasses say what the statistics are and how to apply them."""

    def __init__(self, smoothing: float = 0.8):
        self.smoothing = float(smoothing)
        self._state: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def to_working(self, image_bgr_uint8: np.ndarray) -> np.ndarray:
        """The image in the colour space the statistics are taken in (default: as given)."""
        return image_bgr_uint8

    def from_working(self, image: np.ndarray) -> np.ndarray:
        """Back to HxWx3 uint8 BGR."""
        return image

    def statistics(self, image: np.ndarray, inside: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def transfer(self, image: np.ndarray, swapped_stats: np.ndarray, original_stats: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def reset(self) -> None:
        self._state.clear()

    def __call__(self, swapped_bgr_uint8: np.ndarray, original_bgr_uint8: np.ndarray,
                 mask_float01: np.ndarray, track_id: int = 0) -> np.ndarray:
        inside = mask_float01 > MASK_THRESHOLD
        if int(inside.sum()) < MIN_FACE_PIXELS:
            return swapped_bgr_uint8
        swapped = self.to_working(swapped_bgr_uint8)
        current = (self.statistics(swapped, inside), self.statistics(self.to_working(original_bgr_uint8), inside))
        previous = self._state.get(track_id)
        if previous is not None and self.smoothing > 0:
            current = tuple(self.smoothing * old + (1 - self.smoothing) * new for old, new in zip(previous, current))
        self._state[track_id] = current
        return self.from_working(self.transfer(swapped, *current))


def create(name: str, smoothing: float = 0.8):
    """Build the registered colour matcher ``name``."""
    return registry.get("color_matcher", name)(smoothing=smoothing)
