"""Masks and blending: a feathered face mask in crop space, and pasting a crop back into a frame.

Everything outside the feathered mask is left bit-for-bit as it was, so a swapped video differs
from its input only around the swapped faces (plus encoder noise).
"""
from __future__ import annotations

import numpy as np

def feathered_mask(mask_HW_float01: np.ndarray, erode_percent: float, blur_percent: float) -> np.ndarray:
    """(size, size) float32 in [0, 1]: the mask shrunk, then its edge feathered *inward*.

    The mask is eroded by ``erode_percent`` plus the feather's whole reach before blurring, so
    the soft edge ends at the mask's own edge: no pixel outside the (real) face is blended, and
    nothing of the other face's background can leak in. Zero at the crop border too.
    """
    import cv2

    size = mask_HW_float01.shape[0]
    inside = (mask_HW_float01 > 0.5).astype(np.float32)
    inside[0], inside[-1], inside[:, 0], inside[:, -1] = 0, 0, 0, 0  # no hard edge at the crop border
    binary = inside
    blur_px = int(round(blur_percent / 100.0 * size))
    shrink_px = int(round(erode_percent / 100.0 * size)) + blur_px
    if shrink_px > 0:
        binary = cv2.erode(binary, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * shrink_px + 1, 2 * shrink_px + 1)))
    if blur_px > 0:  # a (2b+1) kernel reaches b pixels: the extra erosion above
        binary = cv2.GaussianBlur(binary, (2 * blur_px + 1, 2 * blur_px + 1), blur_px / 2.5)
    return np.clip(binary * inside, 0.0, 1.0)  # the square kernel's corners reach a little further: cut them


OCCLUDER_EDGE = 0.6  # percent of the crop: how soft the swap's edge is along a hand in front of the face


def cut_out(mask_float01: np.ndarray, occluder_uint8: np.ndarray) -> np.ndarray:
    """The feathered face mask with an occluder (a hand) taken out, along an edge only a pixel or two soft.

    A hand's outline is a real, sharp edge in front of the face: the face runs right up to it. The
    face mask's own wide, inward feather would instead leave a band of the original face around
    every finger.
    """
    import cv2

    size = mask_float01.shape[0]
    reach = max(OCCLUDER_EDGE / 100.0 * size, 0.5)
    occluder = cv2.GaussianBlur(occluder_uint8.astype(np.float32) / 255.0, (0, 0), reach)
    return mask_float01 * (1.0 - np.clip(occluder * 2.0, 0.0, 1.0))  # doubled: the swap is gone at the hand's own edge


def frame_roi(matrix_frame_to_crop: np.ndarray, crop_box: tuple[int, int, int, int],
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


def mask_box_in_frame(mask_float01: np.ndarray, matrix_frame_to_crop: np.ndarray,
                      frame_shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """The frame box (x0, y0, x1, y1) a paste may change: under the mask's non-zero part; None if off the frame."""
    rows, cols = np.flatnonzero(mask_float01.any(axis=1)), np.flatnonzero(mask_float01.any(axis=0))
    if len(rows) == 0:
        return None
    return frame_roi(matrix_frame_to_crop, (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1), frame_shape)


def paste_face(frame_bgr_uint8: np.ndarray, face_bgr_uint8: np.ndarray, mask_float01: np.ndarray,
               matrix_frame_to_crop: np.ndarray, seamless: bool = False) -> None:
    """Blend an aligned crop (and its crop-space mask) back into the frame, in place.

    Only the frame box under the mask is computed and written; every pixel where the warped
    mask is 0 keeps its value bit for bit.
    """
    import cv2

    roi = mask_box_in_frame(mask_float01, matrix_frame_to_crop, frame_bgr_uint8.shape)
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
