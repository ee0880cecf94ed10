"""Alignment geometry: Umeyama, inverse matrices, five points from 68, masks."""
from __future__ import annotations

import numpy as np

from faceswap.align.mask import hull_mask, outline_mask
from faceswap.align.template import Template
from faceswap.align.transform import five_points, frame_to_crop, invert, transform_points, umeyama, warp_to_crop, warp_to_frame


def similarity(scale, angle, tx, ty):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[scale * c, -scale * s, tx], [scale * s, scale * c, ty]])


def test_umeyama_recovers_a_known_similarity():
    rng = np.random.default_rng(1)
    source = rng.uniform(0, 300, (12, 2))
    truth = similarity(1.7, 0.4, 12.0, -30.0)
    assert np.allclose(umeyama(source, transform_points(source, truth)), truth, atol=1e-9)


def test_inverse_maps_crop_back_to_frame():
    matrix = similarity(0.6, -0.2, 40.0, 10.0)
    points = np.array([[10.0, 20.0], [200.0, 50.0]])
    assert np.allclose(transform_points(transform_points(points, matrix), invert(matrix)), points)


def test_frame_to_crop_puts_landmarks_on_the_template():
    template = Template(size=128, coverage=0.8)
    true_frame_to_crop = similarity(0.5, 0.3, -20.0, 15.0)
    landmarks_frame = transform_points(template.points(), invert(true_frame_to_crop))
    matrix = frame_to_crop(landmarks_frame, template)
    assert np.allclose(transform_points(landmarks_frame, matrix), template.points(), atol=1e-4)


def test_warp_round_trip_keeps_the_face():
    frame = np.zeros((200, 300, 3), np.uint8)
    frame[80:120, 130:170] = 255
    matrix = similarity(1.5, 0.1, -100.0, -60.0)
    crop = warp_to_crop(frame, matrix, 128)
    back = warp_to_frame(crop, matrix, 300, 200)
    assert back[100, 150].min() == 255 and back.shape == frame.shape


def test_five_points_from_68():
    points = np.zeros((68, 2))
    points[36:42] = [10, 10]
    points[42:48] = [30, 10]
    points[30], points[48], points[54] = [20, 20], [12, 30], [28, 30]
    assert np.allclose(five_points(points), [[10, 10], [30, 10], [20, 20], [12, 30], [28, 30]])


def test_masks_cover_the_face_region():
    template = Template(size=128)
    mask = outline_mask(template.points(), template, 128)
    assert mask.dtype == np.uint8 and mask.shape == (128, 128)
    for x, y in template.points():
        assert mask[int(y), int(x)] == 255
    assert mask[2, 2] == 0 and 0.2 < (mask > 127).mean() < 0.7
    rng = np.random.default_rng(0)
    hull = hull_mask(rng.uniform(30, 100, (68, 2)), 128)
    assert hull[64, 64] == 255 and hull[1, 1] == 0
