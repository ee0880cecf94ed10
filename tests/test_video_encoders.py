"""The encoder choice: libx264, or NVENC with a clean fallback to libx264 and one sentence saying why -
whether this PyAV lacks NVENC or lists it but cannot open it (pip's wheels on a machine without a GPU)."""
from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from faceswap.video.encoders import choose_encoder, nvenc_problem
from faceswap.video.writer import VideoWriter

RATE = Fraction(30)


def test_x264_is_taken_as_asked():
    choice = choose_encoder("x264", 640, 360, RATE, crf=20, preset="veryfast")
    assert (choice.codec, choice.warning) == ("libx264", None)
    assert choice.describe() == "libx264 (veryfast, crf 20)"


def test_nvenc_missing_from_ffmpeg_falls_back_to_x264(monkeypatch):
    monkeypatch.setattr(av, "codecs_available", set(av.codecs_available) - {"h264_nvenc", "hevc_nvenc"})
    choice = choose_encoder("nvenc", 640, 360, RATE, crf=18, preset="medium")
    assert choice.codec == "libx264" and choice.options == {"crf": "18", "preset": "medium"}
    assert "has no h264_nvenc" in choice.warning and "libx264" in choice.warning and "\n" not in choice.warning


def test_nvenc_listed_but_failing_to_open_falls_back_to_x264(monkeypatch):
    class NoGpu:
        def __setattr__(self, name, value):
            pass

        def open(self):
            raise OSError("Cannot load libcuda.so.1")

    monkeypatch.setattr(av, "codecs_available", set(av.codecs_available) | {"hevc_nvenc"})
    monkeypatch.setattr(av.CodecContext, "create", staticmethod(lambda *args, **kwargs: NoGpu()))
    choice = choose_encoder("nvenc_hevc", 640, 360, RATE, crf=18, preset="medium")
    assert choice.codec == "libx264" and "hevc_nvenc did not open" in choice.warning and "libcuda" in choice.warning


def test_a_video_asked_of_nvenc_is_written_either_way(tmp_path):
    """On this machine: NVENC where it opens (a GPU), else libx264 with the warning; the video is complete."""
    from _convert_media import read_frames

    problem = nvenc_problem("h264_nvenc", 320, 240, RATE, {})
    frames = [np.full((240, 320, 3), 40 * n, np.uint8) for n in range(5)]
    with VideoWriter(tmp_path / "clip.mp4", 320, 240, 30, preset="ultrafast", encoder="nvenc") as writer:
        for frame in frames:
            writer.write(frame)
    if problem is None:
        assert writer.encoder.startswith("h264_nvenc") and writer.warning is None
    else:
        assert writer.encoder.startswith("libx264") and "--encoder nvenc" in writer.warning
    decoded = read_frames(tmp_path / "clip.mp4")
    assert decoded.shape == (5, 240, 320, 3)
    assert np.abs(decoded.astype(int) - np.stack(frames)).mean() < 3


def test_unknown_encoder_is_one_sentence(tmp_path):
    from faceswap.errors import UserError

    with pytest.raises(UserError, match="Unknown encoder 'vp9'.*x264, nvenc"):
        VideoWriter(tmp_path / "clip.mp4", 320, 240, 30, encoder="vp9")
    assert not list(tmp_path.iterdir())
