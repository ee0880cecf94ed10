"""Alignment geometry: the similarity transform from a face's landmarks to the template, and
the warps that cut an aligned crop out of a frame and put it back.

Matrices are 2x3 float64 in the ``cv2.warpAffine`` convention. ``frame_to_crop`` maps frame
pixels to crop pixels (what the alignments file stores); ``invert`` gives ``crop_to_frame``.
"""
from __future__ import annotations

import numpy as np

from faceswap.align.template import Template

# 68-point (iBUG 300-W) indices that make up the five template points.
_LEFT_EYE_68 = slice(36, 42)
_RIGHT_EYE_68 = slice(42, 48)
_NOSE_TIP_68 = 30
_MOUTH_LEFT_68 = 48
_MOUTH_RIGHT_68 = 54


def five_points(landmarks_xy: np.ndarray) -> np.ndarray:
    """The five template points (eyes, nose, mouth corners) of a 5- or 68-point landmark set."""
    landmarks_xy = np.asarray(landmarks_xy, dtype=np.float64)
    if len(landmarks_xy) == 5:
        return landmarks_xy
    if len(landmarks_xy) == 68:
        return np.stack([
            landmarks_xy[_LEFT_EYE_68].mean(axis=0),
            landmarks_xy[_RIGHT_EYE_68].mean(axis=0),
            landmarks_xy[_NOSE_TIP_68],
            landmarks_xy[_MOUTH_LEFT_68],
            landmarks_xy[_MOUTH_RIGHT_68],
        ])
    raise ValueError(f"expected 5 or 68 landmarks, got {len(landmarks_xy)}")


def umeyama(source_xy: np.ndarray, target_xy: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) taking source onto target.

    Umeyama (1991): the rotation comes from the SVD of the cross-covariance, the scale from the
    ratio of the explained variance to the source variance. Returns a 2x3 matrix.
    """
    source = np.asarray(source_xy, dtype=np.float64)
    target = np.asarray(target_xy, dtype=np.float64)
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_centred, target_centred = source - source_mean, target - target_mean
    covariance = target_centred.T @ source_centred / len(source)
    u, singular_values, vt = np.linalg.svd(covariance)
    reflection = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        reflection[1, 1] = -1.0  # a mirror image is not a similarity
    rotation = u @ reflection @ vt
    source_variance = (source_centred ** 2).sum() / len(source)
    scale = (singular_values * np.diag(reflection)).sum() / max(source_variance, 1e-12)
    translation = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, translation[:, None]])


def frame_to_crop(landmarks_xy: np.ndarray, template: Template, size: int | None = None) -> np.ndarray:
    """The 2x3 matrix that maps frame pixels into an aligned crop of ``size`` pixels."""
    return umeyama(five_points(landmarks_xy), template.points(size or template.size))


def invert(matrix_2x3: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine matrix (crop -> frame for a frame -> crop matrix)."""
    full = np.vstack([np.asarray(matrix_2x3, dtype=np.float64), [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def transform_points(points_xy: np.ndarray, matrix_2x3: np.ndarray) -> np.ndarray:
    """Apply a 2x3 matrix to (N, 2) points."""
    points = np.asarray(points_xy, dtype=np.float64)
    matrix = np.asarray(matrix_2x3, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def rescale(matrix_2x3: np.ndarray, from_size: int, to_size: int) -> np.ndarray:
    """A frame -> crop matrix for crops of ``to_size`` from one made for ``from_size``."""
    return np.asarray(matrix_2x3, dtype=np.float64) * (to_size / from_size)


def warp_to_crop(frame: np.ndarray, matrix_2x3: np.ndarray, size: int) -> np.ndarray:
    """Cut the aligned crop (size x size) out of a frame."""
    import cv2

    return cv2.warpAffine(frame, np.asarray(matrix_2x3, dtype=np.float64), (size, size),
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def warp_to_frame(crop: np.ndarray, matrix_2x3: np.ndarray, frame_width: int, frame_height: int) -> np.ndarray:
    """Put a crop (or mask) made with ``matrix_2x3`` (frame -> crop) back into frame coordinates."""
    import cv2

    return cv2.warpAffine(crop, np.asarray(matrix_2x3, dtype=np.float64), (frame_width, frame_height),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def crop_box(matrix_2x3: np.ndarray, size: int) -> np.ndarray:
    """The four corners of the crop in frame pixels, (4, 2), for drawing and bounds checks."""
    corners = np.array([[0, 0], [size, 0], [size, size], [0, size]], dtype=np.float64)
    return transform_points(corners, invert(matrix_2x3))


def inside_frame_mask(matrix_2x3: np.ndarray, matrix_size: int, frame_width: int, frame_height: int,
                      size: int) -> np.ndarray:
    """(size, size) bool: which pixels of a ``size`` crop come from inside the frame.

    ``matrix_2x3`` maps the frame to a crop of ``matrix_size`` pixels. Crops of faces near the
    frame edge are padded by border replication; those stripes are not face and must not be
    learned as such.
    """
    to_frame = invert(rescale(np.asarray(matrix_2x3, np.float64), matrix_size, size))
    centres = np.arange(size, dtype=np.float64)  # OpenCV's convention: pixel centres at whole numbers
    xs, ys = np.meshgrid(centres, centres)
    frame_x = to_frame[0, 0] * xs + to_frame[0, 1] * ys + to_frame[0, 2]
    frame_y = to_frame[1, 0] * xs + to_frame[1, 1] * ys + to_frame[1, 2]
    return (frame_x >= -0.5) & (frame_x <= frame_width - 0.5) & (frame_y >= -0.5) & (frame_y <= frame_height - 0.5)
