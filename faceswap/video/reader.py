"""Streaming frame reader for anything FFmpeg decodes, and ``open_reader``, which also picks the
image-folder and single-image readers.

Frames are decoded one at a time (threaded decoding) and converted to BGR or RGB numpy
arrays, so memory does not grow with the video's length. The first frame is decoded when the
reader opens: it proves the file holds pictures and tells the rotation to apply.
"""
from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from faceswap.errors import UserError
from faceswap.video import probe
from faceswap.video.image_folder import IMAGE_SUFFIXES, ImageReader
from faceswap.video.info import Frame, VideoInfo

log = logging.getLogger(__name__)

MAX_SKIP_WARNINGS = 5  # a damaged stretch can hold thousands of frames: warn for the first few


def open_reader(path: str | os.PathLike, rgb: bool = False, start: int = 0, end: int | None = None,
                threads: int = 0) -> "VideoReader | ImageReader":
    """A reader of frames ``start`` .. ``end`` (exclusive; None = to the last) from a video file,
    a folder of images (natural sort order) or one image. ``threads`` = decoder threads (0 = auto)."""
    path = Path(path)
    if start < 0 or (end is not None and end < start):
        raise UserError(f"Frame range start={start}, end={end} is invalid for '{path}'; use 0 <= start <= end.")
    if path.is_dir():
        return ImageReader.from_folder(path, rgb=rgb, start=start, end=end)
    if not path.exists():
        raise UserError(f"The input '{path}' does not exist; check the path.")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageReader.from_file(path, rgb=rgb, start=start, end=end)
    return VideoReader(path, rgb=rgb, start=start, end=end, threads=threads)


def _open_container(path: Path):
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as error:
        raise UserError(f"'{path}' is not a readable video or image ({_reason(error)}); check that the file is complete and in a format FFmpeg reads.") from error
    if not container.streams.video:
        container.close()
        raise UserError(f"'{path}' has no video stream; give a video file, an image, or a folder of images.")
    return container


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _upright(image: np.ndarray, rotation_cw: int) -> np.ndarray:
    """Turn a stored picture the way the display matrix asks (np.rot90 turns counterclockwise)."""
    if rotation_cw == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k=-rotation_cw // 90))


class VideoReader:
    """Frames of one video file; use as a context manager and iterate once.

    ``skipped`` lists (frame index, reason) for frames that could not be decoded (corrupt
    packets, a file that ends before its index says); they are also logged as a warning.
    """

    def __init__(self, path: Path, rgb: bool = False, start: int = 0, end: int | None = None, threads: int = 0):
        self.path, self.start, self.end = path, start, end
        self.skipped: list[tuple[int, str]] = []
        self._next_index = 0  # frame slots used so far; a skipped packet uses one too
        self._pixel_format = "rgb24" if rgb else "bgr24"
        self._container = _open_container(path)
        try:
            self._stream = self._container.streams.video[0]
            self._stream.thread_type = "AUTO"
            if threads:
                self._stream.codec_context.thread_count = threads
            self._rate = probe.frame_rate(self._stream)
            self._time_base = self._stream.time_base or Fraction(1, 1)
            self._decoded = self._decoded_frames()
            self._first = next(self._decoded, None)
            if self._first is None:
                raise UserError(f"'{path}' contains no decodable video frames; check that the file is complete.")
            self._start_pts = self._first.pts if self._first.pts is not None else 0
            if self._stream.start_time is not None:
                self._start_pts = min(self._start_pts, self._stream.start_time)
            self.info = self._describe()
        except BaseException:
            self.close()
            raise

    def _describe(self) -> VideoInfo:
        rotation = int(round(-(self._first.rotation or 0) / 90)) * 90 % 360
        width, height = self._first.width, self._first.height
        if rotation in (90, 270):
            width, height = height, width
        count, exact = probe.frame_count(self._container, self._stream)
        return VideoInfo(
            path=str(self.path), kind="video", width=width, height=height, fps=float(self._rate),
            variable_fps=probe.is_variable_rate(self._stream), frame_count=count, frame_count_exact=exact,
            rotation=rotation, has_audio=bool(self._container.streams.audio),
            duration=probe.stream_duration(self._container, self._stream),
        )

    def _packets(self):
        """Demuxed packets; a read error ends the stream (what came before is still good)."""
        import av

        packets = self._container.demux(self._stream)
        while True:
            try:
                yield next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError as error:
                log.warning("%s: stopped reading at a damaged part of the file (%s)", self.path, _reason(error))
                return

    def _decoded_frames(self):
        import av

        for packet in self._packets():
            try:
                frames = packet.decode()
            except av.error.FFmpegError as error:
                self._note_skip(f"corrupt data ({_reason(error)})")
                continue
            yield from frames

    def _note_skip(self, reason: str) -> None:
        self.skipped.append((self._next_index, reason))
        if len(self.skipped) <= MAX_SKIP_WARNINGS:
            more = "; further skips are listed in reader.skipped only" if len(self.skipped) == MAX_SKIP_WARNINGS else ""
            log.warning("%s: skipped frame %d: %s%s", self.path, self._next_index, reason, more)
        self._next_index += 1

    def _frame_time(self, av_frame, index: int) -> float:
        if av_frame.pts is None:
            return index / float(self._rate)
        return float((av_frame.pts - self._start_pts) * self._time_base)

    def __iter__(self) -> Iterator[Frame]:
        if self._first is None:
            raise RuntimeError("a VideoReader can be iterated only once")
        first, self._first = self._first, None
        for av_frame in self._chain(first):
            index, self._next_index = self._next_index, self._next_index + 1
            if index < self.start:
                continue  # decoding forward is exact for every codec; skipping conversion keeps it cheap
            if self.end is not None and index >= self.end:
                return
            image = _upright(av_frame.to_ndarray(format=self._pixel_format), self.info.rotation)  # honours the frame's colour tags
            yield Frame(index, self._frame_time(av_frame, index), image)
        self._note_missing_tail(self._next_index)

    def _chain(self, first):
        yield first
        yield from self._decoded

    def _note_missing_tail(self, decoded: int) -> None:
        """A file that ends before its index says (truncated) loses its last frames: name them."""
        expected = self.info.frame_count if self.end is None else min(self.end, self.info.frame_count)
        if not self.info.frame_count_exact or decoded >= expected:
            return
        known = {index for index, _ in self.skipped}
        missing = [i for i in range(max(decoded, self.start), expected) if i not in known]
        if not missing:
            return
        self.skipped.extend((i, "missing: the file ends early (truncated?)") for i in missing)
        log.warning("%s: frames %d-%d are missing: the file ends before its index says (truncated?)",
                    self.path, missing[0], missing[-1])

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
