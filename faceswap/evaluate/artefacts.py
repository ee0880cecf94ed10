"""What blending leaves in a frame, measured against the reference frame: the colour step and edge
strength across the face outline (seams), pixels away from every face that changed, and the band
just outside the real face outline that changed (a halo, a mask drawn too big). report.py sums
them over a video and gives the verdicts."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from faceswap.align.transform import five_points

SECTORS = 16
RING_PERCENT = 4.0  # ring width, percent of the eye distance x 4 (about the face width)
FACE_MARGIN = 0.15  # the face region (for "away") is the aligned crop grown by this share
BAND_PERCENT = (4.0, 15.0)  # the outside band, percent of the face width (4 x eye distance) beyond the outline


@dataclass
class SeamStats:
    color_step: list[float] = field(default_factory=list)
    gradient_ratio: list[float] = field(default_factory=list)

    def mean(self, name: str) -> float | None:
        values = getattr(self, name)
        return float(np.mean(values)) if values else None


def _face_width(face: Any) -> float:
    """4 x the eye distance of the five landmarks, frame pixels (about the width of the face)."""
    five = five_points(face.landmarks)
    return 4 * float(np.linalg.norm(five[1] - five[0]))


def _outline_regions(faces: list[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The outline masker's face region of each face: (mask in aligned-crop pixels, float in
    [0, 1], frame -> crop matrix), Template() geometry; the region convert blends 5-point faces in."""
    from faceswap.align.mask import outline_mask
    from faceswap.align.template import Template
    from faceswap.align.transform import frame_to_crop, transform_points

    template = Template()
    regions = []
    for face in faces:
        matrix = frame_to_crop(five_points(face.landmarks), template)
        mask = outline_mask(transform_points(five_points(face.landmarks), matrix), template, template.size)
        regions.append((mask.astype(np.float32) / 255.0, matrix))
    return regions


