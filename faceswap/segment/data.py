"""Training data of the segmenter: aligned crops from faces folders, their pseudo-labels (less
the hands extract stored for the frame), and which of their pixels come from inside the frame.

Segmentation needs variety more than volume, so at most ``max_faces`` evenly spaced faces of
each folder are used; labels are made once per run on a thread pool (OpenCV releases the GIL).
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from faceswap.align import alignments as alignments_file
from faceswap.align.template import Template
from faceswap.align.transform import inside_frame_mask
from faceswap.errors import UserError
from faceswap.hands.drawing import hands_mask
from faceswap.segment.labels import MIN_OUTLINE_SHARE, label_is_reliable, pseudo_label

log = logging.getLogger("faceswap.segment")


@dataclass
class SegmentSamples:
    """``crops`` (N, 3, S, S) uint8 RGB, ``labels`` and ``inside`` (N, 1, S, S) uint8 (255 = yes)."""

    template: Template
    crops: torch.Tensor
    labels: torch.Tensor
    inside: torch.Tensor

    def __len__(self) -> int:
        return len(self.crops)

    def subset(self, indices: list[int]) -> "SegmentSamples":
        return SegmentSamples(self.template, self.crops[indices], self.labels[indices], self.inside[indices])


def load_samples(folders: list[str], size: int, max_faces: int, workers: int = 2) -> SegmentSamples:
    """Crops of every folder at ``size`` pixels with pseudo-labels; all folders must share one template."""
    jobs, template = [], None
    for folder in folders:
        folder_template, records = _records(Path(folder), max_faces)
        if template is not None and not template.fits(folder_template):
            raise UserError(f"The faces folder '{folder}' was aligned with {folder_template.as_dict()}, the others with "
                            f"{template.as_dict()}; extract every folder with the same settings.")
        template = folder_template
        jobs += records
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        rows = list(pool.map(lambda job: _sample(*job, template, size), jobs))
    reliable = [row[:3] for row in rows if row[3]]
    if reliable and len(reliable) < len(rows):
        log.info("Segmenter data: %d of %d face labels left out: GrabCut kept under %d%% of their landmark outline.",
                 len(rows) - len(reliable), len(rows), round(100 * MIN_OUTLINE_SHARE))
        rows = reliable
    else:  # every label collapsed: they are all there is to learn from
        rows = [row[:3] for row in rows]
    crops, labels, inside = (torch.from_numpy(np.stack(column)) for column in zip(*rows))
    log.info("Segmenter data: %d faces from %d folder(s), labels refined by GrabCut.", len(crops), len(folders))
    return SegmentSamples(template, crops, labels, inside)


def _records(folder: Path, max_faces: int) -> tuple[Template, list[tuple]]:
    if not alignments_file.alignments_path(folder).is_file():
        raise UserError(f"'{folder}' is not a faces folder (no {alignments_file.FILE_NAME}); pass folders written by `faceswap extract`.")
    alignments = alignments_file.load(folder)
    records, _ = alignments_file.faces_on_disk(folder, alignments)  # crops deleted by hand are left out, as in training
    if not records:
        raise UserError(f"The faces folder '{folder}' holds no faces; extract from a video in which a face is visible.")
    picked = np.unique(np.linspace(0, len(records) - 1, min(max_faces, len(records))).round().astype(int))
    source = alignments.source
    hands = {face.face_file: frame.hands for frame, face in alignments.faces()}
    return alignments.template, [(folder, records[i], source.width, source.height, hands.get(records[i].face_file))
                                 for i in picked]


def _sample(folder: Path, record, frame_width: int, frame_height: int, hands: list | None, template: Template, size: int):
    from faceswap.align.mask import outline_mask
    from faceswap.align.transform import five_points, rescale, transform_points

    face_path = folder / record.face_file
    face = cv2.imread(str(face_path), cv2.IMREAD_COLOR) if face_path.is_file() else None
    if face is None:
        raise UserError(f"Cannot read '{face_path}' listed in '{folder}'s alignments; re-run `faceswap extract` on that input.")
    matrix = record.matrix_array()
    inside = inside_frame_mask(matrix, template.size, frame_width, frame_height, face.shape[0])
    landmarks = transform_points(record.landmarks_array(), matrix)
    outline = outline_mask(landmarks, template, face.shape[0])
    label = pseudo_label(face, outline, five_points(landmarks)[:2], inside)
    reliable = label_is_reliable(label, outline)
    in_front = hands_mask([np.asarray(hand, np.float64) for hand in hands or []], rescale(matrix, template.size, face.shape[0]),
                          face.shape[0])
    if in_front is not None:  # colour calls a hand over the face face: the hand finder knows better
        label[in_front > 127] = 0
    face = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA)
    label = cv2.resize(label, (size, size), interpolation=cv2.INTER_AREA)
    inside = cv2.resize(inside.astype(np.uint8) * 255, (size, size), interpolation=cv2.INTER_AREA)
    return face[..., ::-1].transpose(2, 0, 1).copy(), label[None], inside[None], reliable
