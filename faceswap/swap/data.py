"""Faces for training: the crops and masks that `faceswap extract` wrote, checked and decoded.

Each face becomes a (5, S, S) uint8 array: RGB, the face mask and which crop pixels come from
inside the frame (faces at the frame's edge are padded), at twice the model resolution (at most
the crop size) so that the on-device augmentation resamples from more detail than it outputs.
Faces are decoded a chunk at a time (``decode_faces``): training writes them into a cache file
(face_cache.py) and reads batches from it (``CachedPairs``), so memory does not grow with the
number of faces; ``load_face_set`` keeps a small set in memory instead (tests, tools).
A fixed, evenly spaced share of each side is held out for validation and previews. Training
batches pair one face of A with one of B, so every step sees both people.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from faceswap.align import alignments as alignments_file
from faceswap.align.alignments import FaceRecord
from faceswap.align.template import Template
from faceswap.errors import UserError

log = logging.getLogger("faceswap.swap")
CHANNELS = 5  # RGB, mask, inside-frame mask
DECODE_CHUNK = 64  # faces decoded at once: bounds the memory a decode holds
DECODE_THREADS = 4  # PNG decoding releases the GIL


@dataclass(frozen=True)
class FaceSource:
    """A checked faces folder: its template, the faces its alignments list (in order) and their frame size."""

    folder: Path
    label: str
    template: Template
    records: tuple[FaceRecord, ...]
    frame_size: tuple[int, int]  # width, height of the frames the faces were cut from

    def __len__(self) -> int:
        return len(self.records)

    @property
    def names(self) -> list[str]:
        return [record.face_file for record in self.records]


@dataclass
class FaceSet:
    """One person's faces in memory: ``faces`` is (N, 5, S, S) uint8, RGB + mask + inside-frame mask, in alignments order."""

    folder: Path
    template: Template
    faces: torch.Tensor
    names: list[str]

    def __len__(self) -> int:
        return len(self.faces)


def read_face_source(folder: str | Path, min_faces: int, label: str = "faces folder") -> FaceSource:
    """Check a faces folder and list its faces (nothing is decoded yet).

    Faces whose crop was deleted from the folder are skipped (and counted in the log); a face
    whose mask file was deleted gets the template's face outline, as a face without a mask does."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"The {label} '{folder}' does not exist; run `faceswap extract` and pass its output folder.")
    if not alignments_file.alignments_path(folder).is_file():
        raise UserError(f"The {label} '{folder}' has no {alignments_file.FILE_NAME}; pass a folder written by `faceswap extract`.")
    alignments = alignments_file.load(folder)
    kept, deleted = alignments_file.faces_on_disk(folder, alignments)
    deleted_note = f" besides {len(deleted)} whose crops were deleted" if deleted else ""
    if deleted:
        log.warning("The %s '%s': skipped %d faces whose crops were deleted from %s.", label, folder, len(deleted),
                    folder / Path(deleted[0].face_file).parent)
    if not kept:
        raise UserError(f"The {label} '{folder}' holds no faces{deleted_note}; extract from a video in which the face is visible.")
    if len(kept) < min_faces:
        raise UserError(f"The {label} '{folder}' holds only {len(kept)} faces{deleted_note}, training needs at least {min_faces}; "
                        "extract more frames (or lower --min-faces).")
    tracks = {record.track_id for record in kept}
    if len(tracks) > 1:
        log.warning("%s '%s' holds faces of %d tracks; training assumes they are all the same person.", label, folder, len(tracks))
    frame_size = (alignments.source.width, alignments.source.height)
    return FaceSource(folder, label, alignments.template, _masks_on_disk(folder, kept, label), frame_size)


def _masks_on_disk(folder: Path, records: list[FaceRecord], label: str) -> tuple[FaceRecord, ...]:
    """``records``, with no mask file named where it was deleted (its crop kept): the template's outline stands in."""
    lost = {index for index, record in enumerate(records) if record.mask_file and not (folder / record.mask_file).is_file()}
    if lost:
        log.warning("The %s '%s': %d faces have lost their mask file; the template's face outline stands in for it.",
                    label, folder, len(lost))
    return tuple(replace(record, mask_file="") if index in lost else record for index, record in enumerate(records))


def decode_faces(source: FaceSource, size: int, chunk: int = DECODE_CHUNK) -> Iterator[np.ndarray]:
    """The source's faces in order, ``chunk`` at a time, each chunk (k, 5, size, size) uint8."""
    with ThreadPoolExecutor(max_workers=DECODE_THREADS) as pool:
        for start in range(0, len(source), chunk):
            records = source.records[start:start + chunk]
            faces = np.empty((len(records), 5, size, size), np.uint8)  # filled in place: no list of faces beside it
            for index, face in enumerate(pool.map(lambda record: _read_face(source, record, size), records)):
                faces[index] = face
            yield faces
            del faces  # before the next chunk is decoded


