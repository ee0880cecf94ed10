"""Frames from a folder of images (natural sort order: 2.png before 10.png) or from one image.

Images are read one at a time. They are reported at 25 fps (FFmpeg's default for image
sequences) so that times and a re-encode have a rate; ``width``/``height`` are the first
image's (later images may differ in size). An unreadable image is skipped and named in
``skipped``.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Iterator

import numpy as np

from faceswap.errors import UserError
from faceswap.video.info import Frame, VideoInfo

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
IMAGE_SEQUENCE_FPS = 25.0


def natural_key(name: str) -> list:
    """Sort key that orders digit runs by value: 'frame2' < 'frame10'."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name.lower())]


def image_files(folder: Path) -> list[Path]:
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_key(p.name))


def read_image(path: Path, rgb: bool) -> np.ndarray | None:
    """HxWx3 uint8 (EXIF orientation applied by OpenCV), or None when the file is not an image."""
    import cv2

    data = np.fromfile(path, dtype=np.uint8)  # imdecode copes with any path encoding
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if rgb else image


class ImageReader:
    """Frames of an image list; use as a context manager and iterate once."""

    def __init__(self, path: Path, files: list[Path], kind: str, rgb: bool, start: int, end: int | None):
        self.path, self.start, self.end = path, start, end
        self.files, self.rgb = files, rgb
        self.skipped: list[tuple[int, str]] = []
        first = read_image(files[0], rgb)
        if first is None:
            raise UserError(f"'{files[0]}' is not a readable image; replace or remove it.")
        self._first = first
        self.info = VideoInfo(
            path=str(path), kind=kind, width=first.shape[1], height=first.shape[0], fps=IMAGE_SEQUENCE_FPS,
            variable_fps=False, frame_count=len(files), frame_count_exact=True, rotation=0, has_audio=False,
            duration=len(files) / IMAGE_SEQUENCE_FPS,
        )

    @classmethod
    def from_folder(cls, folder: Path, rgb: bool = False, start: int = 0, end: int | None = None) -> "ImageReader":
        files = image_files(folder)
        if not files:
            suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
            raise UserError(f"The folder '{folder}' holds no images ({suffixes}); point to a folder of frames or a video file.")
        return cls(folder, files, "images", rgb, start, end)

    @classmethod
    def from_file(cls, path: Path, rgb: bool = False, start: int = 0, end: int | None = None) -> "ImageReader":
        return cls(path, [path], "image", rgb, start, end)

    def __iter__(self) -> Iterator[Frame]:
        stop = len(self.files) if self.end is None else min(self.end, len(self.files))
        for index in range(self.start, stop):
            image = self._first if index == 0 else read_image(self.files[index], self.rgb)
            self._first = None
            if image is None:
                self.skipped.append((index, f"{self.files[index].name} is not a readable image"))
                log.warning("%s: skipped frame %d: %s is not a readable image", self.path, index, self.files[index].name)
                continue
            yield Frame(index, index / IMAGE_SEQUENCE_FPS, image, self.files[index].name)

    def close(self) -> None:
        self._first = None

    def __enter__(self) -> "ImageReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
