"""Face-region masks in aligned-crop pixels: single channel uint8, 255 inside the face.

``outline_mask`` bends the template's face outline onto a face's own five points (an affine
fit, so a turned or long face gets a matching shape); ``hull_mask`` is the convex hull of 68
landmarks with the brow raised to take in the forehead. Both are stored as PNG and read back
with ``read_mask``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from faceswap.align.template import Template
from faceswap.align.transform import five_points


def polygon_mask(polygon_xy: np.ndarray, size: int) -> np.ndarray:
    """A filled polygon as a (size, size) uint8 mask (anti-aliased edge)."""
    import cv2

    mask = np.zeros((size, size), np.uint8)
    points = np.round(np.asarray(polygon_xy, dtype=np.float64) * 16).astype(np.int32)  # 4 fractional bits
    cv2.fillPoly(mask, [points], 255, lineType=cv2.LINE_AA, shift=4)
    return mask


def outline_mask(landmarks_crop_xy: np.ndarray, template: Template, size: int) -> np.ndarray:
    """The template's face outline fitted (least-squares affine) onto the face's five points.

    The fit is kept near a similarity (axis stretch limited to 0.7..1.4) so that one odd
    landmark cannot squash the mask.
    """
    template_points = template.points(size).astype(np.float64)
    face_points = five_points(landmarks_crop_xy)
    outline = template.face_outline(size).astype(np.float64)
    centre = template_points.mean(axis=0)
    design = np.hstack([template_points - centre, np.ones((5, 1))])
    solution, *_ = np.linalg.lstsq(design, face_points, rcond=None)  # (3, 2)
    linear, offset = solution[:2].T, solution[2]
    u, stretch, vt = np.linalg.svd(linear)
    linear = u @ np.diag(np.clip(stretch, 0.7, 1.4)) @ vt
    return polygon_mask((outline - centre) @ linear.T + offset, size)


def hull_mask(landmarks68_crop_xy: np.ndarray, size: int, forehead: float = 0.6) -> np.ndarray:
    """Convex hull of 68 landmarks; the brow points are copied upwards by ``forehead`` x the
    brow-to-nose-tip distance so the mask covers the forehead as well."""
    import cv2

    points = np.asarray(landmarks68_crop_xy, dtype=np.float64)
    brows = points[17:27]
    lift = forehead * (points[30] - brows.mean(axis=0))
    hull = cv2.convexHull(np.vstack([points, brows - lift]).astype(np.float32))[:, 0]
    return polygon_mask(hull, size)


def read_mask(path: str | Path) -> np.ndarray:
    """A stored mask as (H, W) uint8."""
    import cv2

    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        from faceswap.errors import UserError

        raise UserError(f"The mask '{path}' cannot be read; re-run `faceswap extract`.")
    return mask
