"""A short CPU run of the 64 px `original` preset on real faces (the `trained_swap_model` fixture):
it learns, it beats the mean face on held-out faces, it writes a usable, self-describing model folder."""
from __future__ import annotations

import csv
import json
import os

import cv2
import numpy as np
import pytest
import torch

from conftest import SWAP_TEST_STEPS
from faceswap.align import alignments as alignments_file
from faceswap.errors import UserError
from faceswap.swap import ModelInfo, SwapTrainConfig, load_swap_model, train_swap
from faceswap.swap.data import held_out_indices, load_face_set
from faceswap.swap.loss import masked_l1, masked_ssim
from faceswap.grid import HEADER_PX, MIN_TILE_PX
from faceswap.swap.preview import COLUMNS


def _metric_rows(model_dir, key):
    with open(model_dir / "training" / "metrics.csv") as handle:
        return [(int(row["step"]), float(row[key])) for row in csv.DictReader(handle) if row.get(key)]


def _held_out(faces_dir, size):
    """(train faces, held-out faces) as float NCHW RGB + mask, split as training split them."""
    defaults = SwapTrainConfig(faces_a="a", faces_b="b", model_dir="m")
    faces = load_face_set(faces_dir, size, min_faces=2).faces.float() / 255
    train, held_out = held_out_indices(len(faces), defaults.val_fraction, defaults.max_val_faces)
    return faces[train], faces[held_out]


def test_training_loss_falls_clearly(trained_swap_model):
    losses = _metric_rows(trained_swap_model, "loss")
    assert losses[-1][0] == SWAP_TEST_STEPS
    assert losses[-1][1] < 0.8 * losses[0][1], losses
    val_ssim = _metric_rows(trained_swap_model, "val_ssim_a")
    assert val_ssim and val_ssim[-1][0] == SWAP_TEST_STEPS


@pytest.mark.parametrize("side", ["a", "b"])
def test_reconstruction_beats_the_mean_face_on_held_out_faces(trained_swap_model, extracted_faces, side):
    model, info = load_swap_model(trained_swap_model, "cpu")
    train, held_out = _held_out(extracted_faces[side], info.resolution)
    faces, masks = held_out[:, :3], held_out[:, 3:4]
    with torch.no_grad():
        rebuilt, learned_masks = model.decode(faces, side)
    mean_face = train[:, :3].mean(0, keepdim=True).expand_as(faces)
    assert masked_ssim(rebuilt, faces, masks) > masked_ssim(mean_face, faces, masks) + 0.01
    assert masked_l1(rebuilt, faces, masks) < masked_l1(mean_face, faces, masks)
    # the learned mask covers the face: high inside the extracted mask, low outside it
    inside = (learned_masks * masks).sum() / masks.sum()
    outside = (learned_masks * (1 - masks)).sum() / (1 - masks).sum()
    assert inside > 0.6 and outside < 0.4, (float(inside), float(outside))


def test_model_folder_describes_itself(trained_swap_model, extracted_faces):
    description = json.loads((trained_swap_model / "model.json").read_text())
    template = alignments_file.load(extracted_faces["a"]).template
    assert description["preset"] == "original" and description["resolution"] == 64
    assert description["template"] == template.as_dict() and description["coverage"] == template.coverage
    assert description["steps"] == SWAP_TEST_STEPS and description["version"] == 1
    assert description["widths"]["encoder_widths"] and description["widths"]["decoder_widths"]
    model, info = load_swap_model(trained_swap_model, torch.device("cpu"))
    assert isinstance(info, ModelInfo) and info.resolution == 64 and info.template.fits(template)
    assert not model.training
    crops = torch.from_numpy(np.stack([cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
                                       for path in sorted((extracted_faces["a"] / "faces").glob("*.jpg"))[:3]]))
    faces = crops.permute(0, 3, 1, 2).float() / 255
    swapped, masks = model.swap(faces, "a2b")
    assert swapped.shape == (3, 3, 64, 64) and masks.shape == (3, 1, 64, 64)
    assert 0 <= float(swapped.min()) and float(swapped.max()) <= 1 and 0 <= float(masks.min()) and float(masks.max()) <= 1
    assert (trained_swap_model / "train_config.json").is_file()


