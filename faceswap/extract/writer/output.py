"""FacesWriter: aligned faces and masks as PNG files, the alignments file saved as it grows.

PNG encoding runs on a worker thread (OpenCV releases the GIL) so that it overlaps detection;
at most ``max_pending`` images wait, which keeps memory flat. ``checkpoint`` waits for the
images written so far and only then saves the alignments file, so a file named in it always
exists: an interrupted run can be resumed from the last checkpoint without losing faces.
"""
from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from faceswap.align.alignments import FILE_NAME, Alignments, FrameRecord
from faceswap.errors import UserError

FACES = "faces"
MASKS = "masks"
PARTIAL_SUFFIX = ".part"  # an image being written (a killed run's are removed by --resume and --overwrite)


def face_file_name(frame_index: int, face_number: int) -> str:
    return f"{frame_index:06d}_{face_number}.png"


class FacesWriter:
    def __init__(self, faces_dir: str | Path, alignments: Alignments, max_pending: int = 32):
        self.faces_dir = Path(faces_dir)
        (self.faces_dir / FACES).mkdir(parents=True, exist_ok=True)
        (self.faces_dir / MASKS).mkdir(parents=True, exist_ok=True)
        self.alignments = alignments
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="png-writer")
        self._pending: deque[Future] = deque()

    def add(self, frame, faces: list, finder) -> FrameRecord:
        """Queue the crops and masks of one frame's faces (cut, masked and encoded on the
        writer thread, which overlaps detection); record the frame."""
        record = FrameRecord(index=frame.index, time=round(float(frame.time), 6), name=getattr(frame, "name", None))
        for number, face in enumerate(faces):
            name = face_file_name(frame.index, number)
            self._queue(_write_face, finder, frame.image, face, self.faces_dir / FACES / name, self.faces_dir / MASKS / name)
            record.faces.append(face.record(f"{FACES}/{name}", f"{MASKS}/{name}"))
        self.alignments.frames.append(record)
        return record

    def checkpoint(self, resume_state: dict) -> None:
        """Save the alignments file (complete=False) once every queued image is on disk."""
        self._drain()
        self.alignments.settings["resume"] = resume_state
        self.alignments.complete = False
        self.alignments.save(self.faces_dir / FILE_NAME)

    def finish(self) -> None:
        self._drain()
        self.alignments.settings.pop("resume", None)
        self.alignments.complete = True
        self.alignments.save(self.faces_dir / FILE_NAME)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _queue(self, job, *args) -> None:
        while len(self._pending) >= self.max_pending:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(job, *args))

    def _drain(self) -> None:
        while self._pending:
            self._pending.popleft().result()


def _write_face(finder, image: np.ndarray, face, face_path: Path, mask_path: Path) -> None:
    crop = finder.crop(image, face)
    _write_png(face_path, crop)
    _write_png(mask_path, finder.mask(face, crop))


def _write_png(path: Path, image: np.ndarray) -> None:
    import cv2

    # Level 1 with libpng's fast filter set: a third faster to encode than the default filters,
    # files as small (measured on the sample crops); encoding is extract's largest cost after detection.
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FAST_FILTERS])
    if not ok:
        raise UserError(f"Could not encode '{path.name}' as PNG.")
    partial = path.with_name(f".{path.name}{PARTIAL_SUFFIX}")  # renamed into place once whole: a full disk leaves no broken PNG
    try:
        partial.write_bytes(encoded.tobytes())
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise UserError(f"Cannot write '{path}' ({error.strerror}); check free space and permissions of the faces folder.") from error
