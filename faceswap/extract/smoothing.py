"""One-Euro filter (Casiez, Roussel, Vogel 2012) for landmarks along a track.

A low-pass filter whose cutoff rises with speed: at rest it removes detector jitter (low
cutoff), in motion it follows closely (high cutoff, little lag). Speed is measured in face
widths per second so one setting suits small and large faces. The filter is causal, so
convert can use it on a live stream.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class OneEuroState:
    value: np.ndarray  # (K, 2) last filtered points
    velocity: np.ndarray  # (K, 2) last filtered velocity, pixels per second
    time: float


class OneEuroFilter:
    def __init__(self, min_cutoff: float = 1.0, beta: float = 30.0, derivative_cutoff: float = 1.0):
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.derivative_cutoff = derivative_cutoff
        self.state: OneEuroState | None = None

    def __call__(self, points: np.ndarray, time: float, face_width: float) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        state = self.state
        if state is None or state.value.shape != points.shape or time <= state.time:
            self.state = OneEuroState(points, np.zeros_like(points), time)
            return points.astype(np.float32)
        elapsed = time - state.time
        raw_velocity = (points - state.value) / elapsed
        velocity = _blend(raw_velocity, state.velocity, _alpha(self.derivative_cutoff, elapsed))
        speed = float(np.linalg.norm(velocity, axis=1).mean()) / max(face_width, 1.0)
        cutoff = self.min_cutoff + self.beta * speed
        value = _blend(points, state.value, _alpha(cutoff, elapsed))
        self.state = OneEuroState(value, velocity, time)
        return value.astype(np.float32)

    def to_dict(self) -> dict | None:
        if self.state is None:
            return None
        return {"value": self.state.value.tolist(), "velocity": self.state.velocity.tolist(), "time": self.state.time}

    def load(self, data: dict | None) -> None:
        self.state = None if data is None else OneEuroState(np.asarray(data["value"]), np.asarray(data["velocity"]), float(data["time"]))


class TrackSmoother:
    """One filter per track id; filters of tracks not seen for a while are dropped."""

    def __init__(self, min_cutoff: float, beta: float, forget_after: float = 1.0):
        self.min_cutoff, self.beta, self.forget_after = min_cutoff, beta, forget_after
        self.filters: dict[int, OneEuroFilter] = {}

    def smooth(self, track_id: int, points: np.ndarray, time: float, face_width: float) -> np.ndarray:
        self._forget_old(time)
        one_euro = self.filters.setdefault(track_id, OneEuroFilter(self.min_cutoff, self.beta))
        if one_euro.state is not None and time - one_euro.state.time > self.forget_after:
            one_euro.state = None  # a track that comes back after a gap starts afresh
        return one_euro(points, time, face_width)

    def _forget_old(self, time: float) -> None:
        stale = [k for k, f in self.filters.items() if f.state is not None and time - f.state.time > 10 * self.forget_after]
        for track_id in stale:
            del self.filters[track_id]

    def state(self) -> dict:
        return {str(k): f.to_dict() for k, f in self.filters.items()}

    def restore(self, state: dict) -> None:
        self.filters = {}
        for key, data in state.items():
            self.filters[int(key)] = OneEuroFilter(self.min_cutoff, self.beta)
            self.filters[int(key)].load(data)


def _alpha(cutoff: float, elapsed: float) -> float:
    tau = 1.0 / (2 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / elapsed)


def _blend(new: np.ndarray, old: np.ndarray, alpha: float) -> np.ndarray:
    return alpha * new + (1 - alpha) * old
