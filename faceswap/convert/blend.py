"""Masks and blending: a feathered face mask in crop space, and pasting a crop back into a frame.

Everything outside the feathered mask is left bit-for-bit as it was, so a swapped video differs
from its input only around the swapped faces (plus encoder noise).
"""
from __future__ import annotations

import numpy as np

from faceswap.align.template import Template

MaskKind = str  # "learned" | "landmarks" | "combined"


def landmark_mask(template: Template, size: int, landmarks_crop_xy: np.ndarray) -> np.ndarray:
    """(size, size) float32 in [0, 1]: the face region of an aligned crop from its landmarks.

    68 points: their hull raised over the forehead; 5 points: the template's face outline
    fitted onto them (the extract stage draws its stored masks the same way).
    """
    from faceswap.align.mask import hull_mask, outline_mask

    if len(landmarks_crop_xy) >= 68:
        mask = hull_mask(landmarks_crop_xy[:68], size)
    else:
        mask = outline_mask(landmarks_crop_xy, template, size)
    return mask.astype(np.float32) / 255.0


def feathered_mask(kind: MaskKind, size: int, learned_HW_float01: np.ndarray | None, landmark_HW_float01: np.ndarray | None,
                   erode_percent: float, blur_percent: float) -> np.ndarray:
    """(size, size) float32 in [0, 1]: chosen mask, eroded (or dilated), edge blurred, zero at the crop border."""
    import cv2

    if learned_HW_float01 is None or kind == "landmarks":
        mask = landmark_HW_float01
    elif kind == "learned":
        mask = learned_HW_float01
    else:  # combined: the face must be both in the outline and in what the model drew
        mask = np.minimum(learned_HW_float01, landmark_HW_float01)
    mask = (mask > 0.5).astype(np.float32)
    erode_px = int(round(abs(erode_percent) / 100.0 * size))
    if erode_px > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode_px + 1, 2 * erode_px + 1))
        mask = cv2.erode(mask, kernel) if erode_percent > 0 else cv2.dilate(mask, kernel)
    blur_px = int(round(blur_percent / 100.0 * size))
    margin = blur_px + 1
    mask[:margin], mask[-margin:], mask[:, :margin], mask[:, -margin:] = 0, 0, 0, 0  # no hard edge at the crop border
    if blur_px > 0:
        mask = cv2.GaussianBlur(mask, (2 * blur_px + 1, 2 * blur_px + 1), 0)
    return np.clip(mask, 0.0, 1.0)


def _frame_roi(matrix_frame_to_crop: np.ndarray, crop_box: tuple[int, int, int, int],
               frame_shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """Integer box (x0, y0, x1, y1) in the frame covered by a box of the crop, clipped to the frame."""
    import cv2

    inverse = cv2.invertAffineTransform(matrix_frame_to_crop)
    cx0, cy0, cx1, cy1 = crop_box
    corners = np.array([[cx0, cy0, 1], [cx1, cy0, 1], [cx0, cy1, 1], [cx1, cy1, 1]], np.float64) @ inverse.T
    height, width = frame_shape[:2]
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    return (int(x0), int(y0), int(x1), int(y1)) if x1 - x0 > 2 and y1 - y0 > 2 else None


def paste_face(frame_bgr_uint8: np.ndarray, face_bgr_uint8: np.ndarray, mask_float01: np.ndarray,
               matrix_frame_to_crop: np.ndarray, seamless: bool = False) -> None:
    """Blend an aligned crop (and its crop-space mask) back into the frame, in place.

    Only the frame box under the mask is computed and written; every pixel where the warped
    mask is 0 keeps its value bit for bit.
    """
    import cv2

    rows, cols = np.flatnonzero(mask_float01.any(axis=1)), np.flatnonzero(mask_float01.any(axis=0))
    if len(rows) == 0:
        return
    roi = _frame_roi(matrix_frame_to_crop, (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1), frame_bgr_uint8.shape)
    if roi is None:
        return
    x0, y0, x1, y1 = roi
    to_roi = cv2.invertAffineTransform(matrix_frame_to_crop)
    to_roi[:, 2] -= (x0, y0)
    roi_size = (x1 - x0, y1 - y0)
    mask_roi = cv2.warpAffine(mask_float01, to_roi, roi_size, flags=cv2.INTER_LINEAR, borderValue=0.0)
    face_roi = cv2.warpAffine(face_bgr_uint8, to_roi, roi_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    target = frame_bgr_uint8[y0:y1, x0:x1]
    if seamless:
        face_roi = _seamless_clone(face_roi, target, mask_roi)
    # one SIMD pass: (face * m + target * (1 - m)) / (m + (1 - m)), rounded
    target[:] = cv2.blendLinear(face_roi, np.ascontiguousarray(target), mask_roi, 1.0 - mask_roi)


def _seamless_clone(face_roi: np.ndarray, target_roi: np.ndarray, mask_roi: np.ndarray) -> np.ndarray:
    """Poisson blend of the face into the target region; the feathered blend then limits it to the mask."""
    import cv2

    binary = (mask_roi > 0.05).astype(np.uint8) * 255
    binary[0, :], binary[-1, :], binary[:, 0], binary[:, -1] = 0, 0, 0, 0  # the clone needs a margin
    points = cv2.findNonZero(binary)
    if points is None:
        return face_roi
    x, y, w, h = cv2.boundingRect(points)
    if w < 3 or h < 3:
        return face_roi
    centre = (x + w // 2, y + h // 2)
    try:
        return cv2.seamlessClone(face_roi, target_roi.copy(), binary, centre, cv2.NORMAL_CLONE)
    except cv2.error:
        return face_roi  # degenerate region at the frame edge: plain feathered blend
