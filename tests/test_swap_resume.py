"""Exact resume: a training process killed with SIGKILL and resumed ends with the same weights as
one that was never interrupted (deterministic mode). Both run through the `faceswap train` CLI."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from test_swap_support import TINY_MODEL, faces_subset

STEPS = 40


@pytest.fixture(scope="module")
def small_faces(extracted_faces, tmp_path_factory):
    root = tmp_path_factory.mktemp("resume_faces")
    return {side: faces_subset(extracted_faces[side], root / side, 24) for side in "ab"}


def _train_args(faces, model_dir: Path) -> list[str]:
    widths = [f"--{name.replace('_', '-')}" if i == 0 else str(v)
              for name, value in TINY_MODEL.items() for i, v in enumerate([None, *([value] if isinstance(value, int) else value)])]
    return [str(Path(sys.executable).parent / "faceswap"), "train", "-A", str(faces["a"]), "-B", str(faces["b"]),
            "-m", str(model_dir), "--steps", str(STEPS), "--save-every", "10", "--eval-every", "30", "--log-every", "10",
            "--batch-size", "4", "--min-faces", "10", "--deterministic", "--threads", "1", "--seed", "5",
            "--no-progress", "--segmenter", "none", *widths]


def _latest_step(model_dir: Path) -> int:
    pointer = model_dir / "training" / "checkpoints" / "latest.json"
    try:
        return json.loads(pointer.read_text())["step"]
    except (OSError, ValueError, KeyError):
        return 0


def test_killed_run_resumes_to_the_same_weights(small_faces, tmp_path):
    killed_dir, whole_dir = tmp_path / "killed", tmp_path / "whole"
    process = subprocess.Popen(_train_args(small_faces, killed_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _latest_step(killed_dir) < 10 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate()
    assert process.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    assert 10 <= _latest_step(killed_dir) < STEPS  # killed midway, after a checkpoint

    resumed = subprocess.run([*_train_args(small_faces, killed_dir), "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resumed from" in resumed.stdout + resumed.stderr
    whole = subprocess.run(_train_args(small_faces, whole_dir), capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr[-2000:]

    for name in ("model.safetensors", f"training/checkpoints/step_{STEPS:08d}/model.safetensors"):
        resumed_weights, whole_weights = load_file(str(killed_dir / name)), load_file(str(whole_dir / name))
        assert resumed_weights.keys() == whole_weights.keys()
        different = [key for key in whole_weights if not torch.equal(resumed_weights[key], whole_weights[key])]
        assert not different, f"{name}: {different[:5]}"
    assert json.loads((killed_dir / "model.json").read_text())["steps"] == STEPS


def test_resume_without_a_model_starts_one_and_refuses_another_preset(small_faces, tmp_path):
    from faceswap.errors import UserError
    from faceswap.swap import SwapTrainConfig, train_swap

    config = SwapTrainConfig(faces_a=str(small_faces["a"]), faces_b=str(small_faces["b"]), model_dir=str(tmp_path / "m"),
                             steps=2, batch_size=4, min_faces=10, threads=1, resume=True, progress=False, segmenter="none",
                             **TINY_MODEL)
    train_swap(config)
    assert json.loads((tmp_path / "m" / "model.json").read_text())["steps"] == 2
    with pytest.raises(UserError, match="drop --preset"):
        train_swap(SwapTrainConfig(**{**config.__dict__, "preset": "large128", "steps": 4}))


def _logged_steps(model_dir: Path) -> int:
    try:
        lines = (model_dir / "training" / "metrics.csv").read_text().splitlines()
    except OSError:
        return 0
    return len(lines) - 1


def test_ctrl_c_saves_the_model_and_a_timelapse_frame(small_faces, tmp_path):
    model_dir, timelapse = tmp_path / "m", tmp_path / "timelapse"
    args = _train_args(small_faces, model_dir)
    args[args.index("--steps") + 1] = "100000"
    args[args.index("--save-every") + 1] = "100000"  # no periodic save: whatever is saved came from Ctrl-C
    # SIGINT back to its default in the child: a test run started in the background (nohup, &)
    # passes an ignored SIGINT on, and Python then never raises KeyboardInterrupt.
    process = subprocess.Popen([*args, "--timelapse", str(timelapse)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while _logged_steps(model_dir) < 1 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()  # never leave a training process behind
    assert process.returncode == 130, stderr.decode()[-2000:]
    assert "--resume" in stderr.decode()
    steps = json.loads((model_dir / "model.json").read_text())["steps"]
    assert steps >= 10 and (model_dir / "model.safetensors").is_file() and (model_dir / "preview.png").is_file()
    assert (timelapse / f"preview_{steps:08d}.png").is_file()
    assert _latest_step(model_dir) == steps