def test_checkpoints_load_without_pickle(trained_swap_model):
    from safetensors.torch import load_file

    latest = json.loads((trained_swap_model / "training" / "checkpoints" / "latest.json").read_text())
    folder = trained_swap_model / "training" / "checkpoints" / latest["dir"]
    state = torch.load(folder / "trainer_state.pt", map_location="cpu", weights_only=True)
    assert state["optimizer"]["state"]
    task_weights = load_file(str(folder / "model.safetensors"))
    assert int(task_weights["augment_calls"]) == SWAP_TEST_STEPS
    assert json.loads((trained_swap_model / "train_config.json").read_text())["batch_size"] == 8  # auto, on the CPU
    # the model folder's weights are the last checkpoint's file itself: written once
    assert os.path.samefile(trained_swap_model / "model.safetensors", folder / "model.safetensors")
    model, _ = load_swap_model(trained_swap_model)
    assert torch.equal(model.state_dict()["decoder_b.to_face_and_mask.weight"], task_weights["model.decoder_b.to_face_and_mask.weight"])


def test_preview_grid_shows_the_faces(trained_swap_model, extracted_faces):
    preview = cv2.imread(str(trained_swap_model / "preview.png"))
    assert preview is not None
    tile = max(64, MIN_TILE_PX)
    rows = (preview.shape[0] - HEADER_PX) // tile
    assert rows >= 2 and preview.shape[1] == len(COLUMNS) * tile
    _, held_a = _held_out(extracted_faces["a"], tile)
    _, held_b = _held_out(extracted_faces["b"], tile)

    def tile_at(row, column):
        top = HEADER_PX + row * tile
        return cv2.cvtColor(preview[top:top + tile, column * tile:(column + 1) * tile], cv2.COLOR_BGR2GRAY).astype(np.float32)

    def correlation(x, y):
        return float(np.corrcoef(x.ravel(), y.ravel())[0, 1])

    for row in range(rows):
        for column, held in ((0, held_a), (3, held_b)):
            source = (held[row, :3].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
            source_gray = cv2.cvtColor(source, cv2.COLOR_RGB2GRAY).astype(np.float32)
            assert correlation(tile_at(row, column), source_gray) > 0.95  # the input column is that held-out face
            assert correlation(tile_at(row, column + 1), tile_at(row, column)) > 0.6  # its reconstruction looks like it
        assert tile_at(row, 2).std() > 10 and tile_at(row, 5).std() > 10  # swaps draw something, not a flat tile


def test_training_refuses_to_overwrite_a_model(trained_swap_model, extracted_faces):
    config = SwapTrainConfig(faces_a=str(extracted_faces["a"]), faces_b=str(extracted_faces["b"]),
                             model_dir=str(trained_swap_model), steps=1)
    with pytest.raises(UserError, match="--resume"):
        train_swap(config)


def test_training_uses_the_perceptual_loss_and_saves_none_of_its_network(extracted_faces, tmp_path):
    from safetensors.torch import load_file

    from test_swap_support import TINY_MODEL, faces_subset

    faces = {side: faces_subset(extracted_faces[side], tmp_path / side, 16) for side in "ab"}
    model_dir = tmp_path / "model"
    train_swap(SwapTrainConfig(faces_a=str(faces["a"]), faces_b=str(faces["b"]), model_dir=str(model_dir), batch_size=4,
                               steps=2, eval_every=2, save_every=2, min_faces=10, threads=1, device="cpu", progress=False,
                               segmenter="none", perceptual_weight=1.0, **TINY_MODEL))
    assert [value for _, value in _metric_rows(model_dir, "perceptual_a")]
    latest = json.loads((model_dir / "training" / "checkpoints" / "latest.json").read_text())
    task_weights = load_file(str(model_dir / "training" / "checkpoints" / latest["dir"] / "model.safetensors"))
    assert not [name for name in task_weights if name.startswith("loss.")]


def test_adversarial_training_keeps_the_discriminator_out_of_the_model(extracted_faces, tmp_path):
    from safetensors.torch import load_file

    from test_swap_support import TINY_MODEL, faces_subset

    faces = {side: faces_subset(extracted_faces[side], tmp_path / side, 16) for side in "ab"}
    model_dir = tmp_path / "model"
    settings = dict(faces_a=str(faces["a"]), faces_b=str(faces["b"]), model_dir=str(model_dir), batch_size=4,
                    eval_every=2, save_every=2, min_faces=10, threads=1, device="cpu", progress=False,
                    segmenter="none", perceptual_weight=0.0, adversarial_weight=0.1, **TINY_MODEL)
    train_swap(SwapTrainConfig(steps=2, **settings))
    train_swap(SwapTrainConfig(steps=4, resume=True, **settings))  # the discriminator comes back from the checkpoint
    assert not [name for name in load_file(str(model_dir / "model.safetensors")) if "discriminator" in name]
    assert load_swap_model(model_dir)[0].resolution == 64  # the model's weights written apart load as a linked file does
    checkpoint = model_dir / "training" / "checkpoints" / "step_00000004" / "model.safetensors"
    assert "adversarial.discriminator.body.0.weight" in load_file(str(checkpoint))
    assert [value for _, value in _metric_rows(model_dir, "adv_d")]


def test_auto_threads_are_timed_on_the_cpu_and_recorded(extracted_faces, tmp_path, caplog):
    import logging

    from test_swap_support import TINY_MODEL, faces_subset

    faces = {side: faces_subset(extracted_faces[side], tmp_path / side, 16) for side in "ab"}
    before = torch.get_num_threads()
    try:
        with caplog.at_level(logging.INFO, logger="faceswap.engine"):
            train_swap(SwapTrainConfig(faces_a=str(faces["a"]), faces_b=str(faces["b"]), model_dir=str(tmp_path / "model"),
                                       batch_size=4, steps=2, eval_every=2, save_every=2, min_faces=10, device="cpu",
                                       progress=False, segmenter="none", perceptual_weight=0.0, **TINY_MODEL))
    finally:
        torch.set_num_threads(before)
    recorded = json.loads((tmp_path / "model" / "train_config.json").read_text())["threads"]
    cores = os.cpu_count() or 2
    assert recorded in {max(1, cores // 2), cores}  # what the timing chose, for the record and a repeat
    if cores > 1:
        assert "CPU threads:" in caplog.text


def test_ema_exports_the_averaged_weights_and_checkpoints_keep_the_trained_ones(extracted_faces, tmp_path):
    from safetensors.torch import load_file

    from faceswap.engine.checkpoint import read_checkpoint
    from test_swap_support import TINY_MODEL, faces_subset

    faces = {side: faces_subset(extracted_faces[side], tmp_path / side, 16) for side in "ab"}
    model_dir = tmp_path / "model"
    train_swap(SwapTrainConfig(faces_a=str(faces["a"]), faces_b=str(faces["b"]), model_dir=str(model_dir), batch_size=4,
                               steps=3, eval_every=3, save_every=3, min_faces=10, threads=1, device="cpu", progress=False,
                               segmenter="none", perceptual_weight=0.0, ema=0.9, **TINY_MODEL))
    folder = model_dir / "training" / "checkpoints" / "step_00000003"
    trained = load_file(str(folder / "model.safetensors"))
    average = read_checkpoint(folder)[1]["ema"]
    exported = load_file(str(model_dir / "model.safetensors"))
    assert exported.keys() == {name[len("model."):] for name in trained if name.startswith("model.")}
    for name, value in exported.items():
        assert torch.equal(value, average[f"model.{name}"])
    assert any(not torch.equal(value, trained[f"model.{name}"]) for name, value in exported.items())
    assert load_swap_model(model_dir)[0].resolution == 64
