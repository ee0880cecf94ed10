"""FacesWriter: aligned faces (JPEG or PNG) and masks (PNG), the alignments file saved as it grows.

Cutting, masking and encoding run on a small pool of writer threads (OpenCV releases the
GIL), so they overlap detection; at most ``max_pending`` faces wait, which keeps memory flat.
Images land in any order. A checkpoint does not hold detection up either: it copies the
alignments as they stand and a saver thread writes that copy once every image queued before it
is on disk. So a file named in the alignments file always exists, checkpoints are saved in the
order they were taken, and an interrupted run resumes from the last one without losing faces.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from faceswap.align.alignments import FILE_NAME, Alignments, FrameRecord
from faceswap.errors import UserError

FACES = "faces"
MASKS = "masks"
PARTIAL_SUFFIX = ".part"  # an image being written (a killed run's are removed by --resume and --overwrite)
WRITER_THREADS = min(2, os.cpu_count() or 1)
WRITER_NICE = 10  # added to the writer threads' nice value: see _yield_to_detection
MAX_WAITING_CHECKPOINTS = 2  # each holds a copy of the frame list; more waiting means the disk is behind


def face_file_name(frame_index: int, face_number: int, suffix: str = ".png") -> str:
    return f"{frame_index:06d}_{face_number}{suffix}"


@functools.cache
def encode_settings() -> dict[str, tuple[str, list[int]]]:
    """(suffix, cv2.imencode parameters) for each kind of image, chosen by time and size on the
    sample faces (``scripts/bench_extract.py --png``): encoding is extract's largest cost after
    detection."""
    import cv2

    return {
        # JPEG at quality 95 without chroma subsampling: 0.5 ms and 25 KiB a 256-pixel crop, 45 dB PSNR
        # (0.7 ms to read back); the cheapest lossless PNG below takes 3 ms for 100 KiB (2.1 ms to read)
        "jpg": (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]),
        # the Up filter and Huffman coding alone: 2.5-3.0 ms a crop for 96 KiB, where libpng's fast
        # filter set at level 1 took 4.0-5.1 ms for 83 KiB
        "png": (".png", [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP,
                         cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]),
        # masks are long runs of 0 and 255: no filter and run-length coding, 1.6 KiB in 0.2 ms (2.8 KiB in 0.5 ms before)
        MASKS: (".png", [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE,
                         cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE]),
    }


class FacesWriter:
    def __init__(self, faces_dir: str | Path, alignments: Alignments, max_pending: int = 32, threads: int = WRITER_THREADS,
                 face_format: str = "jpg"):
        self.faces_dir = Path(faces_dir)
        self.face_encoding = encode_settings()[face_format]
        (self.faces_dir / FACES).mkdir(parents=True, exist_ok=True)
        (self.faces_dir / MASKS).mkdir(parents=True, exist_ok=True)
        self.alignments = alignments
        self.max_pending = max_pending
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="image-writer", initializer=_yield_to_detection)
        self._saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alignments-saver")  # one: saves stay in order
        self._pending: deque[Future] = deque()
        self._checkpoints: deque[Future] = deque()

    def add(self, frame, faces: list, finder, hands: list | None = None) -> FrameRecord:
        """Queue the crops and masks of one frame's faces (cut, masked and encoded on the
        writer threads, which overlap detection); record the frame and its hands ((21, 2) points each;
        None: not looked for)."""
        self._raise_failed_checkpoints()
        record = FrameRecord(index=frame.index, time=round(float(frame.time), 6), name=getattr(frame, "name", None),
                             hands=None if hands is None else [np.round(np.asarray(hand, np.float64), 2).tolist() for hand in hands])
        for number, face in enumerate(faces):
            face_name, mask_name = face_file_name(frame.index, number, self.face_encoding[0]), face_file_name(frame.index, number)
            self._queue(_write_face, finder, frame.image, face, self.faces_dir / FACES / face_name, self.faces_dir / MASKS / mask_name,
                        self.face_encoding[1])
            record.faces.append(face.record(f"{FACES}/{face_name}", f"{MASKS}/{mask_name}"))
        self.alignments.frames.append(record)
        return record

    def checkpoint(self, resume_state: dict) -> None:
        """Save the alignments as they stand now (complete=False) once every image queued so far
        is on disk; returns at once."""
        self._raise_failed_checkpoints()
        snapshot = replace(self.alignments, frames=list(self.alignments.frames), complete=False,
                           settings=copy.deepcopy({**self.alignments.settings, "resume": resume_state}))
        self._checkpoints.append(self._saver.submit(_save_when_written, snapshot, list(self._pending), self.faces_dir / FILE_NAME))
        while len(self._checkpoints) > MAX_WAITING_CHECKPOINTS:
            self._checkpoints.popleft().result()

    def finish(self) -> None:
        self._drain()
        while self._checkpoints:
            self._checkpoints.popleft().result()
        self.alignments.settings.pop("resume", None)
        self.alignments.complete = True
        self.alignments.save(self.faces_dir / FILE_NAME)

    def close(self) -> None:
        """Wait for the writer threads; a checkpoint whose images are all written is still saved."""
        self._pool.shutdown(wait=True)
        self._saver.shutdown(wait=True)

    def _queue(self, job, *args) -> None:
        while len(self._pending) >= self.max_pending:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(job, *args))

    def _drain(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def _raise_failed_checkpoints(self) -> None:
        while self._checkpoints and self._checkpoints[0].done():
            self._checkpoints.popleft().result()


def _yield_to_detection() -> None:
    """Lower this writer thread's scheduling priority (Linux sets nice per thread): when the cores
    are contended, decoding and detection, which everything waits on, run first, and the writers
    use the time they leave idle. Elsewhere, or where it is refused, a no-op."""
    import threading

    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WRITER_NICE)


def _save_when_written(snapshot: Alignments, images: list[Future], path: Path) -> None:
    for image in images:
        image.result()  # a failed image write fails this checkpoint too: it would name a missing file
    snapshot.save(path)


def _write_face(finder, image: np.ndarray, face, face_path: Path, mask_path: Path, face_params: list[int]) -> None:
    crop = finder.crop(image, face)
    _write_image(face_path, crop, face_params)
    _write_image(mask_path, finder.mask(face, crop), encode_settings()[MASKS][1])


def _write_image(path: Path, image: np.ndarray, params: list[int]) -> None:
    import cv2

    ok, encoded = cv2.imencode(path.suffix, image, params)
    if not ok:
        raise UserError(f"Could not encode '{path.name}'.")
    partial = path.with_name(f".{path.name}{PARTIAL_SUFFIX}")  # renamed into place once whole: a full disk leaves no broken PNG
    try:
        partial.write_bytes(encoded.tobytes())
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise UserError(f"Cannot write '{path}' ({error.strerror}); check free space and permissions of the faces folder.") from error
