"""``png_folder``: numbered PNGs (000000.png, 000001.png, ...) in a folder, lossless, no audio.

Frames go into a hidden temporary folder beside the target, which ``close()`` renames into
place. A previous output of this writer (a folder of PNGs only) is replaced; a folder holding
anything else is refused rather than deleted.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from faceswap.errors import UserError
from faceswap.registry import register
from faceswap.video.writers._base import FrameWriter


@register("video_writer", "png_folder")
class PngFolderWriter(FrameWriter):
    """Options: ``compression`` (PNG zlib level 0-9, default 3: fast and still lossless),
    ``start_number`` (number of the first file, default 0)."""

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: float,
                 audio_from: str | os.PathLike | None = None, audio_start: float = 0.0,
                 audio_end: float | None = None, compression: int = 3, start_number: int = 0):
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self.compression, self.next_number = compression, start_number
        self.frames_written = 0
        self.encoder = f"PNG files (zlib level {compression})"
        _check_replaceable(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._temp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", dir=self.path.parent))
        except OSError as error:
            raise UserError(f"Cannot write frames to '{self.path}' ({error.strerror}); choose a writable output location.") from error

    def write(self, frame_bgr_uint8: np.ndarray) -> None:
        import cv2

        if frame_bgr_uint8.shape != (self.height, self.width, 3) or frame_bgr_uint8.dtype != np.uint8:
            raise ValueError(f"expected a {self.height}x{self.width}x3 uint8 frame, got {frame_bgr_uint8.shape} {frame_bgr_uint8.dtype}")
        target = self._temp / f"{self.next_number:06d}.png"
        if not cv2.imwrite(str(target), frame_bgr_uint8, [cv2.IMWRITE_PNG_COMPRESSION, self.compression]):
            self.abort()
            raise UserError(f"Writing frame {target.name} into '{self.path}' failed; check free disk space.")
        self.next_number += 1
        self.frames_written += 1

    def close(self) -> None:
        if self._temp is None:
            return
        if self.frames_written == 0:
            self.abort()
            raise UserError(f"No frames were given for '{self.path}', so nothing was written; check the input range.")
        old = None
        if self.path.exists():
            old = self.path.with_name(f".{self.path.name}.old-{os.getpid()}")
            os.replace(self.path, old)
        os.replace(self._temp, self.path)
        self._temp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None


def _check_replaceable(path: Path) -> None:
    if path.is_file():
        raise UserError(f"'{path}' is a file; the png_folder writer needs a folder name.")
    if path.is_dir() and any(not (p.is_file() and p.suffix.lower() == ".png") for p in path.iterdir()):
        raise UserError(f"The folder '{path}' holds files other than PNG frames; choose a new folder so nothing is overwritten.")
