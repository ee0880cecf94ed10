"""Identity descriptors of a faces folder's crops, cached in the folder: describing is slow (dlib
~9 faces/s on a small CPU), so a second sort describes only the faces that are new or changed.

    FACES_DIR/identity_<plugin>.npz   names, sizes, mtimes, digests and descriptors of the crops

One file (no pickle: ``np.load(allow_pickle=False)``), written atomically, so it is never half
written and never out of step with itself. A face is taken from the cache when its crop has the
same size and mtime, or else the same content digest, as when it was described (a copied folder
keeps its cache). Faces moved to the trash keep their entry, so a restore costs nothing. The
cache is saved every ``SAVE_EVERY_S`` seconds while describing and when interrupted.
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceswap.align.alignments import Alignments, FaceRecord
from faceswap.fileio import atomic_path

log = logging.getLogger(__name__)

CACHE_VERSION = 1
BATCH = 32  # faces per describe call
SAVE_EVERY_S = 30.0


@dataclass(frozen=True)
class _Entry:
    size: int
    mtime_ns: int
    digest: str
    descriptor: np.ndarray  # (dims,) float32


def cache_path(folder: Path, plugin: str) -> Path:
    return folder / f"identity_{plugin}.npz"


def describe_faces(folder: Path, alignments: Alignments, records: Sequence[FaceRecord], plugin: str,
                   progress: bool = False) -> tuple[np.ndarray, int]:
    """((N, dims) float32 descriptors, NaN rows for unreadable crops; how many faces were described now)."""
    path = cache_path(folder, plugin)
    cache = _read_cache(path, plugin)
    missing, refreshed = [], False
    for record in records:
        entry = cache.get(record.face_file)
        current = _cached(folder / record.face_file, entry)
        if current is None:
            missing.append(record)
            cache.pop(record.face_file, None)  # stale: described again, or left out if unreadable now
        else:
            cache[record.face_file], refreshed = current, refreshed or current is not entry
    described = 0
    try:
        if missing:
            described = _describe(folder, alignments, missing, plugin, cache, path, progress)
    finally:
        kept = _kept(folder, cache)
        if missing or refreshed or len(kept) != len(cache):
            _write_cache(path, plugin, kept)
    dims = next(iter(cache.values())).descriptor.shape[0] if cache else 0
    descriptors = np.full((len(records), dims), np.nan, np.float32)
    for position, record in enumerate(records):
        if record.face_file in cache:
            descriptors[position] = cache[record.face_file].descriptor
    return descriptors, described


def _describe(folder: Path, alignments: Alignments, records: list[FaceRecord], plugin: str,
              cache: dict[str, _Entry], path: Path, progress: bool) -> int:
    """Describe ``records`` in batches into ``cache``, saving it now and then; how many were readable."""
    from tqdm import tqdm

    from faceswap.identity import load_describer

    describer = load_describer(plugin)
    saved, described = time.monotonic(), 0
    with tqdm(total=len(records), desc=f"describing faces ({plugin})", unit="face", disable=not progress) as bar:
        for start in range(0, len(records), BATCH):
            batch = [_read(folder, alignments, record) for record in records[start:start + BATCH]]
            readable = [item for item in batch if item[1] is not None]
            rows = describer.describe([image for _, image, _ in readable], [box for _, _, box in readable])
            for (entry, _, _), row in zip(readable, rows):
                cache[entry[0]] = _Entry(*entry[1:], descriptor=np.asarray(row, np.float32))
            described += len(readable)
            bar.update(len(batch))
            if time.monotonic() - saved > SAVE_EVERY_S:
                _write_cache(path, plugin, _kept(folder, cache))
                saved = time.monotonic()
    return described


def _read(folder: Path, alignments: Alignments, record: FaceRecord) -> tuple[tuple, np.ndarray | None, np.ndarray | None]:
    """((name, size, mtime, digest), the crop BGR uint8 or None, the face box in the crop)."""
    import cv2

    from faceswap.align.face_measures import box_in_crop
    from faceswap.align.transform import rescale

    crop_path = folder / record.face_file
    data = crop_path.read_bytes()
    stat = crop_path.stat()
    key = (record.face_file, stat.st_size, stat.st_mtime_ns, _digest(data))
    crop = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if crop is None:
        return key, None, None
    frame_to_crop = rescale(record.matrix_array(), alignments.template.size, crop.shape[1])
    return key, crop, box_in_crop(np.asarray(record.box), frame_to_crop)


def _cached(crop_path: Path, entry: _Entry | None) -> _Entry | None:
    """The entry, if it still describes the crop (with the crop's mtime now)."""
    if entry is None:
        return None
    try:
        stat = crop_path.stat()
    except OSError:
        return None
    if stat.st_size != entry.size:
        return None
    if stat.st_mtime_ns == entry.mtime_ns:
        return entry
    same = _digest(crop_path.read_bytes()) == entry.digest
    return _Entry(entry.size, stat.st_mtime_ns, entry.digest, entry.descriptor) if same else None


def _kept(folder: Path, cache: dict[str, _Entry]) -> dict[str, _Entry]:
    """The entries of crops still in the folder or its trash."""
    from faceswap.curate.trash import in_trash

    return {name: entry for name, entry in cache.items() if (folder / name).is_file() or in_trash(folder, name).is_file()}


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _read_cache(path: Path, plugin: str) -> dict[str, _Entry]:
    """The cached entries; {} when there is no cache, or one of another plugin, version or an unreadable one."""
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["version"]) != CACHE_VERSION or str(data["plugin"]) != plugin:
                return {}
            names, sizes, mtimes, digests = data["names"], data["sizes"], data["mtimes"], data["digests"]
            descriptors = data["descriptors"].astype(np.float32)
    except (OSError, ValueError, KeyError) as error:
        log.warning("Ignoring the descriptor cache '%s' (%s); the faces will be described again.", path, error)
        return {}
    return {str(name): _Entry(int(size), int(mtime), str(digest), row)
            for name, size, mtime, digest, row in zip(names, sizes, mtimes, digests, descriptors)}


def _write_cache(path: Path, plugin: str, cache: dict[str, _Entry]) -> None:
    names = sorted(cache)
    dims = cache[names[0]].descriptor.shape[0] if names else 0
    with atomic_path(path) as temp_path, open(temp_path, "wb") as handle:
        np.savez(handle, version=np.int64(CACHE_VERSION), plugin=np.str_(plugin), names=np.array(names, dtype=str),
                 sizes=np.array([cache[name].size for name in names], np.int64),
                 mtimes=np.array([cache[name].mtime_ns for name in names], np.int64),
                 digests=np.array([cache[name].digest for name in names], dtype=str),
                 descriptors=np.array([cache[name].descriptor for name in names], np.float32).reshape(len(names), dims))
        handle.flush()
        os.fsync(handle.fileno())
