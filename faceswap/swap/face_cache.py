"""One side's training faces decoded once into a uint8 file, which training reads a batch at a time.

    MODEL_DIR/face_cache/a.npy    (N, 5, S, S) uint8: RGB, mask, inside-frame mask (a plain .npy, no pickle)
    MODEL_DIR/face_cache/a.json   what it holds: the faces folder's fingerprint, S, N, and whose masks
                                  channel 3 holds ("extract", "segmenter:<hash>", or null while rewritten)

The file is written a chunk of faces at a time under a temporary name and renamed, so memory stays
flat however many faces there are, and an interrupted build leaves nothing half-written. A later
run (and --resume) reuses it while the fingerprint (the alignments file's content and the size and
mtime of every crop and mask it lists that is still there: deleting a crop changes it), S and the
format version match; otherwise it is rebuilt.
``FaceReader`` reads rows with positioned reads (no shared file offset, nothing mapped), and
reopens the file in each process, so DataLoader workers may fork or spawn.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from faceswap.errors import UserError
from faceswap.fileio import atomic_path, read_json, write_json_atomic
from faceswap.swap.data import CHANNELS, FaceSource, decode_faces

log = logging.getLogger("faceswap.swap")
FORMAT = "faceswap-face-cache"
VERSION = 1
CACHE_DIR = "face_cache"
EXTRACT_MASKS = "extract"
BLOCK_FACES = 256  # faces mapped at once when masks are rewritten in place


@dataclass(frozen=True)
class FaceCache:
    """A finished cache file: ``count`` faces of (5, size, size) uint8 starting ``offset`` bytes in."""

    path: Path
    count: int
    size: int
    offset: int
    masks: str | None  # whose masks channel 3 holds; None while they are being rewritten
    fingerprint: str

    @property
    def face_bytes(self) -> int:
        return CHANNELS * self.size * self.size

    @property
    def info_path(self) -> Path:
        return self.path.with_suffix(".json")

    @property
    def faces(self) -> np.ndarray:
        """All faces as a read-only (N, 5, S, S) array mapped onto the file (pages load when touched;
        training reads through a FaceReader instead)."""
        return np.memmap(self.path, np.uint8, "r", offset=self.offset, shape=(self.count, CHANNELS, self.size, self.size))

    def writable_blocks(self, faces: int = BLOCK_FACES) -> Iterator[np.ndarray]:
        """The faces as (k, 5, S, S) writable arrays mapped onto the file, one block at a time
        (each unmapped before the next, so the process's memory stays flat)."""
        for start in range(0, self.count, faces):
            block = np.memmap(self.path, np.uint8, "r+", offset=self.offset + start * self.face_bytes,
                              shape=(min(faces, self.count - start), CHANNELS, self.size, self.size))
            yield block
            block.flush()
            del block


def cache_dir(model_dir: str | Path) -> Path:
    return Path(model_dir) / CACHE_DIR


def fingerprint(source: FaceSource) -> str:
    """Changes when the faces folder does: its alignments file's content, or the size or mtime of a crop or mask it lists,
    or which of them are used (``source`` leaves out the faces whose crops were deleted)."""
    from faceswap.align.alignments import alignments_path

    digest = hashlib.sha256()
    with open(alignments_path(source.folder), "rb") as handle:  # re-saved unchanged, it still fits
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    for name in (name for record in source.records for name in (record.face_file, record.mask_file) if name):
        try:
            stat = (source.folder / name).stat()
            digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{name}\0missing\n".encode())  # decoding reports it
    return digest.hexdigest()[:32]


def open_face_cache(source: FaceSource, folder: Path, name: str, size: int, extract_masks: bool) -> FaceCache:
    """The cache ``folder/name.npy`` of ``source`` at ``size``: reused when it still fits, else (re)built.

    ``extract_masks``: channel 3 must hold extract's masks (no segmenter will overwrite them).
    """
    path = Path(folder) / f"{name}.npy"
    with locked(path.parent):
        current = fingerprint(source)
        cache, why = _existing(path, current, size, len(source))
        if cache is not None and extract_masks and cache.masks != EXTRACT_MASKS:
            cache, why = None, f"it holds masks of {cache.masks or 'an interrupted rewrite'}"
        if cache is not None:
            log.info("Reusing the face cache %s of the %s (%d faces at %d px).", path, source.label, cache.count, size)
            return cache
        log.info("Decoding the %d faces of the %s at %d px into %s (%.2f GiB; %s).", len(source), source.label, size, path,
                 len(source) * CHANNELS * size * size / 2**30, why)
        return build_face_cache(source, path, size, current)


def build_face_cache(source: FaceSource, path: Path, size: int, source_fingerprint: str | None = None) -> FaceCache:
    """Decode every face of ``source`` into ``path`` a chunk at a time, then describe it."""
    path.with_suffix(".json").unlink(missing_ok=True)  # a cache without a matching description is never used
    path.unlink(missing_ok=True)  # stale: its room is needed
    shape = (len(source), CHANNELS, size, size)
    needed = int(np.prod(shape))
    free = shutil.disk_usage(path.parent).free
    if free < needed + (64 << 20):
        raise UserError(f"The face cache of the {source.label} needs {needed / 2**30:.1f} GiB in '{path.parent}' but only "
                        f"{free / 2**30:.1f} GiB are free; free some space or choose a --model-dir on a larger disk.")
    offset = write_faces(path, shape, decode_faces(source, size))
    cache = FaceCache(path, len(source), size, offset, EXTRACT_MASKS, source_fingerprint or fingerprint(source))
    write_info(cache)
    return cache


def write_faces(path: Path, shape: tuple[int, int, int, int], chunks: Iterable[np.ndarray]) -> int:
    """Write (k, 5, S, S) uint8 chunks as one .npy of ``shape`` (temp name, then rename); returns where the faces start."""
    written = 0
    with atomic_path(path) as temp_path:
        with open(temp_path, "wb") as handle:
            np.lib.format.write_array_header_1_0(handle, {"descr": "|u1", "fortran_order": False, "shape": shape})
            offset = handle.tell()
            for chunk in chunks:
                if chunk.shape[1:] != shape[1:] or chunk.dtype != np.uint8:
                    raise ValueError(f"a chunk of {chunk.dtype} {chunk.shape[1:]} does not fit faces of {shape[1:]}")
                handle.write(memoryview(np.ascontiguousarray(chunk)).cast("B"))
                written += len(chunk)
                del chunk  # else the loop variable keeps this chunk alive while the next one is decoded
            handle.flush()
            os.fsync(handle.fileno())
        if written != shape[0]:
            raise ValueError(f"wrote {written} faces, expected {shape[0]}")
    return offset


def write_info(cache: FaceCache) -> None:
    write_json_atomic(cache.info_path, {"format": FORMAT, "version": VERSION, "count": cache.count, "size": cache.size,
                                        "channels": ["red", "green", "blue", "mask", "inside_frame"],
                                        "masks": cache.masks, "fingerprint": cache.fingerprint})


def set_masks(cache: FaceCache, masks: str | None) -> FaceCache:
    """Record whose masks channel 3 holds (None before rewriting them in place, so a crash midway is noticed)."""
    cache = replace(cache, masks=masks)
    write_info(cache)
    return cache


def reread_masks(cache: FaceCache) -> FaceCache:
    """``cache`` with the masks its description records now (another process may have rewritten them)."""
    info = read_json(cache.info_path, "face cache description")
    return replace(cache, masks=info.get("masks"))


def _existing(path: Path, source_fingerprint: str, size: int, count: int) -> tuple[FaceCache | None, str]:
    """(the cache at ``path`` if it fits, else None; why it does not)."""
    info_path = path.with_suffix(".json")
    if not path.is_file() or not info_path.is_file():
        return None, "no cache yet"
    try:
        info = read_json(info_path, "face cache description")
    except UserError:
        return None, "its description is unreadable"
    if info.get("format") != FORMAT or info.get("version") != VERSION:
        return None, "it is of another format version"
    if info.get("fingerprint") != source_fingerprint:
        return None, "the faces folder changed"
    if info.get("size") != size or info.get("count") != count:
        return None, f"it holds {info.get('count')} faces at {info.get('size')} px"
    offset = data_offset(path, (count, CHANNELS, size, size))
    if offset is None:
        return None, "the file is damaged"
    return FaceCache(path, count, size, offset, info.get("masks"), source_fingerprint), ""


def data_offset(path: Path, shape: tuple[int, ...]) -> int | None:
    """Where the faces start in a .npy of ``shape`` uint8, or None if the file is not one (or is cut short)."""
    try:
        with open(path, "rb") as handle:
            if np.lib.format.read_magic(handle) != (1, 0):
                return None
            header = np.lib.format.read_array_header_1_0(handle)  # parses literals only, never pickle
            offset = handle.tell()
    except (OSError, ValueError):
        return None
    if header != (shape, False, np.dtype(np.uint8)) or path.stat().st_size != offset + int(np.prod(shape)):
        return None
    return offset


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on the cache folder, so that DDP ranks build a cache once (a no-op without fcntl)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: ranks may build side by side, each rename is atomic
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY)
    except OSError as error:
        raise UserError(f"Cannot write the face cache into '{folder}' ({error.strerror}); choose a writable --model-dir.") from error
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class FaceReader:
    """Reads faces of a cache: ``read(rows)`` -> (k, 5, S, S) uint8, in the order asked, read in file order."""

    def __init__(self, cache: FaceCache):
        self.cache = cache
        self._fd: int | None = None
        self._pid = -1

    def read(self, rows: Sequence[int]) -> np.ndarray:
        cache = self.cache
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (rows.min() < 0 or rows.max() >= cache.count):
            raise IndexError(f"face rows must be in [0, {cache.count}), got {rows.min()}..{rows.max()}")
        out = np.empty((len(rows), CHANNELS, cache.size, cache.size), np.uint8)
        fd = self._file()
        for position in np.argsort(rows, kind="stable"):
            view = memoryview(out[position]).cast("B")
            if _read_at(fd, view, cache.offset + int(rows[position]) * cache.face_bytes) != cache.face_bytes:
                raise UserError(f"The face cache '{cache.path}' is shorter than its description; delete it and train again.")
        return out

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own
            self._fd, self._pid = os.open(self.cache.path, os.O_RDONLY | getattr(os, "O_BINARY", 0)), os.getpid()
        return self._fd

    def __getstate__(self) -> dict:  # spawned workers get the description, never the descriptor
        return {"cache": self.cache, "_fd": None, "_pid": -1}

    def __del__(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            with contextlib.suppress(OSError):
                os.close(self._fd)


def _read_at(fd: int, view: memoryview, offset: int) -> int:
    if hasattr(os, "preadv"):
        return os.preadv(fd, [view], offset)
    os.lseek(fd, offset, os.SEEK_SET)  # no positioned reads here (Windows): one reader per process
    data = os.read(fd, len(view))
    view[:len(data)] = data
    return len(data)
