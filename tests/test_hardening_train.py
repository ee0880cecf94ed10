"""Bad inputs to `train`, the engine, config files and `classify` end in one `error:` line (exit 2,
no traceback), and a train that fails leaves nothing that blocks a plain rerun.

Runs train tiny models for a couple of steps on a dozen real faces (or two), in this process."""
from __future__ import annotations

import errno
import json
import os
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from faceswap.cli.main import main as faceswap_main
from faceswap.errors import UserError
from faceswap.swap import SwapTrainConfig, load_swap_model, train_swap
from test_swap_support import TINY_MODEL, faces_subset

FAST = dict(steps=2, batch_size=2, eval_every=2, save_every=2, log_every=2, threads=1, device="cpu", progress=False,
            segmenter="none", perceptual_weight=0.0, min_faces=2, **TINY_MODEL)


def _flags(**settings) -> list[str]:
    """Command-line flags for ``settings`` (FAST by default)."""
    argv = []
    for name, value in {**FAST, **settings}.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + name.replace("_", "-"))
        elif isinstance(value, tuple):
            argv += [flag, *map(str, value)]
        else:
            argv += [flag, str(value)]
    return argv


def _fails_in_one_line(capsys, argv: list[str], *expected: str) -> str:
    """Run `faceswap ARGV` here; it must exit 2 with one `error:` line holding every expected text."""
    code = faceswap_main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    for text in expected:
        assert text in err, err
    return err


@pytest.fixture(scope="module")
def faces(extracted_faces, tmp_path_factory):
    root = tmp_path_factory.mktemp("hardening_faces")
    return {f"{side}{count}": faces_subset(extracted_faces[side], root / f"{side}{count}", count)
            for side in "ab" for count in (2, 12)}


