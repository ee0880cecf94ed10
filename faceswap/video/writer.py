"""H.264 video writer (libx264 or NVENC, yuv420p; .mp4, .m4v, .mov or .mkv) that carries the source's audio along.

The file is written under a temporary name beside the target and renamed into place by
``close()``; an exception inside the ``with`` block, or ``abort()``, deletes it, so a
half-written video never appears under the final name.

Colour: frames are converted BGR -> BT.601 limited-range I420 with OpenCV (exactly rounded, and
faster than swscale's default path, which truncates and darkens every re-encode by ~2 levels),
and the stream is tagged BT.601 so players use the same matrix.

yuv420p needs even sizes: an odd width or height is padded by one pixel (repeating the edge
column/row) so no picture is lost; even sizes are kept as they are.
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from faceswap.errors import UserError
from faceswap.fileio import atomic_path
from faceswap.video.audio import AudioTrack
from faceswap.video.encoders import ENCODER_NAMES, choose_encoder
from faceswap.video.writers import FrameWriter

AVCOL_SPC_SMPTE170M, AVCOL_RANGE_MPEG = 6, 1  # BT.601 matrix, limited (16-235) range
CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")


class _Aborted(Exception):
    """Raised into the atomic-path context to make it delete the temporary file."""


def rate_fraction(fps: float | Fraction) -> Fraction:
    """fps as the fraction containers store: 23.976... -> 24000/1001, 30.0 -> 30."""
    return Fraction(fps).limit_denominator(1001)


def even_size(width: int, height: int) -> tuple[int, int]:
    return width + width % 2, height + height % 2


def pad_to_even(frame: np.ndarray) -> np.ndarray:
    height, width = frame.shape[:2]
    if width % 2 == 0 and height % 2 == 0:
        return frame
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


class VideoWriter(FrameWriter):
    """``with VideoWriter(path, width, height, fps) as writer: writer.write(frame_bgr_uint8)``.

    ``audio_from``: a file whose audio is muxed in, cut to [audio_start, audio_end) seconds of
    that file's video clock (``Frame.time``); by default it runs as long as the frames written.
    ``threads``: encoder threads (0 = libx264's choice). ``encoder``: x264, or nvenc / nvenc_hevc
    (NVIDIA GPUs), which fall back to x264 when they cannot open; ``encoder`` and ``warning`` then
    say what was opened and why.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: float, crf: int = 18,
                 preset: str = "medium", audio_from: str | os.PathLike | None = None, audio_start: float = 0.0,
                 audio_end: float | None = None, threads: int = 0, encoder: str = "x264"):
        self.path = Path(path)
        _check_settings(self.path, width, height, fps, crf, preset, encoder)
        self.width, self.height = width, height
        self.rate = rate_fraction(fps)
        self._encoder = choose_encoder(encoder, width, height, self.rate, crf, preset)
        self.encoder, self.warning = self._encoder.describe(), self._encoder.warning
        self.frames_written = 0
        self._atomic = atomic_path(self.path)
        self._temp_path = self._atomic.__enter__()
        self._container = None
        self._audio: AudioTrack | None = None
        try:
            self._open(threads)
            if audio_from is not None:
                self._audio = AudioTrack(audio_from, self._container, audio_start, audio_end)
        except BaseException:
            self.abort()
            raise

    def _open(self, threads: int) -> None:
        import av

        try:
            self._container = av.open(str(self._temp_path), mode="w", format=CONTAINER_FORMATS[self.path.suffix.lower()])
        except (av.error.FFmpegError, OSError) as error:
            raise UserError(f"Cannot write the video '{self.path}' ({error}); choose a writable output location.") from error
        stream = self._container.add_stream(self._encoder.codec, rate=self.rate, options=dict(self._encoder.options))
        stream.width, stream.height = even_size(self.width, self.height)
        stream.pix_fmt = "yuv420p"
        stream.codec_context.colorspace = AVCOL_SPC_SMPTE170M
        stream.codec_context.color_range = AVCOL_RANGE_MPEG
        stream.codec_context.time_base = 1 / self.rate
        if self._encoder.codec == "libx264":
            stream.codec_context.thread_type = "FRAME"  # x264 frame threads, as the ffmpeg CLI (PyAV's default, slices, is slower)
            stream.codec_context.thread_count = threads  # 0 = x264's choice (1.5 x cores)
        self._stream = stream

    def write(self, frame_bgr_uint8: np.ndarray) -> None:
        """Encode one HxWx3 uint8 BGR frame of the size given to the constructor."""
        import av
        import cv2

        if frame_bgr_uint8.shape != (self.height, self.width, 3) or frame_bgr_uint8.dtype != np.uint8:
            raise ValueError(f"expected a {self.height}x{self.width}x3 uint8 frame, got {frame_bgr_uint8.shape} {frame_bgr_uint8.dtype}")
        frame_i420 = cv2.cvtColor(pad_to_even(frame_bgr_uint8), cv2.COLOR_BGR2YUV_I420)
        frame = av.VideoFrame.from_ndarray(frame_i420, format="yuv420p")
        frame.colorspace, frame.color_range = AVCOL_SPC_SMPTE170M, AVCOL_RANGE_MPEG
        frame.pts = self.frames_written
        try:
            self._container.mux(self._stream.encode(frame))
            self.frames_written += 1
            if self._audio is not None:
                self._audio.advance_to(self.frames_written / self.rate)
        except (av.error.FFmpegError, OSError) as error:
            self.abort()
            raise UserError(f"Writing the video '{self.path}' failed ({error}); check free disk space and the output location.") from error

    @property
    def duration(self) -> float:
        return float(self.frames_written / self.rate)

    def close(self) -> None:
        """Flush the encoders and rename the file into place."""
        import av

        if self._container is None:
            return
        if self.frames_written == 0:
            self.abort()
            raise UserError(f"No frames were given for the video '{self.path}', so nothing was written; check the input range.")
        try:
            self._container.mux(self._stream.encode(None))
            if self._audio is not None:
                self._audio.finish(self.frames_written / self.rate)
            self._container.close()
            self._container = None
        except (av.error.FFmpegError, OSError) as error:
            self.abort()
            raise UserError(f"Finishing the video '{self.path}' failed ({error}); check free disk space and the output location.") from error
        atomic, self._atomic = self._atomic, None
        try:
            atomic.__exit__(None, None, None)  # renames into place; deletes the temp file if that fails
        except OSError as error:
            raise UserError(f"Cannot move the finished video into place at '{self.path}' ({error.strerror}); choose a writable output location.") from error

    def abort(self) -> None:
        """Stop and delete the temporary file; nothing appears under the final name."""
        if self._audio is not None:
            self._audio.close()
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - the file is deleted next anyway
                pass
            self._container = None
        if self._atomic is not None:
            self._atomic.__exit__(_Aborted, _Aborted(), None)
            self._atomic = None


def _check_settings(path: Path, width: int, height: int, fps: float, crf: int, preset: str, encoder: str) -> None:
    if path.suffix.lower() not in CONTAINER_FORMATS:
        raise UserError(f"Cannot write video to '{path}': name it {', '.join(CONTAINER_FORMATS)}.")
    if width <= 0 or height <= 0:
        raise UserError(f"Cannot write '{path}' at size {width}x{height}; width and height must be positive.")
    if not fps or fps <= 0:
        raise UserError(f"Cannot write '{path}' at {fps} fps; the frame rate must be positive.")
    if not 0 <= crf <= 51:
        raise UserError(f"CRF {crf} for '{path}' is out of range; use 0 (lossless) to 51 (worst), 18 looks transparent.")
    if encoder not in ENCODER_NAMES:
        raise UserError(f"Unknown encoder '{encoder}' for '{path}'; use one of {', '.join(ENCODER_NAMES)}.")
    if preset not in X264_PRESETS:
        raise UserError(f"Unknown x264 preset '{preset}' for '{path}'; use one of {', '.join(X264_PRESETS)}.")
