"""Keeping the original's expression and face shape: the face mesh on real aligned faces, the
displacement field, B's features moved towards A's (all the way, and along a track by expression
only), and convert doing it (or not) on real video."""
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
    landing = rng.uniform(40, 88, size=(60, 2))
    shift = np.tile([3.0, -2.0], (60, 1))
    field = displacement(landing, shift, size)
    at_landing = field[landing[:, 1].astype(int), landing[:, 0].astype(int)]
    assert np.abs(at_landing - shift).max() < 0.6  # where the points land, the swap is sampled from where they were
    assert np.abs(field[:5, :5]).max() < 0.05  # the corners, far from every point, stay put
    assert np.abs(displacement(landing, 0 * shift, size)).max() == 0
    assert np.allclose(displacement(landing, shift / 2, size), field / 2, atol=1e-4)
    # a wild point (a mesh gone wrong) moves the face at most MAX_MOVE crop widths
    wild = displacement(landing, shift + 100.0, size)
    assert np.linalg.norm(wild, axis=2).max() <= MAX_MOVE * size * 1.01
    # and the image follows the field: a dot drawn at a source point appears where it lands
    image = np.zeros((size, size), np.float32)
    image[62:66, 62:66] = 1.0  # a dot centred at (63.5, 63.5)
    moved = warp(image, displacement(np.array([[60.5, 66.5]]), np.array([[3.0, -3.0]]), size))
    y, x = np.argwhere(moved > 0.5).mean(axis=0)
    assert abs(x - 60.5) < 1.0 and abs(y - 66.5) < 1.0


def _mesh_distance(mesh, crops_a, crops_b):
    return np.linalg.norm(mesh.points(crops_a)[0] - mesh.points(crops_b)[0], axis=2).mean(axis=1)


def test_his_features_land_on_hers_with_shape_and_expression_all_the_way(mesh, extracted_faces):
    """B's face warped onto A's: the mesh of the result sits on A's shut eyes and smile, and the mask
    is warped with it. A picture (no track) has no expression apart from its shape."""
    from faceswap.convert.shape_warp import ShapeKeeper

    hers = _crops(extracted_faces["a"], [CLOSED_EYES, SMILE])
    his = _crops(extracted_faces["b"], [10, 40])
    masks = np.zeros(his.shape[:3], np.float32)
    masks[:, 64:192, 64:192] = 1.0
    warped, warped_masks, count = ShapeKeeper(mesh, shape=1.0, expression=1.0).apply(hers, his, masks, None)
    assert count == 2 and warped.shape == his.shape and warped.dtype == np.uint8
    before, after = _mesh_distance(mesh, his, hers), _mesh_distance(mesh, warped, hers)
    assert (after < 0.5 * before).all(), f"mesh distance to hers {before} -> {after} pixels"
    assert not np.array_equal(warped_masks, masks) and warped_masks.max() == 1.0
    untouched, _, _ = ShapeKeeper(mesh, shape=0.0, expression=1.0).apply(hers, his, masks, None)
    assert np.array_equal(untouched, his)


def test_along_a_track_her_shut_eyes_narrow_his_while_his_shape_stays(mesh, extracted_faces):
    """Her open-eyed frames, then her shut eyes, each drawn as the same face of his: with the
    expression kept and none of her shape, the open-eyed frames barely move him and the shut-eyed
    one narrows his eyes."""
    from faceswap.convert.shape_warp import ShapeKeeper
    from faceswap.face_mesh.mediapipe import LEFT_EYE, RIGHT_EYE

    frames = [0, 150, 300, 200, 150, 300, CLOSED_EYES]
    hers = _crops(extracted_faces["a"], frames)
    his = np.repeat(_crops(extracted_faces["b"], [10]), len(frames), axis=0)
    masks = np.ones(his.shape[:3], np.float32)
    warped, _, count = ShapeKeeper(mesh, shape=0.0, expression=1.0).apply(hers, his, masks, [7] * len(frames))
    assert count == len(frames)
    eyes = mesh.points(np.concatenate([his[:1], warped]))[0][:, :len(RIGHT_EYE) + len(LEFT_EYE)]
    opening = np.ptp(eyes[:, :len(RIGHT_EYE), 1], axis=1)  # height of his right eye's outline
    assert opening[-1] < 0.8 * opening[0], f"his eye {opening[0]:.1f} px open, {opening[-1]:.1f} px where hers are shut"
    assert opening[1:-1].min() > 0.85 * opening[0], f"his eye opening where hers are open: {opening[1:-1]} px"


def test_a_crop_without_a_face_is_left_as_drawn(mesh, extracted_faces):
    from faceswap.convert.shape_warp import ShapeKeeper

    his = _crops(extracted_faces["b"], [10])
    wall = np.full_like(his, 90)
    masks = np.ones(his.shape[:3], np.float32)
    warped, _, count = ShapeKeeper(mesh, shape=1.0, expression=1.0).apply(wall, his, masks, [0])
    assert count == 0 and np.array_equal(warped, his)


def test_convert_keeps_her_expression_unless_told_not_to(tmp_path, asset, extracted_faces, trained_swap_model):
    from faceswap.convert import ConvertConfig, convert

    runs = {}
    for name, options in (("kept", {}), ("off", {"keep_expression": 0.0, "keep_shape": 0.0})):
        output = tmp_path / f"{name}.mp4"
        summary = convert(ConvertConfig(input=str(asset("video_wolfgang")), model_dir=str(trained_swap_model),
                                        output=str(output), alignments=str(extracted_faces["a"]), frames="25:35",
                                        progress=False, encoder_preset="veryfast", **options))
        runs[name] = (read_frames(output).astype(np.int16), summary)
    kept, off = runs["kept"][1], runs["off"][1]
    assert kept.expression_kept == 10 and "expression kept in 10 faces" in kept.describe()
    assert off.expression_kept == 0 and "expression kept" not in off.describe()
    changed = np.abs(runs["kept"][0] - runs["off"][0]).max(axis=3) > 12
    assert 0.001 < changed.mean() < 0.1  # the face moved, the frame did not


@pytest.mark.parametrize("name", ["keep_expression", "keep_shape"])
def test_shares_outside_zero_to_one_are_refused(name):
    from faceswap.convert import ConvertConfig
    from faceswap.errors import UserError

    with pytest.raises(UserError, match="--" + name.replace("_", "-")):
        ConvertConfig(**{name: 1.5})
