"""What a reader yields and reports: one decoded frame, and the facts about its source."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

SourceKind = Literal["video", "images", "image"]


@dataclass(frozen=True)
class VideoInfo:
    """Facts about a frame source, known before the first frame is read.

    ``width``/``height`` are of the frames as yielded, i.e. upright: ``rotation`` is the
    clockwise angle (0, 90, 180, 270) the container asks players to turn the stored picture,
    and the reader has already applied it. ``frame_count`` is exact when
    ``frame_count_exact``, otherwise estimated as duration x fps. ``fps`` is the average rate;
    ``variable_fps`` says the frame intervals differ, in which case use ``Frame.time``.
    """

    path: str
    kind: SourceKind
    width: int
    height: int
    fps: float
    variable_fps: bool
    frame_count: int
    frame_count_exact: bool
    rotation: int
    has_audio: bool
    duration: float


@dataclass(frozen=True)
class Frame:
    """One frame: its index in the source (0-based), presentation time in seconds from the first
    frame, the picture (HxWx3 uint8, BGR unless the reader was opened with rgb=True) and, for
    image sources, the file name."""

    index: int
    time: float
    image: np.ndarray
    name: str | None = None