def _region_in_frame(mask_crop: np.ndarray, matrix: np.ndarray, shape: tuple[int, ...], margin: float):
    """((x0, y0, x1, y1), uint8 0/1 face region in that frame box) for a crop-pixel mask, or None
    when it is empty or off the frame; the box is the region grown by ``margin`` pixels."""
    import cv2

    from faceswap.align.transform import invert, transform_points

    inside = np.asarray(mask_crop) > 0.5
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if len(rows) == 0:
        return None
    to_frame = invert(matrix)
    corners = np.array([[cols[0], rows[0]], [cols[-1] + 1, rows[0]], [cols[0], rows[-1] + 1], [cols[-1] + 1, rows[-1] + 1]])
    corners = transform_points(corners, to_frame)
    pad = int(np.ceil(margin)) + 2
    height, width = shape[:2]
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + pad, (width, height))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    to_frame[:, 2] -= (x0, y0)
    warped = cv2.warpAffine(np.asarray(mask_crop, np.float32), to_frame, (int(x1 - x0), int(y1 - y0)),
                            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return (int(x0), int(y0), int(x1), int(y1)), (warped > 0.5).astype(np.uint8)


def _seams(image_bgr: np.ndarray, faces: list[Any], stats: SeamStats, reference_bgr: np.ndarray | None = None) -> None:
    """Seam scores around each face, along the outline masker's face outline (where convert
    blends); with a reference both are taken on the change (output - reference, Lab), so the
    scene's own edges near the outline do not count."""
    import cv2

    for face, (mask_crop, matrix) in zip(faces, _outline_regions(faces)):
        width = max(2.0, RING_PERCENT / 100.0 * _face_width(face))
        placed = _region_in_frame(mask_crop, matrix, image_bgr.shape, margin=2 * width)  # only the box around it is looked at
        if placed is None:
            continue
        (x0, y0, x1, y1), region = placed
        box = image_bgr[y0:y1, x0:x1]
        lab = cv2.cvtColor(box, cv2.COLOR_BGR2LAB).astype(np.float32)
        if reference_bgr is not None:
            lab -= cv2.cvtColor(reference_bgr[y0:y1, x0:x1], cv2.COLOR_BGR2LAB).astype(np.float32)
        grey = cv2.GaussianBlur(np.ascontiguousarray(lab[..., 0]), (3, 3), 0)
        gradient = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
        signed = _signed_distance(region)  # > 0 outside the outline
        step = _sector_color_step(lab, signed, width, five_points(face.landmarks).mean(axis=0) - (x0, y0))
        if step is not None:
            stats.color_step.append(step)
        border = np.abs(signed) <= 1.5
        beside = (np.abs(signed) > 1.5) & (np.abs(signed) <= 2 * width)
        if border.any() and beside.any():
            floor = 1.0 if reference_bgr is not None else 1e-3  # an untouched region has no change to grade
            stats.gradient_ratio.append(float(gradient[border].mean() / max(gradient[beside].mean(), floor)))


def _signed_distance(region: np.ndarray) -> np.ndarray:
    """Pixels from the region's edge: negative inside, positive outside."""
    import cv2

    region_u8 = region.astype(np.uint8)
    inside = cv2.distanceTransform(region_u8, cv2.DIST_L2, 3)
    outside = cv2.distanceTransform(1 - region_u8, cv2.DIST_L2, 3)
    return outside - inside


def _sector_color_step(lab: np.ndarray, signed: np.ndarray, width: float, centre: np.ndarray) -> float | None:
    """How much the colour jumps across the outline beyond the trend of the rings beside it.

    Per sector around the face: mean Lab colour of four rings (two inside, two outside, each
    ``width`` wide); the step across the outline minus the mean step between the rings on
    either side (as vectors), its length. A smooth change scores ~0, a hard edge its height.
    """
    ys, xs = np.nonzero(np.abs(signed) <= 2 * width)
    if len(xs) == 0:
        return None
    ring = np.clip(np.floor(signed[ys, xs] / width).astype(int) + 2, 0, 3)  # 0, 1 inside; 2, 3 outside
    sector = ((np.arctan2(ys - centre[1], xs - centre[0]) + np.pi) / (2 * np.pi) * SECTORS).astype(int) % SECTORS
    colours = lab[ys, xs]
    steps = []
    for s in range(SECTORS):
        means = []
        for r in range(4):
            chosen = (sector == s) & (ring == r)
            if chosen.sum() < 4:
                break
            means.append(colours[chosen].mean(axis=0))
        if len(means) == 4:
            excess = (means[1] - means[2]) - 0.5 * ((means[0] - means[1]) + (means[2] - means[3]))
            steps.append(float(np.linalg.norm(excess)))
    return float(np.mean(steps)) if steps else None


def _away_from_faces(image: np.ndarray, reference: np.ndarray, faces: list[Any], tolerance: int, away: dict) -> None:
    import cv2

    from faceswap.align.template import Template
    from faceswap.align.transform import crop_box, frame_to_crop

    near = np.zeros(image.shape[:2], np.uint8)
    template = Template()
    for face in faces:
        corners = crop_box(frame_to_crop(five_points(face.landmarks), template), template.size)
        centre = corners.mean(axis=0)
        grown = centre + (corners - centre) * (1 + FACE_MARGIN)
        cv2.fillPoly(near, [np.round(grown).astype(np.int32)], 1)
    keep = near == 0
    difference = np.abs(image.astype(np.int16) - reference.astype(np.int16)).max(axis=2)[keep]
    away["pixels"] += int(difference.size)
    away["unchanged"] += int((difference <= tolerance).sum())
    away["abs_diff"] += float(difference.sum())


def _face_region_masks(segmenter_dir: str | None, device: str):
    """A function (frame, faces) -> [(face region in crop pixels, float in [0, 1], frame -> crop
    matrix)]: the outline masker's region, or the one a trained segmenter predicts."""
    if not segmenter_dir:
        return lambda image_bgr, faces: _outline_regions(faces)
    from faceswap.align.transform import frame_to_crop, warp_to_crop
    from faceswap.segment import load_segmenter

    segmenter = load_segmenter(segmenter_dir, device)
    template = segmenter.template

    def predicted(image_bgr: np.ndarray, faces: list[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
        if not faces:
            return []
        matrices = [frame_to_crop(five_points(face.landmarks), template) for face in faces]
        crops_NHWC = np.stack([warp_to_crop(image_bgr, matrix, template.size) for matrix in matrices])
        return list(zip(np.asarray(segmenter.predict(crops_NHWC), np.float32), matrices))
    return predicted


def _outside_band(image: np.ndarray, reference: np.ndarray, faces: list[Any], regions: list[tuple[np.ndarray, np.ndarray]],
                  tolerance: int, band: dict) -> None:
    """Count the pixels from BAND_PERCENT[0] to [1] % of the face width outside each face region
    (and inside no other face), and those whose max channel difference exceeds ``tolerance``."""
    import cv2

    low, high = (percent / 100.0 for percent in BAND_PERCENT)
    placed = []
    for face, (mask_crop, matrix) in zip(faces, regions):
        width = _face_width(face)
        found = _region_in_frame(mask_crop, matrix, image.shape, margin=high * width)
        if found is not None:
            placed.append((*found, low * width, high * width))
    any_face = np.zeros(image.shape[:2], np.uint8)
    for (x0, y0, x1, y1), region, _, _ in placed:
        any_face[y0:y1, x0:x1] |= region
    for (x0, y0, x1, y1), region, inner, outer in placed:
        outside = cv2.distanceTransform(1 - region, cv2.DIST_L2, 3)  # pixels to the region, 0 inside
        in_band = (outside > inner) & (outside <= outer) & (any_face[y0:y1, x0:x1] == 0)
        difference = np.abs(image[y0:y1, x0:x1].astype(np.int16) - reference[y0:y1, x0:x1].astype(np.int16)).max(axis=2)
        band["pixels"] += int(in_band.sum())
        band["changed"] += int((in_band & (difference > tolerance)).sum())
