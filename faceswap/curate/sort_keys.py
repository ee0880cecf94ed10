"""The scalar keys of `faceswap faces sort`: one number per face, and which faces come first.

    blur   detail inside the face (Laplacian variance of its aligned crop), blurriest first
    size   side of the detector's box in frame pixels (sqrt of its area), smallest first
    score  the detector's confidence, lowest first
    yaw    head turn in degrees (solvePnP on five landmarks), most turned first
    pitch  head tilt up or down in degrees, most tilted first

Only blur reads the crops; the others come from alignments.json alone. (``identity`` groups
faces by person instead; see people.py.)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceswap.align.alignments import Alignments, FaceRecord


@dataclass(frozen=True)
class FaceSet:
    """The faces to sort: records whose crop is in ``folder``, in alignments order."""

    folder: Path
    alignments: Alignments
    records: list[FaceRecord]
    progress: bool = False


@dataclass(frozen=True)
class SortKey:
    name: str
    order: str  # what the value is and which faces come first (for the report)
    extreme_first: bool  # True: largest |value| first; False: smallest value first
    measure: Callable[[FaceSet], np.ndarray]  # (N,) float64; NaN where a face could not be measured
    digits: int = 0  # decimals shown
    unit: str = ""

    def label(self, value: float) -> str:
        """The value as written under a thumbnail ('+23 deg' for the angles)."""
        return f"{value:{'+' if self.extreme_first else ''}.{self.digits}f}{self.unit}"

    def range_text(self, low: float, high: float) -> str:
        """A group's range of the sorted measure, as its sheet's header says it."""
        name = f"|{self.name}|" if self.extreme_first else self.name
        return f"{name} {low:.{self.digits}f} to {high:.{self.digits}f}{self.unit}"

    def ordered(self, values: np.ndarray) -> np.ndarray:
        """Positions of ``values`` in sorted order (stable: ties keep alignments order)."""
        return np.argsort(self.sorted_measure(values) * (-1 if self.extreme_first else 1), kind="stable")

    def sorted_measure(self, values: np.ndarray) -> np.ndarray:
        """What the order and the groups' ranges are of: the value, or its size for the angles."""
        return np.abs(values) if self.extreme_first else np.asarray(values, np.float64)


def _blur(faces: FaceSet) -> np.ndarray:
    from tqdm import tqdm

    return np.array([crop_detail(faces.folder, faces.alignments, record)
                     for record in tqdm(faces.records, desc="measuring detail", unit="face", disable=not faces.progress)])


def crop_detail(folder: Path, alignments: Alignments, record: FaceRecord) -> float:
    """face_detail of a face's aligned crop (its five landmarks mapped into the crop); NaN if unreadable."""
    from faceswap.align.face_measures import face_detail
    from faceswap.align.transform import five_points, rescale, transform_points
    from faceswap.video.image_folder import read_image

    crop = read_image(folder / record.face_file, rgb=False)
    if crop is None:
        return float("nan")
    frame_to_crop = rescale(record.matrix_array(), alignments.template.size, crop.shape[1])
    return face_detail(crop, transform_points(five_points(record.landmarks_array()), frame_to_crop))


def _size(faces: FaceSet) -> np.ndarray:
    boxes = np.array([record.box[:4] for record in faces.records], np.float64).reshape(-1, 4)
    return np.sqrt(np.clip((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 0, None))


def _score(faces: FaceSet) -> np.ndarray:
    return np.array([record.score for record in faces.records], np.float64)


def _angle(axis: int) -> Callable[[FaceSet], np.ndarray]:
    def measure(faces: FaceSet) -> np.ndarray:
        from faceswap.align.face_measures import head_pose
        from faceswap.align.transform import five_points

        width, height = faces.alignments.source.width, faces.alignments.source.height
        return np.array([head_pose(five_points(record.landmarks_array()), width, height)[axis]
                         for record in faces.records], np.float64)
    return measure


KEYS: dict[str, SortKey] = {key.name: key for key in (
    SortKey("blur", "detail inside the face (Laplacian variance of the aligned crop), blurriest first", False, _blur),
    SortKey("size", "side of the face box in frame pixels (square root of its area), smallest first", False, _size,
            unit=" px"),
    SortKey("score", "detector score, lowest first", False, _score, digits=3),
    SortKey("yaw", "head turn (yaw) in degrees, signed by direction, most turned first (ranges are of |yaw|)", True,
            _angle(0), unit=" deg"),
    SortKey("pitch", "head tilt (pitch) in degrees, signed by direction, most tilted first (ranges are of |pitch|)", True,
            _angle(1), unit=" deg"),
)}