@pytest.fixture(scope="module")
def tiny_model(faces, tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("hardening_model") / "m"
    train_swap(SwapTrainConfig(faces_a=str(faces["a12"]), faces_b=str(faces["b12"]), model_dir=str(model_dir), **FAST))
    return model_dir


def _copy(model_dir, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(model_dir, target)
    return target


def _train_argv(faces, model_dir, a="a12", b="b12", **settings) -> list[str]:
    return ["train", "-A", str(faces[a]), "-B", str(faces[b]), "-m", str(model_dir), *_flags(**settings)]


# 1. config files --------------------------------------------------------------------------------
@pytest.mark.parametrize("content, kind", [("[1, 2]", "list"), ('"steps"', "string"), ("7", "number")])
def test_a_config_file_that_is_not_an_object_is_refused(capsys, tmp_path, faces, content, kind):
    (tmp_path / "settings.json").write_text(content)
    _fails_in_one_line(capsys, _train_argv(faces, tmp_path / "m", config=str(tmp_path / "settings.json")),
                       "settings.json", f"holds a JSON {kind}", "one JSON object")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("settings, expected", [
    ({"steps": "ten"}, '"steps" in the config file'),
    ({"lr": True}, '"lr" in the config file'),
    ({"encoder_widths": [8, "x"]}, "not a list of whole numbers"),
    ({"precision": "fp8"}, 'not one of "auto"'),
    ({"config_type": "ConvertConfig"}, "holds ConvertConfig settings, not SwapTrainConfig"),
])
def test_a_config_file_value_of_the_wrong_kind_is_named(capsys, tmp_path, faces, settings, expected):
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    _fails_in_one_line(capsys, _train_argv(faces, tmp_path / "m", config=str(tmp_path / "settings.json")), expected)


def test_a_resolved_train_config_is_a_valid_config_file(tiny_model, faces, tmp_path):
    from faceswap.cli.train import add_parser
    from faceswap.config import from_args
    import argparse

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["train", "--steps", "3"])
    config = from_args(SwapTrainConfig, args, str(tiny_model / "train_config.json"))
    assert config.steps == 3 and config.encoder_widths == TINY_MODEL["encoder_widths"]


def test_batch_size_auto_is_the_cpu_default_and_a_resumed_run_keeps_its_own(tiny_model, faces):
    import argparse
    from dataclasses import replace

    from faceswap.cli.train import add_parser
    from faceswap.swap.batch_size import CPU_BATCH, resolve_batch_size

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    assert parser.parse_args(["train", "--batch-size", "auto"]).batch_size == 0
    assert parser.parse_args(["train", "--batch-size", "16"]).batch_size == 16
    for bad in ("0", "eight"):
        with pytest.raises(SystemExit):
            parser.parse_args(["train", "--batch-size", bad])
    auto = SwapTrainConfig(faces_a=str(faces["a12"]), faces_b=str(faces["b12"]), model_dir=str(tiny_model),
                           **{**FAST, "batch_size": 0})
    cpu = torch.device("cpu")
    assert resolve_batch_size(auto, None, cpu, pairs=100) == CPU_BATCH != FAST["batch_size"]
    assert resolve_batch_size(replace(auto, resume=True), None, cpu, pairs=100) == FAST["batch_size"]  # its checkpoint's
    assert resolve_batch_size(replace(auto, batch_size=3), None, cpu, pairs=100) == 3


# 2. two faces a side ------------------------------------------------------------------------------
def test_two_faces_a_side_train_on_both_and_say_so(faces, tmp_path, caplog):
    caplog.set_level("WARNING", logger="faceswap.swap")
    metrics = train_swap(SwapTrainConfig(faces_a=str(faces["a2"]), faces_b=str(faces["b2"]), model_dir=str(tmp_path / "m"),
                                         **FAST))
    assert metrics["val_ssim_a"] > 0 and (tmp_path / "m" / "model.safetensors").is_file()
    assert "too few (2) to hold some out" in caplog.text


# 3. -m names a file ---------------------------------------------------------------------------------
def test_a_model_dir_that_is_a_file_is_refused(capsys, tmp_path, faces):
    (tmp_path / "notes.txt").write_text("mine")
    _fails_in_one_line(capsys, _train_argv(faces, tmp_path / "notes.txt"), "notes.txt", "is a file, not a folder")
    assert (tmp_path / "notes.txt").read_text() == "mine"


# 4. full or read-only disk ------------------------------------------------------------------------
@pytest.mark.parametrize("raised", ["oserror", "safetensors"])
def test_a_full_disk_names_the_folder_and_a_rerun_after_it_works(capsys, tmp_path, faces, monkeypatch, raised):
    """The first checkpoint meets a full disk (as write() reports it, or as safetensors wraps it);
    the run ends in one sentence, and once there is room the same command trains (no --resume)."""
    from safetensors import SafetensorError

    from faceswap.engine import checkpoint

    def full_disk(*args, **kwargs):
        if raised == "oserror":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(checkpoint, "save_model", full_disk)
    model_dir = tmp_path / "m"
    _fails_in_one_line(capsys, _train_argv(faces, model_dir), f"'{model_dir / 'training' / 'checkpoints'}'",
                       "No space left on device", "free some space")
    assert not list((model_dir / "training" / "checkpoints").iterdir())  # no half-written checkpoint
    monkeypatch.undo()
    assert faceswap_main(_train_argv(faces, model_dir)) == 0, capsys.readouterr().err


def test_a_read_only_file_system_is_one_sentence_in_any_command(capsys):
    """An EROFS that reaches the CLI names the path and the fix; an OSError of another kind stays a bug."""
    import argparse

    from faceswap.cli.main import run_cli

    def parser_raising(error: OSError) -> argparse.ArgumentParser:
        def run(args):
            raise error

        parser = argparse.ArgumentParser(prog="faceswap")
        parser.set_defaults(run=run)
        return parser

    assert run_cli(parser_raising(OSError(errno.EROFS, os.strerror(errno.EROFS), "/media/ro/model")), []) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: Cannot write '/media/ro/model' (Read-only file system); choose a writable folder.", err
    with pytest.raises(OSError):
        run_cli(parser_raising(OSError(errno.EBADF, "Bad file descriptor")), [])


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root: chmod does not stop root from writing, so a read-only folder cannot be "
                           "made this way (the monkeypatched full-disk test covers the same path)")
def test_a_read_only_folder_is_one_sentence(capsys, tmp_path, faces):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        _fails_in_one_line(capsys, _train_argv(faces, parent / "m"), str(parent))
    finally:
        parent.chmod(0o755)


# 5. model.json that does not describe its model -----------------------------------------------------
@pytest.mark.parametrize("damage, expected", [
    (lambda d: d.update(resolution=128), "says resolution 128 but its options build a 64 px model"),
    (lambda d: d["options"].update(colour_depth=3), "do not build the 'original' model"),
])
def test_a_model_json_that_disagrees_with_itself_names_the_folder(capsys, tiny_model, tmp_path, faces, damage, expected):
    model_dir = _copy(tiny_model, tmp_path)
    description = json.loads((model_dir / "model.json").read_text())
    damage(description)
    (model_dir / "model.json").write_text(json.dumps(description))
    with pytest.raises(UserError, match=expected) as error:
        load_swap_model(model_dir)
    assert str(model_dir / "model.json") in str(error.value)
    _fails_in_one_line(capsys, _train_argv(faces, model_dir, resume=True, steps=4), str(model_dir / "model.json"), expected)


