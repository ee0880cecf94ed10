"""Feathered masks and pasting a crop back: only pixels under the mask may change."""
from __future__ import annotations

import numpy as np
import pytest

from faceswap.align.template import Template
from faceswap.align.transform import frame_to_crop, transform_points
from faceswap.convert.blend import feathered_mask, landmark_mask, paste_face

SIZE = 128
LANDMARKS = np.array([[300, 150], [340, 150], [320, 175], [303, 200], [337, 200]], np.float64)


def _setup():
    template = Template()
    matrix = frame_to_crop(LANDMARKS, template, SIZE)
    outline = landmark_mask(template, SIZE, transform_points(LANDMARKS, matrix))
    return template, matrix, outline


def test_feathered_mask_is_soft_inside_the_crop_and_zero_at_its_border():
    _, _, outline = _setup()
    learned = np.ones((SIZE, SIZE), np.float32)
    sharp = feathered_mask("combined", SIZE, learned, outline, erode_percent=0, blur_percent=0)
    soft = feathered_mask("combined", SIZE, learned, outline, erode_percent=0, blur_percent=8)
    eroded = feathered_mask("combined", SIZE, learned, outline, erode_percent=5, blur_percent=0)
    assert set(np.unique(sharp)) <= {0.0, 1.0}
    assert ((soft > 0.05) & (soft < 0.95)).sum() > 4 * ((sharp > 0.05) & (sharp < 0.95)).sum()
    assert eroded.sum() < 0.85 * sharp.sum()
    for mask in (sharp, soft, eroded):
        assert mask.min() >= 0 and mask.max() <= 1
        assert mask[0].max() == mask[-1].max() == mask[:, 0].max() == mask[:, -1].max() == 0


@pytest.mark.parametrize("kind", ["learned", "landmarks", "combined"])
def test_mask_kinds(kind):
    _, _, outline = _setup()
    learned = np.zeros((SIZE, SIZE), np.float32)
    learned[:, : SIZE // 2] = 1.0  # the model drew only the left half
    mask = feathered_mask(kind, SIZE, learned, outline, 0, 0)
    if kind == "landmarks":
        assert np.array_equal(mask > 0.5, feathered_mask("landmarks", SIZE, None, outline, 0, 0) > 0.5)
        assert mask[:, SIZE // 2 + 5:].sum() > 0
    else:
        assert mask[:, SIZE // 2 + 1:].sum() == 0


@pytest.mark.parametrize("seamless", [False, True])
def test_paste_changes_only_pixels_under_the_mask(seamless):
    template, matrix, outline = _setup()
    frame = np.random.default_rng(0).integers(0, 255, (360, 640, 3), dtype=np.uint8)
    mask = feathered_mask("landmarks", SIZE, None, outline, 2, 6)
    face = np.full((SIZE, SIZE, 3), 200, np.uint8)
    result = frame.copy()
    paste_face(result, face, mask, matrix, seamless=seamless)
    changed = np.abs(result.astype(int) - frame).max(axis=2) > 0
    import cv2

    mask_in_frame = cv2.warpAffine(mask, matrix, (640, 360), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP) > 0
    near = cv2.dilate(mask_in_frame.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert changed.sum() > 1000
    assert not (changed & ~near).any()
    # the middle of the face took the new face's colour
    centre = transform_points(np.array([[SIZE / 2, SIZE / 2]]), cv2.invertAffineTransform(matrix))[0].astype(int)
    if not seamless:
        assert np.abs(result[centre[1], centre[0]].astype(int) - 200).max() <= 1


def test_a_face_outside_the_frame_is_ignored():
    _, matrix, outline = _setup()
    frame = np.zeros((100, 100, 3), np.uint8)
    paste_face(frame, np.full((SIZE, SIZE, 3), 255, np.uint8), feathered_mask("landmarks", SIZE, None, outline, 0, 4), matrix)
    assert frame.max() == 0
