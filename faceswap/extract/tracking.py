"""Link faces across frames into tracks, and follow faces between detector frames.

``Tracker`` matches each frame's faces to the live tracks by box overlap and landmark
distance (greedy, best pair first) and gives every face a track id; a track that is not seen
for ``max_missing`` frames ends. ``follow_faces`` moves last frame's faces into this frame with
sparse optical flow, for ``--every N``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceswap.extract.faces import Detection, box_iou

MIN_IOU = 0.2
MAX_LANDMARK_DISTANCE = 0.5  # mean landmark distance, in face widths, above which faces never match


@dataclass
class Track:
    track_id: int
    box: np.ndarray  # (4,) last seen box
    landmarks: np.ndarray  # (K, 2) last seen raw landmarks
    last_seen: int  # frame position


class Tracker:
    def __init__(self, max_missing: int = 12):
        self.max_missing = max_missing
        self.tracks: list[Track] = []
        self.next_id = 0

    def update(self, position: int, boxes: list[np.ndarray], landmarks: list[np.ndarray]) -> list[int]:
        """Track ids for this frame's faces (in the given order); updates the tracks."""
        self.tracks = [t for t in self.tracks if position - t.last_seen <= self.max_missing]
        pairs = self._candidate_pairs(boxes, landmarks)
        ids: list[int | None] = [None] * len(boxes)
        used_tracks: set[int] = set()
        for _, face, track_index in pairs:
            if ids[face] is None and track_index not in used_tracks:
                ids[face] = self.tracks[track_index].track_id
                used_tracks.add(track_index)
                track = self.tracks[track_index]
                track.box, track.landmarks, track.last_seen = boxes[face], landmarks[face], position
        for face, track_id in enumerate(ids):
            if track_id is None:
                ids[face] = self.next_id
                self.tracks.append(Track(self.next_id, boxes[face], landmarks[face], position))
                self.next_id += 1
        return ids  # type: ignore[return-value]

    def _candidate_pairs(self, boxes, landmarks) -> list[tuple[float, int, int]]:
        """(cost, face index, track index) for every plausible pairing, cheapest first."""
        pairs = []
        for face, (box, points) in enumerate(zip(boxes, landmarks)):
            if not self.tracks:
                break
            ious = box_iou(np.asarray(box, np.float64), np.stack([t.box for t in self.tracks]))
            width = max(float(box[2] - box[0]), 1.0)
            for track_index, track in enumerate(self.tracks):
                distance = _landmark_distance(points, track.landmarks) / width
                if ious[track_index] >= MIN_IOU or distance <= MAX_LANDMARK_DISTANCE:
                    pairs.append((distance - ious[track_index], face, track_index))
        return sorted(pairs)

    def state(self) -> dict:
        return {"next_id": self.next_id, "tracks": [
            {"track_id": t.track_id, "box": t.box.tolist(), "landmarks": t.landmarks.tolist(), "last_seen": t.last_seen}
            for t in self.tracks]}

    def restore(self, state: dict) -> None:
        self.next_id = int(state["next_id"])
        self.tracks = [Track(int(t["track_id"]), np.asarray(t["box"], np.float32), np.asarray(t["landmarks"], np.float32), int(t["last_seen"]))
                       for t in state["tracks"]]


def _landmark_distance(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) != len(b):
        return float("inf")
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b), axis=1).mean())


def follow_faces(previous_gray: np.ndarray, current_gray: np.ndarray, faces: list[Detection]) -> list[Detection]:
    """Move faces from the previous frame into this one with pyramidal Lucas-Kanade flow.

    Each face's landmarks plus a grid of points inside its box are tracked; a similarity fitted
    to the points that were found (RANSAC) moves the box and landmarks. Faces whose points are
    lost are dropped; the next detector frame brings them back.
    """
    import cv2

    followed = []
    for face in faces:
        points = _points_to_follow(face)
        moved, status, _ = cv2.calcOpticalFlowPyrLK(previous_gray, current_gray, points, None, winSize=(21, 21), maxLevel=3)
        good = status[:, 0] == 1
        if good.sum() < 6:
            continue
        matrix, _ = cv2.estimateAffinePartial2D(points[good], moved[good], method=cv2.RANSAC, ransacReprojThreshold=2.0)
        if matrix is None:
            continue
        corners = np.array([[face.box[0], face.box[1]], [face.box[2], face.box[3]]], np.float32)
        box = (corners @ matrix[:, :2].T + matrix[:, 2]).reshape(-1)
        landmarks = np.asarray(face.landmarks, np.float32) @ matrix[:, :2].T.astype(np.float32) + matrix[:, 2].astype(np.float32)
        followed.append(Detection(box=box.astype(np.float32), score=face.score, landmarks=landmarks.astype(np.float32)))
    return followed


def _points_to_follow(face: Detection) -> np.ndarray:
    x0, y0, x1, y1 = face.box
    grid_x, grid_y = np.meshgrid(np.linspace(x0, x1, 6)[1:-1], np.linspace(y0, y1, 6)[1:-1])
    grid = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)
    return np.vstack([face.landmarks, grid]).astype(np.float32).reshape(-1, 1, 2)