def load_face_set(folder: str | Path, size: int, min_faces: int, label: str = "faces folder") -> FaceSet:
    """Every face the alignments file lists, in memory; ``size`` is the side length to keep them at.

    For small sets: training reads its faces from a cache file instead (face_cache.py)."""
    source = read_face_source(folder, min_faces, label)
    faces = np.concatenate(list(decode_faces(source, size)))
    return FaceSet(source.folder, source.template, torch.from_numpy(faces), source.names)


def _read_face(source: FaceSource, record: FaceRecord, size: int) -> np.ndarray:
    """(5, size, size) uint8: the crop as RGB, its mask (the template's face outline if it has none)
    and 255 where the crop shows the frame (0 where it was padded beyond the frame's edge)."""
    from faceswap.align.transform import inside_frame_mask

    folder, label, template = source.folder, source.label, source.template
    face_bgr = _read_image(folder / record.face_file, cv2.IMREAD_COLOR, label)
    if face_bgr.shape[:2] != (template.size, template.size):
        raise UserError(f"The face '{record.face_file}' in the {label} '{folder}' is {face_bgr.shape[1]}x{face_bgr.shape[0]} px "
                        f"but its alignments say {template.size}x{template.size}; re-run `faceswap extract` on that input.")
    if record.mask_file:
        mask = _read_image(folder / record.mask_file, cv2.IMREAD_GRAYSCALE, label)
        if mask.shape != face_bgr.shape[:2]:
            raise UserError(f"The mask '{record.mask_file}' in the {label} '{folder}' does not match its face's size; "
                            "re-run `faceswap extract` on that input.")
    else:
        mask = np.zeros(face_bgr.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(template.face_outline()).astype(np.int32)], 255)
    face_rgb = cv2.cvtColor(face_bgr, cv2.COLOR_BGR2RGB)
    inside = np.full(mask.shape, 255, np.uint8)
    if min(source.frame_size) > 0:
        inside = inside_frame_mask(record.matrix_array(), template.size, *source.frame_size, template.size).astype(np.uint8) * 255
    face_and_mask = np.dstack([face_rgb, mask, inside])
    if size != template.size:
        face_and_mask = cv2.resize(face_and_mask, (size, size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(face_and_mask.transpose(2, 0, 1))


def _read_image(path: Path, flags: int, label: str) -> np.ndarray:
    image = cv2.imread(str(path), flags) if path.is_file() else None
    if image is None:
        raise UserError(f"Cannot read '{path}' listed in the {label}'s alignments; re-run `faceswap extract` on that input "
                        "or take the face out with `faceswap faces remove`.")
    return image


def check_templates(template_a: Template, template_b: Template) -> None:
    if not template_a.fits(template_b):
        raise UserError(f"The faces of A ({template_a.as_dict()}) and B ({template_b.as_dict()}) were aligned against "
                        "different templates; extract both with the same settings.")


def held_out_indices(count: int, fraction: float, max_count: int) -> tuple[list[int], list[int]]:
    """(train, held-out) indices: an evenly spaced share of the faces, the same on every run."""
    held = min(max_count, max(2, round(count * fraction)))
    held_out = sorted({int(i) for i in np.linspace(0, count - 1, held).round()})
    held_set = set(held_out)
    return [i for i in range(count) if i not in held_set], held_out


def spread_sample(indices: Sequence[int], count: int) -> list[int]:
    """At most ``count`` of ``indices``, evenly spaced (all of them when there are no more)."""
    if len(indices) <= count:
        return list(indices)
    return [indices[int(i)] for i in np.linspace(0, len(indices) - 1, count).round()]


class CachedPairs(Dataset):
    """Pair i is (A face rows_a[i mod len(rows_a)], B face rows_b[i mod len(rows_b)]), each (5, S, S) uint8,
    read from the two sides' face caches; the shorter side repeats so that an epoch covers the longer one.

    ``read_batch(indices)`` reads a whole batch, (A faces, B faces) each (k, 5, S, S): the engine asks
    for batches that way (a plain DataLoader reads one batch per call too, through ``__getitems__``,
    then stacks it). The readers reopen their files in each DataLoader worker (fork or spawn).
    """

    def __init__(self, reader_a, rows_a: Sequence[int], reader_b, rows_b: Sequence[int]):
        if not len(rows_a) or not len(rows_b):
            raise ValueError("CachedPairs needs at least one face on each side.")
        self.reader_a, self.reader_b = reader_a, reader_b
        self.rows_a = np.asarray(rows_a, dtype=np.int64)
        self.rows_b = np.asarray(rows_b, dtype=np.int64)

    def __len__(self) -> int:
        return max(len(self.rows_a), len(self.rows_b))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        faces_a, faces_b = self.read_batch([index])
        return faces_a[0], faces_b[0]

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return list(zip(*self.read_batch(indices)))

    def read_batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = np.asarray(indices, dtype=np.int64)
        faces_a = self.reader_a.read(self.rows_a[index % len(self.rows_a)])
        faces_b = self.reader_b.read(self.rows_b[index % len(self.rows_b)])
        return torch.from_numpy(faces_a), torch.from_numpy(faces_b)
