"""Feathered masks and pasting a crop back: only pixels under the mask may change."""
from __future__ import annotations

import numpy as np
import pytest

from faceswap.align.template import Template
from faceswap.align.transform import frame_to_crop, transform_points
from faceswap.convert.blend import feathered_mask, paste_face

SIZE = 128
LANDMARKS = np.array([[300, 150], [340, 150], [320, 175], [303, 200], [337, 200]], np.float64)


def _setup():
    from faceswap.align.mask import outline_mask

    template = Template()
    matrix = frame_to_crop(LANDMARKS, template, SIZE)
    outline = outline_mask(transform_points(LANDMARKS, matrix), template, SIZE).astype(np.float32) / 255
    return template, matrix, outline


def test_feathered_mask_is_soft_inside_the_crop_and_zero_at_its_border():
    _, _, outline = _setup()
    sharp = feathered_mask(outline, erode_percent=0, blur_percent=0)
    soft = feathered_mask(outline, erode_percent=0, blur_percent=8)
    eroded = feathered_mask(outline, erode_percent=5, blur_percent=0)
    assert set(np.unique(sharp)) <= {0.0, 1.0}
    assert ((soft > 0.05) & (soft < 0.95)).sum() > 4 * ((sharp > 0.05) & (sharp < 0.95)).sum()
    assert eroded.sum() < 0.85 * sharp.sum()
    for mask in (sharp, soft, eroded):
        assert mask.min() >= 0 and mask.max() <= 1
        assert mask[0].max() == mask[-1].max() == mask[:, 0].max() == mask[:, -1].max() == 0


@pytest.mark.parametrize("blur", [2, 5, 10])
def test_feathering_goes_inward_only(blur):
    """Nothing outside the mask may be blended: the feathered edge ends at the mask's edge."""
    _, _, outline = _setup()
    soft = feathered_mask(outline, erode_percent=0, blur_percent=blur)
    assert soft[outline < 0.5].max() == 0
    assert soft.max() == pytest.approx(1.0)  # the middle of the face is fully swapped


def test_mask_choices():
    from faceswap.convert.masks import MaskChoice, combine

    learned = np.zeros((SIZE, SIZE), np.float32)
    learned[:, : SIZE // 2] = 1.0  # the model drew only the left half
    drawn = np.zeros((SIZE, SIZE), np.uint8)
    drawn[20:100, 20:100] = 255
    assert np.array_equal(combine(MaskChoice("learned", None, None), learned, None), learned)
    assert np.array_equal(combine(MaskChoice("masker", "outline", None), learned, drawn), drawn / 255.0)
    both = combine(MaskChoice("combined", "outline", None), learned, drawn)
    assert both[:, SIZE // 2:].max() == 0 and both[50, 30] == 1.0


@pytest.mark.parametrize("seamless", [False, True])
def test_paste_changes_only_pixels_under_the_mask(seamless):
    template, matrix, outline = _setup()
    frame = np.random.default_rng(0).integers(0, 255, (360, 640, 3), dtype=np.uint8)
    mask = feathered_mask(outline, 2, 6)
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
    paste_face(frame, np.full((SIZE, SIZE, 3), 255, np.uint8), feathered_mask(outline, 0, 4), matrix)
    assert frame.max() == 0
