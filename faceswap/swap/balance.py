"""Sampling that evens out expressions, so that a rare look (closed eyes, an open mouth) trains
more often than its share of the footage.

A talking-head clip shows its person's eyes closed in a few frames of a hundred; sampled as
often as any other face, they barely move the decoder, and the swap draws open eyes where the
source closes them. The faces' eye and mouth regions (fixed places in an aligned crop) are
clustered by look with k-means on small, brightness-normalised grey patches: closed eyes,
squints and wide-open eyes land in different clusters without any landmark model. Each face is
then repeated in the training rows so that, at ``strength`` 1, every eye cluster and every mouth
cluster gets an equal share of the draws (half the weight each); at 0 every face is drawn
equally often. The rows are a plain list of face indices, so every data path (face cache, faces
on the device, DDP) samples from it unchanged, and the same faces give the same rows on resume.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from faceswap.align.template import LEFT_EYE, MOUTH_LEFT, MOUTH_RIGHT, RIGHT_EYE, Template

log = logging.getLogger("faceswap.swap")

CLUSTERS = 6  # per region: enough for open / half-closed / closed and a few gaze or mouth shapes
MIN_FACES_PER_CLUSTER = 4  # fewer faces than CLUSTERS * this: fewer clusters
MAX_REPEAT = 12  # no face is drawn more than this many times as often as the most common one
EYE_PATCH = (0.6, 0.35)  # eye distances (width, height) around each eye centre
MOUTH_PATCH = (1.0, 0.6)  # around the mouth corners' midpoint
PATCH_PIXELS = ((12, 7), (16, 10))  # eye and mouth patches are compared at these sizes (w, h)
READ_CHUNK = 256  # faces read from the cache at once


def expression_features(faces_rgb_uint8: np.ndarray, template: Template) -> tuple[np.ndarray, np.ndarray]:
    """(eyes (N, 2 * 12 * 7), mouth (N, 16 * 10)) float32 features of aligned faces (N, 3, S, S):
    grey patches with their mean taken out and unit length, so light and skin tone do not count."""
    import cv2

    size = faces_rgb_uint8.shape[-1]
    points, eye_distance = template.points(size), template.eye_distance(size)
    mouth = (points[MOUTH_LEFT] + points[MOUTH_RIGHT]) / 2
    eyes, mouths = [], []
    for face in faces_rgb_uint8:
        grey = cv2.cvtColor(np.ascontiguousarray(face[:3].transpose(1, 2, 0)), cv2.COLOR_RGB2GRAY)
        eyes.append(np.concatenate([_patch(grey, points[eye], EYE_PATCH, eye_distance, PATCH_PIXELS[0])
                                    for eye in (LEFT_EYE, RIGHT_EYE)]))
        mouths.append(_patch(grey, mouth, MOUTH_PATCH, eye_distance, PATCH_PIXELS[1]))
    return np.asarray(eyes, np.float32), np.asarray(mouths, np.float32)


def _patch(grey: np.ndarray, centre: np.ndarray, extent: tuple[float, float], eye_distance: float,
           pixels: tuple[int, int]) -> np.ndarray:
    import cv2

    half_w, half_h = extent[0] * eye_distance / 2, extent[1] * eye_distance / 2
    x0, x1 = int(round(centre[0] - half_w)), int(round(centre[0] + half_w))
    y0, y1 = int(round(centre[1] - half_h)), int(round(centre[1] + half_h))
    size = grey.shape[0]
    region = grey[max(y0, 0):min(y1, size), max(x0, 0):min(x1, size)]
    patch = cv2.resize(region, pixels, interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    patch -= patch.mean()
    return patch / (float(np.linalg.norm(patch)) + 1e-6)


def clusters(features: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N,) k-means cluster of each row; the same rows and seed give the same clusters."""
    import cv2

    count = min(CLUSTERS, len(features) // MIN_FACES_PER_CLUSTER)
    if count < 2:
        return np.zeros(len(features), np.int64)
    cv2.setRNGSeed(seed)  # kmeans++ draws from OpenCV's thread RNG
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 50, 1e-4)
    _, labels, _ = cv2.kmeans(np.ascontiguousarray(features, np.float32), count, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    return labels.ravel().astype(np.int64)


def repeats(eye_clusters: np.ndarray, mouth_clusters: np.ndarray, strength: float) -> np.ndarray:
    """(N,) how many times each face goes into the training rows (at least once)."""
    count = len(eye_clusters)
    share = np.full(count, (1 - strength) / count)
    for labels in (eye_clusters, mouth_clusters):
        _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
        share += strength * 0.5 / (len(sizes) * sizes[inverse])
    return np.clip(np.round(share / share.min()), 1, MAX_REPEAT).astype(np.int64)


def balanced_rows(reader, rows: Sequence[int], template: Template, strength: float, seed: int = 0,
                  label: str = "") -> list[int]:
    """``rows`` with faces of rare eye or mouth looks repeated (see the module notes); ``rows``
    unchanged at strength 0. ``reader.read(rows)`` gives (k, 5, S, S) uint8 faces, RGB first."""
    rows = list(rows)
    if strength <= 0 or len(rows) < 2 * MIN_FACES_PER_CLUSTER:
        return rows
    features = [expression_features(reader.read(rows[start:start + READ_CHUNK])[:, :3], template)
                for start in range(0, len(rows), READ_CHUNK)]
    eyes = np.concatenate([eye for eye, _ in features])
    mouths = np.concatenate([mouth for _, mouth in features])
    eye_clusters, mouth_clusters = clusters(eyes, seed), clusters(mouths, seed + 1)
    times = repeats(eye_clusters, mouth_clusters, strength)
    log.info("Balanced sampling of %s: eye looks in clusters of %s faces, mouth looks in %s; rare looks repeated up to "
             "%dx (%d training rows from %d faces).", label or "faces", _sizes(eye_clusters), _sizes(mouth_clusters),
             int(times.max()), int(times.sum()), len(rows))
    return [row for row, times_row in zip(rows, times) for _ in range(int(times_row))]


def _sizes(labels: np.ndarray) -> str:
    return "/".join(str(int(n)) for n in sorted(np.bincount(labels), reverse=True))
