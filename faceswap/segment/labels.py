"""Pseudo-labels: where the face really is in an aligned crop, without any labelled data.

The landmark outline (what extract stores as the mask) is a good guess of the face's place but
not of its edge: it cuts cheeks, runs below the chin and takes in hair and background. GrabCut
(OpenCV's graph-cut segmentation with colour models) refines that guess: the outline is
probably face, a ring around it probably not, everything further out and every pixel from
outside the frame surely not, and the middle of the forehead surely face. GrabCut alone keeps
anything inside the outline whose colour it has not seen outside, so pixels far from the
face's own skin colour (a robust model of its Lab chroma) leave the label too; the eyes, brows
and mouth, small holes in the skin, are filled back in, while a larger hole is an object in
front of the face. A hand has the face's colour and stays in the label; the hands extract found
and stored are taken out of it afterwards (data.py), and synthetic ones teach the rest (occluders.py).

GrabCut fails one way often enough to matter: when skin fills the background ring (a hand on the
cheek with its arm below the chin), the background colour model learns skin and the label
shrinks to the forehead seed. ``label_is_reliable`` tells those labels apart, so that training
leaves them out instead of teaching that a visible face is not face.
"""
from __future__ import annotations

import numpy as np

LABEL_SIZE = 96  # GrabCut's cost grows with the pixels; the edge it finds is smooth at this size
MAX_HOLE = 0.08  # holes smaller than this share of the face (eyes, mouth, nostrils) are face; larger ones are occluders
SKIN_SPREAD = 4.0  # chroma further than this many robust deviations from the face's median is not skin
SKIN_FLOOR = 4.0  # smallest deviation (Lab units) so a very even skin does not make every shade "not skin"
RING_DILATE = 0.08  # share of the crop by which the outline is grown to get the probable-background ring
FOREHEAD = 0.55  # the label ends this many eye distances above the eyes
MIN_OUTLINE_SHARE = 0.4  # a label keeping less of the landmark outline than this has collapsed (typical labels keep 0.65-0.9)
GRABCUT_SEED = 0  # the same label for the same face, whichever thread makes it


def _disk(radius: int) -> np.ndarray:
    import cv2

    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def pseudo_label(face_bgr_uint8: np.ndarray, outline_uint8: np.ndarray, eyes_xy: np.ndarray,
                 inside_frame: np.ndarray | None = None, iterations: int = 2) -> np.ndarray:
    """(S, S) uint8 face label (255 = face) of an aligned crop (S, S, 3) from its landmark outline (S, S)
    and its two eye centres (2, 2) in crop pixels.

    The label's top is a line ``FOREHEAD`` eye distances above the eyes: where the forehead
    ends is a matter of hair and light that colour cannot settle the same way in every frame,
    and a segmenter learns a consistent edge better than a wandering one. The middle of the
    forehead below that line is surely face, which also keeps GrabCut from cutting along the brows.
    """
    import cv2

    size = face_bgr_uint8.shape[0]
    work = LABEL_SIZE if size > LABEL_SIZE else size
    face = cv2.resize(face_bgr_uint8, (work, work), interpolation=cv2.INTER_AREA)
    outline = (cv2.resize(outline_uint8, (work, work), interpolation=cv2.INTER_AREA) > 127).astype(np.uint8)
    if not outline.any():
        return np.zeros((size, size), np.uint8)
    seeds = np.full((work, work), cv2.GC_BGD, np.uint8)
    seeds[cv2.dilate(outline, _disk(round(RING_DILATE * work))) > 0] = cv2.GC_PR_BGD
    seeds[outline > 0] = cv2.GC_PR_FGD
    eyes = np.asarray(eyes_xy, np.float64) * work / size
    eye_distance = float(np.linalg.norm(eyes[1] - eyes[0]))
    eye_y, top = float(eyes[:, 1].mean()), int(round(float(eyes[:, 1].mean()) - FOREHEAD * eye_distance))
    left, right = int(round(eyes[:, 0].min())), int(round(eyes[:, 0].max()))
    seeds[max(top + 2, 0):max(int(eye_y) - 2, 0), max(left, 0):max(right, 0)] = cv2.GC_FGD
    seeds[:max(top, 0)] = cv2.GC_BGD
    if inside_frame is not None:
        seeds[cv2.resize(inside_frame.astype(np.uint8), (work, work), interpolation=cv2.INTER_NEAREST) == 0] = cv2.GC_BGD
    try:
        # GrabCut's k-means draws from this thread's RNG: reseed it, or a label depends on which pool thread made it.
        cv2.setRNGSeed(GRABCUT_SEED)
        cv2.grabCut(face, seeds, None, np.zeros((1, 65)), np.zeros((1, 65)), iterations, cv2.GC_INIT_WITH_MASK)
        label = ((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)).astype(np.uint8)
    except cv2.error:  # a flat crop gives GrabCut no colour model: keep the outline
        label = outline
    label = label & _skin_like(face, label)
    label = _fill_holes(_largest_region(cv2.morphologyEx(label, cv2.MORPH_OPEN, _disk(2))))
    return (cv2.resize(label * 255, (size, size), interpolation=cv2.INTER_LINEAR) > 127).astype(np.uint8) * 255


def label_is_reliable(label_uint8: np.ndarray, outline_uint8: np.ndarray) -> bool:
    """False when the label keeps under ``MIN_OUTLINE_SHARE`` of the landmark outline: GrabCut
    collapsed (see the module notes), or something covers most of the face, where no label from
    colour can be trusted either."""
    outline = outline_uint8 > 127
    kept = np.count_nonzero((label_uint8 > 127) & outline)
    return kept >= MIN_OUTLINE_SHARE * max(int(np.count_nonzero(outline)), 1)


def _skin_like(face_bgr: np.ndarray, label: np.ndarray) -> np.ndarray:
    """1 where the chroma (Lab a, b) is close to the median of the labelled pixels (robust to an
    object covering part of them), 0 elsewhere; lightness is left out so shadows stay skin."""
    import cv2

    chroma = cv2.cvtColor(face_bgr, cv2.COLOR_BGR2LAB)[..., 1:].astype(np.float32)
    inside = chroma[label > 0]
    if len(inside) < 16:
        return np.ones(label.shape, np.uint8)
    median = np.median(inside, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(inside - median), axis=0), SKIN_FLOOR)
    distance = np.abs(chroma - median) / spread
    return (distance.max(axis=2) <= SKIN_SPREAD).astype(np.uint8)


def _largest_region(binary: np.ndarray) -> np.ndarray:
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary)
    if count <= 2:
        return binary
    return (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)


def _fill_holes(binary: np.ndarray) -> np.ndarray:
    """Holes the outside cannot reach by flood fill are face when small (eyes, mouth), not when
    large (an object in front of the middle of the face)."""
    import cv2

    padded = np.pad(binary, 1)
    reached = padded.copy()
    cv2.floodFill(reached, np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8), (0, 0), 1)
    holes = (1 - reached)[1:-1, 1:-1].astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes)
    small = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] < MAX_HOLE * max(int(binary.sum()), 1)) + 1
    return binary | np.isin(labels, small).astype(np.uint8)
