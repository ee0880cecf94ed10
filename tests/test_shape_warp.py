"""Keeping the original's face shape and expression: the face mesh on real aligned faces, the
displacement field, B's features moved onto A's, and convert doing it (or not) on real video."""
from __future__ import annotations

import numpy as np
import pytest

from _convert_media import read_frames

CLOSED_EYES = 30  # frames of the sample talk: her eyes shut
SMILE = 250  # ... and a wide smile


@pytest.fixture(scope="module")
def mesh():
    from faceswap.face_mesh import load_mesh

    return load_mesh()


def _crops(faces_dir, frames):
    import cv2

    return np.stack([cv2.imread(str(faces_dir / "faces" / f"{frame:06d}_0.jpg")) for frame in frames])


def test_the_mesh_finds_real_faces_and_nothing_on_a_wall(mesh, extracted_faces):
    from faceswap.face_mesh.mediapipe import FEATURE_POINTS, LIPS, RIGHT_EYE

    faces = np.concatenate([_crops(extracted_faces["a"], [CLOSED_EYES, SMILE]), _crops(extracted_faces["b"], [10])])
    wall = np.full_like(faces[:1], 90)
    points, found = mesh.points(np.concatenate([faces, wall]))
    assert points.shape == (4, len(FEATURE_POINTS), 2)
    assert found.tolist() == [True, True, True, False]
    size = faces.shape[1]
    assert ((points[:3] > 0) & (points[:3] < size)).all()
    eyes, lips = points[:3, :len(RIGHT_EYE)], points[:3, 52:52 + len(LIPS)]
    assert (eyes[..., 1].mean(axis=1) < lips[..., 1].mean(axis=1) - 0.1 * size).all()  # upright faces: eyes above the mouth
    # her shut eyes are thinner than her open ones while she smiles
    assert np.ptp(eyes[0, :, 1]) < 0.7 * np.ptp(eyes[1, :, 1])


def test_the_field_carries_points_onto_their_targets_within_its_limits():
    from faceswap.convert.shape_warp import MAX_MOVE, displacement, warp

    size = 128
    rng = np.random.default_rng(0)
    targets = rng.uniform(40, 88, size=(60, 2))
    shift = np.array([3.0, -2.0])
    field = displacement(targets, targets + shift, size, strength=1.0)
    at_targets = field[targets[:, 1].astype(int), targets[:, 0].astype(int)]
    assert np.abs(at_targets - shift).max() < 0.6  # where the points are, the swap is sampled from where they were
    assert np.abs(field[:5, :5]).max() < 0.05  # the corners, far from every point, stay put
    assert np.abs(displacement(targets, targets + shift, size, strength=0.0)).max() == 0
    half = displacement(targets, targets + shift, size, strength=0.5)
    assert np.allclose(half, field / 2, atol=1e-4)
    # a wild point (a mesh gone wrong) moves the face at most MAX_MOVE crop widths
    wild = displacement(targets, targets + 100.0, size, strength=1.0)
    assert np.linalg.norm(wild, axis=2).max() <= MAX_MOVE * size * 1.01
    # and the image follows the field: a dot drawn at a source point appears at its target
    image = np.zeros((size, size), np.float32)
    image[62:66, 62:66] = 1.0  # a dot centred at (63.5, 63.5)
    moved = warp(image, displacement(np.array([[60.5, 66.5]]), np.array([[63.5, 63.5]]), size, 1.0))
    y, x = np.argwhere(moved > 0.5).mean(axis=0)
    assert abs(x - 60.5) < 1.0 and abs(y - 66.5) < 1.0


def test_his_features_land_on_hers(mesh, extracted_faces):
    """B's face warped onto A's: the mesh of the result sits on A's shut eyes and smile, and the mask
    is warped with it."""
    from faceswap.convert.shape_warp import keep_shape

    hers = _crops(extracted_faces["a"], [CLOSED_EYES, SMILE])
    his = _crops(extracted_faces["b"], [10, 40])
    masks = np.zeros(his.shape[:3], np.float32)
    masks[:, 64:192, 64:192] = 1.0
    warped, warped_masks, count = keep_shape(mesh, hers, his, masks, strength=1.0)
    assert count == 2 and warped.shape == his.shape and warped.dtype == np.uint8
    points = {name: mesh.points(crops)[0] for name, crops in (("hers", hers), ("his", his), ("warped", warped))}
    before = np.linalg.norm(points["his"] - points["hers"], axis=2).mean(axis=1)
    after = np.linalg.norm(points["warped"] - points["hers"], axis=2).mean(axis=1)
    assert (after < 0.5 * before).all(), f"mesh distance to hers {before} -> {after} pixels"
    assert not np.array_equal(warped_masks, masks) and warped_masks.max() == 1.0
    untouched, _, none = keep_shape(mesh, hers, his, masks, strength=0.0)
    assert none == 2 and np.array_equal(untouched, his)


def test_a_crop_without_a_face_is_left_as_drawn(mesh, extracted_faces):
    from faceswap.convert.shape_warp import keep_shape

    his = _crops(extracted_faces["b"], [10])
    wall = np.full_like(his, 90)
    masks = np.ones(his.shape[:3], np.float32)
    warped, _, count = keep_shape(mesh, wall, his, masks, strength=1.0)
    assert count == 0 and np.array_equal(warped, his)


def test_convert_keeps_her_shape_unless_told_not_to(tmp_path, asset, extracted_faces, trained_swap_model):
    from faceswap.convert import ConvertConfig, convert

    runs = {}
    for strength in (1.0, 0.0):
        output = tmp_path / f"keep_{strength}.mp4"
        summary = convert(ConvertConfig(input=str(asset("video_wolfgang")), model_dir=str(trained_swap_model),
                                        output=str(output), alignments=str(extracted_faces["a"]), frames="25:35",
                                        keep_shape=strength, progress=False, encoder_preset="veryfast"))
        runs[strength] = (read_frames(output).astype(np.int16), summary)
    kept, plain = runs[1.0][1], runs[0.0][1]
    assert kept.shape_kept == 10 and "face shape kept in 10 faces" in kept.describe()
    assert plain.shape_kept == 0 and "face shape" not in plain.describe()
    changed = np.abs(runs[1.0][0] - runs[0.0][0]).max(axis=3) > 12
    assert 0.001 < changed.mean() < 0.1  # the face moved, the frame did not


def test_keep_shape_outside_zero_to_one_is_refused():
    from faceswap.convert import ConvertConfig
    from faceswap.errors import UserError

    with pytest.raises(UserError, match="--keep-shape"):
        ConvertConfig(keep_shape=1.5)
