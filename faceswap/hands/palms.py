"""Palms in a square image: MediaPipe's palm detector (an SSD) and the decoding of its anchors.

The detector sees 192x192 RGB in [0, 1] and scores 2016 anchors (24x24 cells with 2 anchors at
stride 8, 12x12 with 6 at stride 16); each row holds a box (centre, size) and seven palm points
as offsets from its anchor, in input pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INPUT_SIZE = 192
MIN_SCORE = 0.3  # low: a palm facing the camera over a face scores 0.4-0.8; the landmark model confirms it
OVERLAP = 0.3  # boxes overlapping more than this (IoU) are one palm


@dataclass(frozen=True)
class Palm:
    centre: np.ndarray  # (2,) in the detector's input pixels
    size: np.ndarray  # (2,) width, height
    points: np.ndarray  # (7, 2): wrist, index, middle, ring and little finger roots, two thumb points
    score: float

    def box(self) -> np.ndarray:
        return np.concatenate([self.centre - self.size / 2, self.centre + self.size / 2])


def anchor_centres() -> np.ndarray:
    """(2016, 2) anchor centres in [0, 1], in the detector's output order."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = INPUT_SIZE // stride
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], -1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)


def decode(regressors: np.ndarray, logits: np.ndarray, anchors: np.ndarray) -> list[Palm]:
    """Palms scoring at least ``MIN_SCORE`` from one image's (2016, 18) regressors and (2016,) logits,
    best first, overlapping ones dropped."""
    scores = 1 / (1 + np.exp(-np.clip(logits, -100, 100)))
    palms: list[Palm] = []
    for index in np.flatnonzero(scores >= MIN_SCORE)[np.argsort(-scores[scores >= MIN_SCORE])]:
        row, anchor = regressors[index], anchors[index] * INPUT_SIZE
        palm = Palm(centre=row[:2] + anchor, size=np.abs(row[2:4]), points=row[4:18].reshape(7, 2) + anchor,
                    score=float(scores[index]))
        if all(box_overlap(palm.box(), kept.box()) <= OVERLAP for kept in palms):
            palms.append(palm)
    return palms


def box_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
