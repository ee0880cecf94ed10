"""``mp4``: H.264 (libx264, or NVENC on an NVIDIA GPU; yuv420p) with the source's audio, via ``faceswap.video.VideoWriter``."""
from __future__ import annotations

import os

import numpy as np

from faceswap.registry import register
from faceswap.video.writers._base import FrameWriter


@register("video_writer", "mp4")
class Mp4Writer(FrameWriter):
    """Options: ``crf`` (0-51, default 18), ``preset`` (x264, default "medium"), ``threads`` (0 = auto),
    ``encoder`` (x264, nvenc or nvenc_hevc; NVENC falls back to x264). ``encoder``/``warning``: what opened, and why not NVENC."""

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: float,
                 audio_from: str | os.PathLike | None = None, audio_start: float = 0.0,
                 audio_end: float | None = None, crf: int = 18, preset: str = "medium", threads: int = 0,
                 encoder: str = "x264"):
        from faceswap.video.writer import VideoWriter

        self._video = VideoWriter(path, width, height, fps, crf=crf, preset=preset, audio_from=audio_from,
                                  audio_start=audio_start, audio_end=audio_end, threads=threads, encoder=encoder)
        self.encoder, self.warning = self._video.encoder, self._video.warning

    def write(self, frame_bgr_uint8: np.ndarray) -> None:
        self._video.write(frame_bgr_uint8)

    def close(self) -> None:
        self._video.close()

    def abort(self) -> None:
        self._video.abort()
