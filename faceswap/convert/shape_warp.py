"""Keep the original face's shape and expression: move the swapped face's features onto the
original's.

The model draws B's eyes, brows, mouth and jaw where B has them for that pose, and with B's
openness: a closed eye comes out half open, a wide smile narrower, B's longer chin below hers. A
face mesh run on both crops says where each feature point is in the original (A's crop) and in
the swap; a smooth displacement field (a Gaussian radial-basis fit of the point moves, which fades
to nothing away from the face) then warps the swap so that its points land on A's. ``strength``
1 moves them all the way, 0 leaves the swap as drawn. A face the mesh cannot find in either crop
is left as drawn.
"""
from __future__ import annotations

import numpy as np

SIGMA = 0.06  # reach of one point's move, in crop widths: wide enough to carry an eyelid, not the whole face
SMOOTHING = 0.05  # ridge term of the fit: neighbouring points that disagree are averaged, not obeyed
MAX_MOVE = 0.08  # a point moves at most this many crop widths (a wrong mesh cannot tear the face)
GRID = 32  # the field is fitted on a GRID x GRID lattice and scaled up: it is smooth at that scale


def displacement(target_points: np.ndarray, source_points: np.ndarray, size: int, strength: float) -> np.ndarray:
    """(size, size, 2) float32: for each output pixel, how far away (x, y) to sample the swap, so that
    what sits at ``source_points`` in the swap lands on ``target_points``."""
    import cv2

    moves = (np.asarray(source_points, np.float64) - target_points) * strength
    length = np.linalg.norm(moves, axis=1, keepdims=True)
    moves *= np.minimum(1.0, MAX_MOVE * size / np.maximum(length, 1e-9))
    sigma = SIGMA * size
    weights = np.linalg.solve(_kernel(target_points, target_points, sigma) + SMOOTHING * np.eye(len(target_points)), moves)
    lattice = np.linspace(0, size - 1, GRID)
    grid_x, grid_y = np.meshgrid(lattice, lattice)
    field = _kernel(np.stack([grid_x.ravel(), grid_y.ravel()], 1), target_points, sigma) @ weights
    length = np.linalg.norm(field, axis=1, keepdims=True)  # the fit may overshoot between points: cap it again
    field *= np.minimum(1.0, MAX_MOVE * size / np.maximum(length, 1e-9))
    return cv2.resize(field.reshape(GRID, GRID, 2).astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)


def _kernel(points_a: np.ndarray, points_b: np.ndarray, sigma: float) -> np.ndarray:
    a, b = np.asarray(points_a, np.float64), np.asarray(points_b, np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2.0 * (a @ b.T)  # one matrix product, no (A, B, 2) temporary
    return np.exp(np.maximum(squared, 0.0) * (-0.5 / (sigma * sigma)))


def warp(image: np.ndarray, field: np.ndarray) -> np.ndarray:
    """``image`` (H, W[, C]) resampled through ``displacement``'s field (edges repeat, never black)."""
    import cv2

    size = image.shape[0]
    grid_y, grid_x = np.mgrid[0:size, 0:size].astype(np.float32)
    return cv2.remap(image, grid_x + field[..., 0], grid_y + field[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def keep_shape(mesh, originals_NHWC: np.ndarray, swapped_NHWC: np.ndarray, masks_NHW: np.ndarray,
               strength: float) -> tuple[np.ndarray, np.ndarray, int]:
    """The swapped faces (and the model's masks with them) warped onto the originals' features, and how
    many faces were warped. One mesh call for the originals and the swaps together."""
    count = len(swapped_NHWC)
    points, found = mesh.points(np.concatenate([originals_NHWC, swapped_NHWC]))
    size = swapped_NHWC.shape[1]
    scale = size / originals_NHWC.shape[1]  # the mesh saw both at their own sizes
    faces, masks, warped = swapped_NHWC.copy(), masks_NHW.copy(), 0
    for index in range(count):
        if not (found[index] and found[count + index]):
            continue
        field = displacement(points[index] * scale, points[count + index], size, strength)
        faces[index], masks[index] = warp(swapped_NHWC[index], field), warp(masks_NHW[index], field)
        warped += 1
    return faces, masks, warped
