"""Fault injection: extract, train and convert killed with SIGKILL at random moments, then run
again (7 kills in the default suite; FAULT_KILLS=full kills 20 times). After each kill no file under its final name is half-written; after the
next run no temporary file is left, and the result matches a run that was never interrupted.

The kill moments are drawn (fixed seed), one in each equal slice of an uninterrupted run's time,
so some fall before the first checkpoint, some mid-write, some near the end.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from test_swap_resume import _train_args
from test_swap_support import faces_subset
from _image_files import is_whole_image

# The default suite kills each stage a few times; FAULT_KILLS=full runs the 20-kill sweep (about 3 minutes here).
KILLS = ({"extract": 8, "train": 6, "convert": 6} if os.environ.get("FAULT_KILLS") == "full"
         else {"extract": 4, "train": 1, "convert": 2})
SEED = 2026


def _cli(*argv: str) -> list[str]:
    return [str(Path(sys.executable).parent / "faceswap"), *argv]


def _timed_run(command: list[str]) -> float:
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return time.monotonic() - started


def _kill_at(command: list[str], seconds: float) -> int:
    """Start ``command``, SIGKILL it after ``seconds`` (unless it finished first); its exit code."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    return process.returncode


def _moments(kind: str, whole_run: float) -> list[float]:
    """One random moment in each of KILLS[kind] equal slices of the run (after the first 15%: start-up)."""
    rng = np.random.default_rng([SEED, len(kind)])
    edges = np.linspace(0.15, 1.0, KILLS[kind] + 1)
    return list(rng.uniform(edges[:-1], edges[1:]) * whole_run)


def _temporaries(folder: Path) -> list[str]:
    """Files a finished run must not leave: hidden temporaries and partial writes (the lock is released too)."""
    return [str(p.relative_to(folder)) for p in folder.rglob(".*")] if folder.exists() else []


def _whole_images(folder: Path) -> None:
    for path in [*folder.rglob("*.png"), *folder.rglob("*.jpg")]:
        assert is_whole_image(path), f"{path} is half-written"


@pytest.fixture(scope="module")
def small_faces(extracted_faces, tmp_path_factory):
    root = tmp_path_factory.mktemp("fault_faces")
    return {side: faces_subset(extracted_faces[side], root / side, 24) for side in "ab"}


def test_extract_killed_at_random_resumes_to_the_same_faces(asset, tmp_path):
    from faceswap.align.alignments import load
    from faceswap.extract import ExtractConfig, extract

    video = str(asset("video_single_face"))
    whole = tmp_path / "whole"
    whole_seconds = _timed_run(_cli("extract", "-i", video, "-o", str(whole), "--save-every", "8"))
    reference = [(frame.index, face.face_file, face.track_id, face.landmarks_array()) for frame, face in load(whole).faces()]
    for attempt, moment in enumerate(_moments("extract", whole_seconds)):
        out = tmp_path / f"killed_{attempt}"
        command = _cli("extract", "-i", video, "-o", str(out), "--save-every", "8")
        _kill_at(command, moment)
        if (out / "alignments.json").is_file():
            json.loads((out / "alignments.json").read_text())  # never half-written
        _whole_images(out)
        extract(ExtractConfig(input=video, output_dir=str(out), save_every=8, resume=True, progress=False))  # in-process: quicker
        resumed = [(frame.index, face.face_file, face.track_id, face.landmarks_array()) for frame, face in load(out).faces()]
        assert load(out).complete and [r[:3] for r in resumed] == [r[:3] for r in reference], moment
        assert all(np.allclose(a[3], b[3], atol=0.01) for a, b in zip(resumed, reference)), moment
        on_disk = sorted(p.name for p in (out / "faces").iterdir())
        assert on_disk == sorted(Path(r[1]).name for r in reference) and not _temporaries(out), (moment, _temporaries(out))


def test_train_killed_at_random_resumes_to_the_same_weights(small_faces, tmp_path):
    from safetensors.torch import load_file

    whole = tmp_path / "whole"
    whole_seconds = _timed_run(_train_args(small_faces, whole))
    expected = load_file(str(whole / "model.safetensors"))
    for attempt, moment in enumerate(_moments("train", whole_seconds)):
        model_dir = tmp_path / f"killed_{attempt}"
        _kill_at(_train_args(small_faces, model_dir), moment)
        for weights in model_dir.rglob("*.safetensors"):
            load_file(str(weights))  # complete, or absent
        result = subprocess.run([*_train_args(small_faces, model_dir), "--resume"], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (moment, result.stderr)
        got = load_file(str(model_dir / "model.safetensors"))
        assert got.keys() == expected.keys() and all(bool((got[k] == expected[k]).all()) for k in got), moment
        assert not _temporaries(model_dir), (moment, _temporaries(model_dir))


def test_convert_killed_at_random_leaves_nothing_half_written(asset, tmp_path, trained_swap_model):
    from faceswap.video import open_reader

    video = str(asset("video_single_face"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / "swapped.mp4"

    def command(target: Path) -> list[str]:
        return _cli("convert", "-i", video, "-m", str(trained_swap_model), "-o", str(target), "--swap", "b2a",
                    "--frames", "0:24", "--encoder-preset", "ultrafast", "--threads", "1", "--no-progress")

    whole = tmp_path / "whole.mp4"
    whole_seconds = _timed_run(command(whole))
    with open_reader(whole) as reader:
        expected = [frame.image for frame in reader]
    for moment in _moments("convert", whole_seconds):
        output.unlink(missing_ok=True)
        _kill_at(command(output), moment)
        if output.exists():  # renamed into place before the kill: then it is whole
            with open_reader(output) as reader:
                assert sum(1 for _ in reader) == len(expected), moment
        result = subprocess.run(command(output), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (moment, result.stderr)
        with open_reader(output) as reader:
            frames = [frame.image for frame in reader]
        assert len(frames) == len(expected) and all(np.array_equal(a, b) for a, b in zip(frames, expected)), moment
        left = [p.name for p in out_dir.iterdir() if p.name != output.name and not p.name.startswith("swapped_preview")]
        assert left in ([], ["swapped.convert.json"]), (moment, left)


def test_the_kill_moments_cover_the_run():
    """One kill in each equal slice of the run after start-up: early, middle and late kills alike."""
    for kind, count in KILLS.items():
        moments = _moments(kind, 10.0)
        slices = np.linspace(1.5, 10.0, count + 1)
        assert len(moments) == count and all(low <= m <= high for m, low, high in zip(moments, slices[:-1], slices[1:]))


class _InterruptedFile:
    """A file whose second write is interrupted by Ctrl-C (as a stop button's SIGINT may land mid-save)."""

    def __init__(self, handle):
        self.handle, self.writes = handle, 0

    def write(self, data) -> int:
        self.writes += 1
        if self.writes == 2:
            raise KeyboardInterrupt
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()


def test_ctrl_c_during_a_torch_save_stays_a_keyboard_interrupt(tmp_path, monkeypatch):
    """torch.save reports an interrupted write as RuntimeError "unexpected pos", which the trainer's
    save-and-stop path would not catch: the stop would end the run as failed."""
    import builtins

    import torch

    from faceswap import fileio

    monkeypatch.setattr(fileio, "open", lambda path, mode: _InterruptedFile(builtins.open(path, mode)), raising=False)
    with pytest.raises(KeyboardInterrupt):
        fileio.save_torch({"weights": torch.zeros(100_000)}, tmp_path / "state.pt")
