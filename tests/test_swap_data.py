"""Faces loading and its errors, on-device augmentation, and the masked loss."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from faceswap.align.template import Template
from faceswap.errors import UserError
from faceswap.swap import SwapTrainConfig, train_swap
from faceswap.swap.augment import AugmentSettings, augment, plain
from faceswap.swap.data import held_out_indices, load_face_set
from faceswap.swap.loss import SwapLoss, masked_ssim
from test_swap_support import faces_subset

NO_AUGMENTATION = AugmentSettings(warp=0, rotation=0, zoom=0, shift=0, flip=0, colour=0)


@pytest.fixture(scope="module")
def small_faces(extracted_faces, tmp_path_factory):
    root = tmp_path_factory.mktemp("small_faces")
    return {side: faces_subset(extracted_faces[side], root / side, 24) for side in "ab"}


@pytest.fixture(scope="module")
def face_batch(small_faces):
    return load_face_set(small_faces["a"], 128, min_faces=2).faces[:6]


def _train(tmp_path, faces_a, faces_b, **options):
    return train_swap(SwapTrainConfig(faces_a=str(faces_a), faces_b=str(faces_b), model_dir=str(tmp_path / "model"),
                                      steps=1, segmenter="none", **options))


def test_load_face_set_reads_crops_and_masks(small_faces):
    faces = load_face_set(small_faces["b"], 64, min_faces=2)
    assert faces.faces.shape == (24, 5, 64, 64) and faces.faces.dtype == torch.uint8
    mask = faces.faces[:, 3].float() / 255
    assert 0.15 < float(mask.mean()) < 0.85  # a face mask, not empty or full
    first = cv2.cvtColor(cv2.imread(str(small_faces["b"] / faces.names[0])), cv2.COLOR_BGR2RGB)
    expected = cv2.resize(first, (64, 64), interpolation=cv2.INTER_AREA)
    assert np.abs(faces.faces[0, :3].permute(1, 2, 0).numpy().astype(int) - expected).max() <= 1  # RGB order


def test_held_out_faces_are_fixed_and_spread():
    train, held = held_out_indices(100, 0.1, 64)
    assert len(held) == 10 and held[0] == 0 and held[-1] == 99 and not set(train) & set(held)
    assert held_out_indices(100, 0.1, 64) == (train, held)
    assert len(held_out_indices(1000, 0.1, 64)[1]) == 64


def test_missing_and_empty_folders_are_user_errors(tmp_path, small_faces):
    with pytest.raises(UserError, match="does not exist"):
        _train(tmp_path, tmp_path / "nowhere", small_faces["b"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="alignments.json"):
        _train(tmp_path, tmp_path / "empty", small_faces["b"])
    assert not (tmp_path / "model").exists()  # nothing half-written


def test_too_few_faces_is_a_user_error(tmp_path, extracted_faces, small_faces):
    few = faces_subset(extracted_faces["b"], tmp_path / "few", 5)
    with pytest.raises(UserError, match="only 5 faces"):
        _train(tmp_path, small_faces["a"], few)
    no_faces = faces_subset(extracted_faces["b"], tmp_path / "none", 5)
    data = json.loads((no_faces / "alignments.json").read_text())
    data["frames"] = []
    (no_faces / "alignments.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match="holds no faces"):
        _train(tmp_path, small_faces["a"], no_faces)


def test_wrong_size_and_wrong_template_are_user_errors(tmp_path, extracted_faces, small_faces):
    resized = faces_subset(extracted_faces["b"], tmp_path / "resized", 24)
    face_path = sorted((resized / "faces").glob("*.jpg"))[3]
    cv2.imwrite(str(face_path), cv2.resize(cv2.imread(str(face_path)), (200, 200)))
    with pytest.raises(UserError, match="200x200"):
        _train(tmp_path, small_faces["a"], resized)
    other = faces_subset(extracted_faces["b"], tmp_path / "other_template", 24)
    data = json.loads((other / "alignments.json").read_text())
    data["template"]["coverage"] = 0.6
    (other / "alignments.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match="different templates"):
        _train(tmp_path, small_faces["a"], other)


def test_cli_reports_bad_input_in_one_line(cli, tmp_path, small_faces):
    result = cli("faceswap", "train", "-A", str(tmp_path / "nowhere"), "-B", str(small_faces["b"]), "-m", str(tmp_path / "m"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and "Traceback" not in result.stderr


def _weights(size):
    return torch.from_numpy(Template().region_weights(size)).view(1, 1, size, size)


def test_warp_moves_the_input_only(face_batch):
    generator = torch.Generator().manual_seed(1)
    warped = augment(face_batch, _weights(128), 64, AugmentSettings(warp=0.05, rotation=0, zoom=0, shift=0, flip=0, colour=0), generator)
    clean = plain(face_batch, _weights(128), 64)
    assert torch.allclose(warped.targets, clean.targets, atol=1e-5)  # target not warped
    assert torch.allclose(warped.masks, clean.masks, atol=1e-5)
    assert (warped.inputs - clean.inputs).abs().mean() > 0.01  # input warped
    same = augment(face_batch, _weights(128), 64, NO_AUGMENTATION, generator)
    assert torch.allclose(same.inputs, clean.inputs, atol=1e-5)


def test_geometry_and_colour_go_to_input_and_target_alike(face_batch):
    settings = AugmentSettings(warp=0, rotation=15, zoom=0.1, shift=0.1, flip=0.5, colour=0.2)
    batch = augment(face_batch, _weights(128), 64, settings, torch.Generator().manual_seed(2))
    assert torch.allclose(batch.inputs, batch.targets, atol=1e-6)
    assert (batch.targets - plain(face_batch, _weights(128), 64).targets).abs().mean() > 0.02
    again = augment(face_batch, _weights(128), 64, settings, torch.Generator().manual_seed(2))
    assert torch.equal(batch.inputs, again.inputs)  # reproducible from the generator alone


def test_flip_mirrors_faces_masks_and_region_weights(face_batch):
    settings = AugmentSettings(warp=0, rotation=0, zoom=0, shift=0, flip=1.0, colour=0)
    flipped = augment(face_batch, _weights(128), 64, settings, torch.Generator().manual_seed(3))
    clean = plain(face_batch, _weights(128), 64)
    assert torch.allclose(flipped.targets, clean.targets.flip(-1), atol=1e-5)
    assert torch.allclose(flipped.masks, clean.masks.flip(-1), atol=1e-5)
    assert torch.allclose(flipped.weights, clean.weights.flip(-1), atol=1e-5)


def test_masked_ssim_and_l1_see_only_the_face(face_batch):
    batch = plain(face_batch, _weights(128), 64)
    loss = SwapLoss(background_weight=0.0)
    perfect = loss(batch.targets, batch.masks, batch)
    assert float(perfect["ssim"]) == pytest.approx(1.0, abs=1e-4) and float(perfect["l1"]) < 1e-6
    outside_changed = batch.targets * batch.masks + torch.rand_like(batch.targets) * (1 - batch.masks)
    # SSIM looks 5 px around each pixel: away from the mask's edge, noise outside it changes nothing
    core = -torch.nn.functional.max_pool2d(-(batch.masks > 0.99).float(), 11, stride=1, padding=5)
    assert float(core.sum()) > 1000
    assert float(masked_ssim(outside_changed, batch.targets, core)) > 0.999
    assert float(loss(outside_changed, batch.masks, batch)["l1"]) < 0.02
    noisy = (batch.targets + 0.2 * torch.randn_like(batch.targets)).clamp(0, 1)
    assert float(loss(noisy, batch.masks, batch)["loss"]) > float(perfect["loss"]) + 0.1


def test_eyes_and_mouth_cost_more_than_cheeks(face_batch):
    batch = plain(face_batch, _weights(128), 64)
    template = Template()
    eye = template.points(64)[0].round().astype(int)
    cheek = np.array([eye[0], int(template.points(64)[2][1])])  # below the eye, level with the nose
    loss = SwapLoss(ssim_weight=0.0, mask_weight=0.0)

    def error_at(point):
        faces = batch.targets.clone()
        faces[:, :, point[1] - 1:point[1] + 2, point[0] - 1:point[0] + 2] += 0.3
        return float(loss(faces, batch.masks, batch)["loss"])

    assert error_at(eye) > 2 * error_at(cheek)


def test_mask_loss_trains_the_mask(face_batch):
    batch = plain(face_batch, _weights(128), 64)
    loss = SwapLoss()
    good = loss(batch.targets, batch.masks, batch)
    bad = loss(batch.targets, 1 - batch.masks, batch)
    assert float(good["mask_l1"]) < 1e-6 and float(bad["loss"]) > float(good["loss"]) + 0.1


def test_progressive_augmentation_ramps_geometry_and_colour_but_not_the_warp():
    settings = AugmentSettings(warp=0.03, rotation=10, zoom=0.05, shift=0.05, flip=0.5, colour=0.1, ramp_calls=100)
    start, middle, end = settings.at(0), settings.at(50), settings.at(1000)
    assert start.rotation == start.zoom == start.shift == start.flip == start.colour == 0 and start.warp == 0.03
    assert middle.rotation == pytest.approx(5) and middle.flip == pytest.approx(0.25)
    assert (end.rotation, end.zoom, end.shift, end.flip, end.colour, end.warp) == (10, 0.05, 0.05, 0.5, 0.1, 0.03)
    assert AugmentSettings(rotation=10, ramp_calls=0).at(0).rotation == 10
