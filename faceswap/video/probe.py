"""Facts about a video stream that PyAV can tell without decoding it: rate, frame count,
whether the frame intervals vary. Each helper says how it knows and falls back when the
container does not say (mp4/mov carry a full sample index; mkv, ts and raw streams may not)."""
from __future__ import annotations

from fractions import Fraction

import numpy as np


def _index(stream) -> list | None:
    """The demuxer's index when it lists every sample (mp4/mov do), else None."""
    entries = stream.index_entries
    if entries is None or len(entries) < 2 or len(entries) != (stream.frames or -1):
        return None
    return list(entries)


def _index_steps(stream) -> np.ndarray | None:
    """Timestamp steps between consecutive samples of a complete index (decode timestamps, so
    every sample counts, including those an edit list cuts)."""
    entries = _index(stream)
    if entries is None:
        return None
    return np.diff(np.sort(np.fromiter((e.timestamp for e in entries), dtype=np.int64)))


def is_variable_rate(stream) -> bool:
    """True when frame intervals differ: from the index where complete, else when the average
    rate disagrees with the nominal (r_frame_rate) by more than 1 %."""
    steps = _index_steps(stream)
    if steps is not None:
        return bool(steps.max() - steps.min() > 1)  # one tick of slack for rounded timestamps
    nominal, average = stream.base_rate, stream.average_rate
    if not nominal or not average:
        return False
    return abs(float(average) / float(nominal) - 1) > 0.01


def frame_rate(stream) -> Fraction:
    """Frames per second. Constant rate: the index's exact step (e.g. 24000/1001), else the
    nominal rate; variable rate: the container's average. 25 when nothing says."""
    steps = _index_steps(stream)
    if steps is not None and not is_variable_rate(stream) and stream.time_base and np.median(steps) > 0:
        return 1 / (int(np.median(steps)) * stream.time_base)
    candidates = (stream.average_rate, stream.guessed_rate, stream.base_rate)
    if not is_variable_rate(stream):
        candidates = (stream.guessed_rate, stream.base_rate, stream.average_rate)
    for rate in candidates:
        if rate and rate > 0:
            return Fraction(rate)
    return Fraction(25)


def stream_duration(container, stream) -> float:
    """Seconds of video: the stream's own duration, else the container's."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return 0.0


def frame_count(container, stream) -> tuple[int, bool]:
    """(count, exact): the index's samples less those an edit list cuts where the index is
    complete, the header's frame count where there is one, else duration x rate (estimated)."""
    entries = _index(stream)
    if entries is not None:
        return sum(not e.is_discard for e in entries), True
    if stream.frames and stream.frames > 0:
        return int(stream.frames), True
    return int(round(stream_duration(container, stream) * float(frame_rate(stream)))), False
