"""Contract of every registered colour matcher, and what the built-ins must do."""
from __future__ import annotations

import numpy as np
import pytest

from faceswap import registry
from faceswap.convert.color import create

SIZE = 64


def _face_pair(seed: int = 0):
    rng = np.random.default_rng(seed)
    swapped = rng.integers(40, 200, (SIZE, SIZE, 3), dtype=np.uint8)
    original = np.clip(swapped.astype(int) * 0.6 + np.array([50, 10, 30]), 0, 255).astype(np.uint8)
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[12:52, 16:48] = 1.0
    return swapped, original, mask


@pytest.mark.parametrize("name", registry.names("color_matcher"))
def test_every_color_matcher_keeps_the_crop_shape_and_type(name):
    swapped, original, mask = _face_pair()
    matcher = create(name, smoothing=0.5)
    for track_id in (0, 1, 0):
        result = matcher(swapped, original, mask, track_id)
        assert result.shape == swapped.shape and result.dtype == np.uint8
    matcher.reset()
    # a face that already has the target's colours keeps them
    same = matcher(original, original, mask, 3)
    assert np.abs(same.astype(int) - original).mean() < 1.5
    # an empty mask gives no statistics: the face stays as drawn
    assert np.array_equal(matcher(swapped, original, np.zeros_like(mask), 4), swapped)


@pytest.mark.parametrize("name", ["mean_std_lab", "histogram"])
def test_matchers_move_colours_inside_the_mask_towards_the_original(name):
    swapped, original, mask = _face_pair()
    inside = mask > 0.5
    result = create(name, smoothing=0.0)(swapped, original, mask)
    before = np.abs(swapped[inside].mean(0) - original[inside].mean(0)).sum()
    after = np.abs(result[inside].astype(float).mean(0) - original[inside].mean(0)).sum()
    assert after < 0.15 * before


def test_smoothing_damps_a_one_frame_jump_per_track():
    swapped, original, mask = _face_pair()
    smooth, instant = create("mean_std_lab", smoothing=0.8), create("mean_std_lab", smoothing=0.0)
    for matcher in (smooth, instant):
        matcher(swapped, original, mask, 0)
    brighter = np.clip(original.astype(int) + 60, 0, 255).astype(np.uint8)
    inside = mask > 0.5
    jump_smooth = smooth(swapped, brighter, mask, 0)[inside].mean()
    jump_instant = instant(swapped, brighter, mask, 0)[inside].mean()
    base = instant(swapped, original, mask, 1)[inside].mean()  # another track starts fresh
    assert 0 < jump_smooth - base < 0.5 * (jump_instant - base)


def test_none_returns_the_face_unchanged():
    swapped, original, mask = _face_pair()
    assert np.array_equal(create("none")(swapped, original, mask), swapped)


def test_unknown_color_matcher_names_the_choices():
    from faceswap.errors import UserError

    with pytest.raises(UserError, match="mean_std_lab"):
        create("sepia")
