"""Faces for training: the crops and masks that `faceswap extract` wrote, checked and held in memory.

Each side is loaded once into a uint8 tensor (N, 5, S, S): RGB, the face mask and which crop
pixels come from inside the frame (faces at the frame's edge are padded), at twice the
model resolution (at most the crop size) so that the on-device augmentation resamples from more
detail than it outputs. A fixed, evenly spaced share of each side is held out for validation
and previews. Training batches pair one face of A with one of B, so every step sees both people.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from faceswap.align import alignments as alignments_file
from faceswap.align.template import Template
from faceswap.errors import UserError

log = logging.getLogger("faceswap.swap")


@dataclass
class FaceSet:
    """One person's faces: ``faces`` is (N, 5, S, S) uint8, RGB + mask + inside-frame mask, in alignments order."""

    folder: Path
    template: Template
    faces: torch.Tensor
    names: list[str]

    def __len__(self) -> int:
        return len(self.faces)

    def subset(self, indices: list[int]) -> "FaceSet":
        return FaceSet(self.folder, self.template, self.faces[indices], [self.names[i] for i in indices])


def load_face_set(folder: str | Path, size: int, min_faces: int, label: str = "faces folder") -> FaceSet:
    """Read every face the alignments file lists; ``size`` is the side length to keep them at."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"The {label} '{folder}' does not exist; run `faceswap extract` and pass its output folder.")
    if not alignments_file.alignments_path(folder).is_file():
        raise UserError(f"The {label} '{folder}' has no {alignments_file.FILE_NAME}; pass a folder written by `faceswap extract`.")
    alignments = alignments_file.load(folder)
    records = [face for _, face in alignments.faces()]
    if not records:
        raise UserError(f"The {label} '{folder}' holds no faces; extract from a video in which the face is visible.")
    if len(records) < min_faces:
        raise UserError(f"The {label} '{folder}' holds only {len(records)} faces, training needs at least {min_faces}; "
                        "extract more frames (or lower --min-faces).")
    tracks = alignments.track_ids()
    if len(tracks) > 1:
        log.warning("%s '%s' holds faces of %d tracks; training assumes they are all the same person.", label, folder, len(tracks))
    template = alignments.template
    with ThreadPoolExecutor(max_workers=4) as pool:
        frame_size = (alignments.source.width, alignments.source.height)
        faces = list(pool.map(lambda record: _read_face(folder, record, template, size, label, frame_size), records))
    return FaceSet(folder, template, torch.from_numpy(np.stack(faces)), [record.face_file for record in records])


def _read_face(folder: Path, record, template: Template, size: int, label: str,
               frame_size: tuple[int, int] | None = None) -> np.ndarray:
    """(5, size, size) uint8: the crop as RGB, its mask (the template's face outline if it has none)
    and 255 where the crop shows the frame (0 where it was padded beyond the frame's edge)."""
    from faceswap.align.transform import inside_frame_mask

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
    if frame_size and min(frame_size) > 0:
        inside = inside_frame_mask(record.matrix_array(), template.size, *frame_size, template.size).astype(np.uint8) * 255
    face_and_mask = np.dstack([face_rgb, mask, inside])
    if size != template.size:
        face_and_mask = cv2.resize(face_and_mask, (size, size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(face_and_mask.transpose(2, 0, 1))


def _read_image(path: Path, flags: int, label: str) -> np.ndarray:
    image = cv2.imread(str(path), flags) if path.is_file() else None
    if image is None:
        raise UserError(f"Cannot read '{path}' listed in the {label}'s alignments; re-run `faceswap extract` on that input.")
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


class FacePairs(Dataset):
    """Item i is {"a": A face i mod len(A), "b": B face i mod len(B)}, each (4, S, S) uint8."""

    def __init__(self, faces_a: torch.Tensor, faces_b: torch.Tensor):
        self.faces_a = faces_a
        self.faces_b = faces_b

    def __len__(self) -> int:
        return max(len(self.faces_a), len(self.faces_b))

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"a": self.faces_a[index % len(self.faces_a)], "b": self.faces_b[index % len(self.faces_b)]}