# 6. classify on a damaged weights file ---------------------------------------------------------------
def test_classify_predict_on_a_damaged_weights_file_names_it(capsys, tmp_path):
    import cv2
    import numpy as np

    from classify.cli import main as classify_main
    from classify.network import ModelSpec, build_classifier
    from classify.rundir import save_run

    spec = ModelSpec(model="perceptron", head="linear", classes=("0", "1"), img_size=8, channels=1, mean=(0.5,), std=(0.25,))
    run = tmp_path / "run"
    save_run(run, build_classifier(spec), spec, {})
    image = tmp_path / "digit.png"
    cv2.imwrite(str(image), np.zeros((8, 8), np.uint8))
    assert classify_main(["predict", str(run), str(image)]) == 0
    capsys.readouterr()
    weights = run / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    code = classify_main(["predict", str(run), str(image)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and "\n" not in err, err
    assert str(weights) in err and "damaged" in err


# 7. nothing left behind that blocks a rerun ----------------------------------------------------------
@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_a_missing_gpu_is_named_before_anything_is_written(capsys, tmp_path, faces):
    _fails_in_one_line(capsys, _train_argv(faces, tmp_path / "m", device="cuda"), "no CUDA GPU", "--device cpu")
    assert not (tmp_path / "m").exists()


def test_a_folder_left_before_the_first_save_is_not_a_model(tmp_path, faces):
    """What a run that died before its first checkpoint leaves (model.json, train_config.json, the face cache)
    does not stop a plain rerun, which reuses the face cache."""
    model_dir = tmp_path / "m"
    config = SwapTrainConfig(faces_a=str(faces["a12"]), faces_b=str(faces["b12"]), model_dir=str(model_dir), **FAST)
    from faceswap.swap import train as swap_train

    class Dies(Exception):
        pass

    def dies(*args, **kwargs):
        raise Dies

    original = swap_train.ModelExporter  # made right after model.json and train_config.json are written
    swap_train.ModelExporter = dies
    try:
        with pytest.raises(Dies):
            train_swap(config)
    finally:
        swap_train.ModelExporter = original
    assert (model_dir / "model.json").is_file() and (model_dir / "train_config.json").is_file()
    train_swap(config)
    assert (model_dir / "model.safetensors").is_file()
    with pytest.raises(UserError, match="already holds a swap model"):  # now it is one
        train_swap(config)


def test_ctrl_c_before_the_first_save_does_not_promise_a_model(capsys, tmp_path, faces, monkeypatch):
    import faceswap.swap

    def interrupted(config, callbacks=()):
        raise KeyboardInterrupt

    monkeypatch.setattr(faceswap.swap, "train_swap", interrupted)
    assert faceswap_main(_train_argv(faces, tmp_path / "m")) == 130
    err = capsys.readouterr().err
    assert "before the first save" in err and "--resume" not in err, err


# 8. accepted silently before ------------------------------------------------------------------------
def test_the_same_faces_folder_for_a_and_b_is_refused(capsys, tmp_path, faces):
    argv = ["train", "-A", str(faces["a12"]), "-B", str(faces["a12"]) + os.sep, "-m", str(tmp_path / "m"), *_flags()]
    _fails_in_one_line(capsys, argv, "both name the faces folder", "two different people")
    assert not (tmp_path / "m").exists()


def test_resume_with_a_and_b_swapped_is_refused(capsys, tiny_model, tmp_path, faces):
    model_dir = _copy(tiny_model, tmp_path)
    _fails_in_one_line(capsys, _train_argv(faces, model_dir, a="b12", b="a12", resume=True, steps=4),
                       "swapped", str(faces["a12"]))
    assert json.loads((model_dir / "model.json").read_text())["steps"] == 2


@pytest.mark.parametrize("damage", ["trainer_state", "state"])
def test_a_damaged_checkpoint_is_named_on_resume(capsys, tiny_model, tmp_path, faces, damage):
    model_dir = _copy(tiny_model, tmp_path)
    step = model_dir / "training" / "checkpoints" / "step_00000002"
    if damage == "trainer_state":
        (step / "trainer_state.pt").write_bytes(b"PK\x03\x04 not a checkpoint")
    else:
        (step / "state.json").write_text('{"step": 2}')
    _fails_in_one_line(capsys, _train_argv(faces, model_dir, resume=True, steps=4), str(step), "damaged",
                       "delete that checkpoint folder")


def test_weights_with_nan_are_refused_at_load(capsys, tiny_model, tmp_path, faces):
    model_dir = _copy(tiny_model, tmp_path)
    checkpoint = model_dir / "training" / "checkpoints" / "step_00000002" / "model.safetensors"
    for path in (model_dir / "model.safetensors", checkpoint):
        state = load_file(str(path))
        name = next(key for key, value in state.items() if value.is_floating_point())
        state[name][...] = float("nan")
        save_file(state, str(path))
    with pytest.raises(UserError, match="NaN or infinite") as error:  # what convert loads
        load_swap_model(model_dir)
    assert str(model_dir / "model.safetensors") in str(error.value)
    _fails_in_one_line(capsys, _train_argv(faces, model_dir, resume=True, steps=4), str(checkpoint), "NaN or infinite")
