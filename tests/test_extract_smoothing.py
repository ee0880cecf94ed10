"""One-Euro smoothing along tracks: less jitter, no visible lag."""
from __future__ import annotations

import numpy as np
import pytest

from faceswap.extract import FaceFinder
from faceswap.extract.smoothing import OneEuroFilter
from faceswap.video import open_reader


@pytest.fixture(scope="module")
def trajectories(asset):
    """(raw, smoothed) landmarks (T, 5, 2) of the one face in single_face.mp4."""
    finder = FaceFinder()
    raw, smoothed = [], []
    with open_reader(asset("video_single_face")) as reader:
        for _, faces in finder.find(reader):
            assert len(faces) == 1
            raw.append(faces[0].raw_landmarks)
            smoothed.append(faces[0].landmarks)
    return np.stack(raw).astype(np.float64), np.stack(smoothed).astype(np.float64)


def mean_movement(points):
    return float(np.linalg.norm(np.diff(points, axis=0), axis=2).mean())


def velocity_lag(smoothed, raw):
    """Peak of the cross-correlation of the two mean-point velocities, refined by a parabola."""
    a, b = np.diff(raw.mean(axis=1), axis=0), np.diff(smoothed.mean(axis=1), axis=0)
    lags = range(-3, 4)
    scores = np.array([(a[:len(a) - d] * b[d:]).sum() if d >= 0 else (a[-d:] * b[:len(b) + d]).sum() for d in lags])
    i = int(np.argmax(scores))
    if 0 < i < len(scores) - 1:
        y0, y1, y2 = scores[i - 1:i + 2]
        return lags[i] + 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
    return float(lags[i])


def mean_jerk(points):
    """Mean size of the second difference: detector noise, little of the real motion."""
    return float(np.linalg.norm(np.diff(points, n=2, axis=0), axis=2).mean())


def test_smoothing_reduces_frame_to_frame_movement(trajectories):
    raw, smoothed = trajectories
    assert mean_movement(smoothed) < 0.85 * mean_movement(raw)  # real motion stays, the jitter goes
    assert mean_jerk(smoothed) < 0.6 * mean_jerk(raw)
    # and stays on the face: never far from the detector's points
    assert np.abs(smoothed - raw).max() < 6.0


def test_smoothing_lags_real_motion_by_less_than_a_frame(trajectories):
    raw, smoothed = trajectories
    assert np.ptp(raw.mean(axis=1), axis=0).max() > 10  # the head really moves in this clip
    assert abs(velocity_lag(smoothed, raw)) < 0.5  # well under one frame


def test_one_euro_follows_fast_motion_and_calms_jitter():
    rng = np.random.default_rng(0)
    one_euro = OneEuroFilter(min_cutoff=1.0, beta=30.0)
    still = [one_euro(np.array([[100.0, 100.0]]) + rng.normal(0, 1.0, (1, 2)), i / 30, 100.0) for i in range(60)]
    assert np.std(np.concatenate(still[10:]), axis=0).max() < 0.6  # from 1.0 px of noise
    moving = [one_euro(np.array([[100.0 + 5 * i, 100.0]]), (60 + i) / 30, 100.0) for i in range(30)]
    assert 100.0 + 5 * 29 - moving[-1][0, 0] < 5.0  # under one frame of travel behind
