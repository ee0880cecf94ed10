"""Contract tests over every registered ``video_writer`` plugin, plus png_folder specifics."""
from __future__ import annotations

import numpy as np
import pytest

from faceswap.errors import UserError
from faceswap.registry import get, names
from faceswap.video import open_reader

WIDTH, HEIGHT = 64, 48
OUTPUT_NAMES = {"mp4": "out.mp4"}  # folder-like writers take a plain name


def _frames(count: int = 3) -> list[np.ndarray]:
    ramp = np.linspace(0, 255, WIDTH, dtype=np.uint8)
    return [np.ascontiguousarray(np.broadcast_to(ramp[None, :, None], (HEIGHT, WIDTH, 3)) // (index + 1)) for index in range(count)]


def test_builtin_writers_are_registered():
    assert {"mp4", "png_folder"} <= set(names("video_writer"))


@pytest.mark.parametrize("name", names("video_writer"))
def test_writer_output_reads_back(name, tmp_path):
    target = tmp_path / OUTPUT_NAMES.get(name, "out")
    frames = _frames()
    with get("video_writer", name)(target, WIDTH, HEIGHT, 24.0) as writer:
        for frame in frames:
            writer.write(frame)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # published, no temp left
    with open_reader(target) as reader:
        decoded = [f.image for f in reader]
    assert len(decoded) == len(frames)
    for original, copy in zip(frames, decoded):
        assert copy.shape == original.shape and np.abs(copy.astype(int) - original).mean() < 3


@pytest.mark.parametrize("name", names("video_writer"))
def test_writer_leaves_nothing_on_error_or_abort(name, tmp_path):
    writer_class = get("video_writer", name)
    with pytest.raises(RuntimeError):
        with writer_class(tmp_path / OUTPUT_NAMES.get(name, "out"), WIDTH, HEIGHT, 24.0) as writer:
            writer.write(_frames(1)[0])
            raise RuntimeError("interrupted")
    writer = writer_class(tmp_path / OUTPUT_NAMES.get(name, "other"), WIDTH, HEIGHT, 24.0)
    writer.write(_frames(1)[0])
    writer.abort()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", names("video_writer"))
def test_writer_accepts_the_audio_arguments(name, tmp_path, asset):
    target = tmp_path / OUTPUT_NAMES.get(name, "out")
    with get("video_writer", name)(target, WIDTH, HEIGHT, 24.0, audio_from=asset("video_no_face"),
                                   audio_start=0.5, audio_end=1.0) as writer:
        for frame in _frames(24):
            writer.write(frame)
    with open_reader(target) as reader:
        assert sum(1 for _ in reader) == 24


def test_png_folder_numbers_frames_and_replaces_its_previous_output(tmp_path):
    target = tmp_path / "frames"
    writer_class = get("video_writer", "png_folder")
    for count in (3, 2):
        with writer_class(target, WIDTH, HEIGHT, 24.0, start_number=1) as writer:
            for frame in _frames(count):
                writer.write(frame)
    assert sorted(p.name for p in target.iterdir()) == ["000001.png", "000002.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]


def test_png_folder_refuses_a_folder_with_other_files(tmp_path):
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="other than PNG"):
        get("video_writer", "png_folder")(target, WIDTH, HEIGHT, 24.0)
    assert (target / "notes.txt").read_text() == "keep me"
