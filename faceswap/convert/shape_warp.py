"""Keep the original's expression (and, in part, its face shape): move the swapped face's features
towards the original's.

The model draws B's eyes, brows, mouth and jaw where B has them for that pose, and with B's
openness: a closed eye comes out half open, a wide smile narrower, B's longer chin below hers. A
face mesh run on both crops says where each feature point is in the original (A's crop) and in
the swap. How far apart they are has two parts:

- a steady part, the same from frame to frame: B's face shape against A's (eye spacing, nose
  length, jaw). It is part of who B is, so by default only half of it is taken away (``shape``).
- what changes from frame to frame: A's expression the swap did not follow (shut eyes, a wider
  smile). All of it is taken away by default (``expression``).

The steady part is the running mean of the point moves per face track (over ``MEAN_FRAMES`` at
most, so it follows a long video slowly); a picture has no track, so its moves are all steady. A
smooth displacement field (a Gaussian radial-basis fit of the moves, which fades to nothing away
from the face) then warps the swap. A face the mesh cannot find in either crop is left as drawn.
"""
from __future__ import annotations

import functools

import numpy as np

SIGMA = 0.06  # reach of one point's move, in crop widths: wide enough to carry an eyelid, not the whole face
SMOOTHING = 0.05  # ridge term of the fit: neighbouring points that disagree are averaged, not obeyed
MAX_MOVE = 0.08  # a point moves at most this many crop widths (a wrong mesh cannot tear the face)
GRID = 32  # the field is fitted on a GRID x GRID lattice and scaled up: it is smooth at that scale
MEAN_FRAMES = 250  # the steady part averages the moves over this many frames at most (10 s at 25 fps)


def displacement(landing_points: np.ndarray, moves: np.ndarray, size: int) -> np.ndarray:
    """(size, size, 2) float32: for each output pixel, how far away (x, y) to sample the swap, so that
    what sits at ``landing_points + moves`` in the swap lands on ``landing_points``."""
    import cv2

    moves = np.asarray(moves, np.float64).copy()
    _cap(moves, size)
    sigma = SIGMA * size
    weights = np.linalg.solve(_kernel(landing_points, landing_points, sigma) + SMOOTHING * np.eye(len(landing_points)), moves)
    lattice = np.linspace(0, size - 1, GRID)
    grid_x, grid_y = np.meshgrid(lattice, lattice)
    field = _kernel(np.stack([grid_x.ravel(), grid_y.ravel()], 1), landing_points, sigma) @ weights
    _cap(field, size)  # the fit may overshoot between points
    return cv2.resize(field.reshape(GRID, GRID, 2).astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)


def _cap(moves: np.ndarray, size: int) -> None:
    length = np.linalg.norm(moves, axis=1, keepdims=True)
    moves *= np.minimum(1.0, MAX_MOVE * size / np.maximum(length, 1e-9))


def _kernel(points_a: np.ndarray, points_b: np.ndarray, sigma: float) -> np.ndarray:
    a, b = np.asarray(points_a, np.float64), np.asarray(points_b, np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2.0 * (a @ b.T)  # one matrix product, no (A, B, 2) temporary
    return np.exp(np.maximum(squared, 0.0) * (-0.5 / (sigma * sigma)))


@functools.lru_cache(maxsize=4)
def _pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    grid_y, grid_x = np.mgrid[0:size, 0:size].astype(np.float32)
    return grid_x, grid_y


def warp(image: np.ndarray, field: np.ndarray) -> np.ndarray:
    """``image`` (H, W[, C]) resampled through ``displacement``'s field (edges repeat, never black)."""
    import cv2

    grid_x, grid_y = _pixel_grid(image.shape[0])  # built once per crop size, not per face
    return cv2.remap(image, grid_x + field[..., 0], grid_y + field[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class ShapeKeeper:
    """Warps batches of swapped faces towards their originals' features, with a running steady part
    per face track. Call ``apply`` in frame order."""

    def __init__(self, mesh, shape: float, expression: float):
        self.mesh, self.shape, self.expression = mesh, shape, expression
        self.steady: dict[int, tuple[np.ndarray, int]] = {}  # track -> (mean moves, frames averaged)

    def apply(self, originals_NHWC: np.ndarray, swapped_NHWC: np.ndarray, masks_NHW: np.ndarray,
              track_ids: list[int] | None) -> tuple[np.ndarray, np.ndarray, int]:
        """The swapped faces (and the model's masks with them) warped, and how many were. ``track_ids``
        None: pictures, each on its own. One mesh call for the originals and the swaps together."""
        count = len(swapped_NHWC)
        points, found = self.mesh.points(np.concatenate([originals_NHWC, swapped_NHWC]))
        size = swapped_NHWC.shape[1]
        scale = size / originals_NHWC.shape[1]  # the mesh saw both at their own sizes
        faces, masks, warped = swapped_NHWC.copy(), masks_NHW.copy(), 0
        for index in range(count):
            if not (found[index] and found[count + index]):
                continue
            hers, drawn = points[index] * scale, points[count + index]
            apart = drawn - hers  # where each of her points is in the swap, seen from where it is in hers
            steady = apart if track_ids is None else self._steady(track_ids[index], apart)
            moves = self.shape * steady + self.expression * (apart - steady)
            field = displacement(drawn - moves, moves, size)
            faces[index], masks[index] = warp(swapped_NHWC[index], field), warp(masks_NHW[index], field)
            warped += 1
        return faces, masks, warped

    def _steady(self, track_id: int, moves: np.ndarray) -> np.ndarray:
        mean, frames = self.steady.get(track_id, (moves, 0))
        frames = min(frames + 1, MEAN_FRAMES)
        mean = mean + (moves - mean) / frames
        self.steady[track_id] = (mean, frames)
        return mean
