"""Unsharp masking of the swapped face: it restores edge contrast a blur took, leaves flat areas
alone, is a no-op at amount 0, and convert refuses amounts out of range."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceswap.convert.config import ConvertConfig
from faceswap.convert.sharpen import unsharp
from faceswap.errors import UserError


def _detail(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32), cv2.CV_32F).var())


def test_unsharp_brings_back_edges_of_an_upscaled_face(asset):
    frame = cv2.imread(str(asset("image_single_face")))
    small = cv2.resize(frame, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    upscaled = cv2.resize(small, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_CUBIC)
    sharpened = unsharp(upscaled, 1.0, model_pixel=4.0)
    assert _detail(upscaled) < _detail(sharpened) < _detail(frame) * 3
    assert np.abs(sharpened.astype(int) - upscaled.astype(int)).mean() < 8  # a touch, not a new picture


def test_convert_sharpens_by_default_and_only_a_touch(asset):
    frame = cv2.imread(str(asset("image_single_face")))
    small = cv2.resize(frame, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    upscaled = cv2.resize(small, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_CUBIC)
    amount = ConvertConfig().sharpen
    sharpened = unsharp(upscaled, amount, model_pixel=4.0)
    assert _detail(sharpened) > 1.5 * _detail(upscaled)
    assert _detail(sharpened) < _detail(unsharp(upscaled, 1.0, model_pixel=4.0))
    assert np.abs(sharpened.astype(int) - upscaled.astype(int)).mean() < 4


def test_unsharp_is_a_no_op_at_zero_and_on_flat_colour():
    flat = np.full((32, 32, 3), 120, np.uint8)
    assert unsharp(flat, 0.0, 2.0) is flat
    assert np.array_equal(unsharp(flat, 2.0, 2.0), flat)


@pytest.mark.parametrize("amount", [-0.5, 3.5])
def test_convert_refuses_sharpen_out_of_range(amount):
    with pytest.raises(UserError, match="--sharpen"):
        ConvertConfig(input="a.mp4", model_dir="m", output="o.mp4", sharpen=amount)
