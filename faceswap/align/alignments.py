"""The alignments file: what extract found in one input, read by train and convert.

Plain JSON (no pickle), versioned by ``schema_version``, written atomically. One file per
input, ``alignments.json`` in the faces folder. Crops and masks are PNG files beside it,
named by ``FaceRecord.face_file`` and ``FaceRecord.mask_file`` (relative to the folder).

``matrix`` maps frame pixels to crop pixels (2x3, as for ``cv2.warpAffine``); its inverse maps
the crop back into the frame.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from faceswap import __version__
from faceswap.align.template import Template
from faceswap.errors import UserError
from faceswap.fileio import read_json, write_bytes_atomic

SCHEMA_VERSION = 1
FILE_NAME = "alignments.json"


@dataclass
class FaceRecord:
    box: list[float]  # x0, y0, x1, y1 in frame pixels
    score: float
    landmarks: list[list[float]]  # (5 or 68, 2) in frame pixels, after smoothing
    track_id: int
    matrix: list[list[float]]  # 2x3, frame -> crop
    face_file: str  # relative to the alignments file's folder
    mask_file: str

    def matrix_array(self) -> np.ndarray:
        return np.asarray(self.matrix, dtype=np.float64)

    def landmarks_array(self) -> np.ndarray:
        return np.asarray(self.landmarks, dtype=np.float32)


@dataclass
class FrameRecord:
    index: int
    time: float  # seconds, from the stream's presentation time
    faces: list[FaceRecord] = field(default_factory=list)
    name: str | None = None  # file name for image-folder inputs
    hands: list | None = None  # (21, 2) points per hand near the faces, frame pixels; None: not looked for


@dataclass
class SourceInfo:
    path: str
    kind: str  # "video", "images" or "image"
    width: int
    height: int
    fps: float
    frame_count: int
    file_size: int  # bytes; with the path, tells an alignments file of another video apart


@dataclass
class Alignments:
    source: SourceInfo
    template: Template
    frames: list[FrameRecord] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    complete: bool = False  # False while extract is running; --resume continues from the last frame
    schema_version: int = SCHEMA_VERSION
    tool: str = f"faceswap {__version__}"

    def faces(self) -> list[tuple[FrameRecord, FaceRecord]]:
        return [(frame, face) for frame in self.frames for face in frame.faces]

    def track_ids(self) -> list[int]:
        return sorted({face.track_id for _, face in self.faces()})

    def by_frame_index(self) -> dict[int, FrameRecord]:
        return {frame.index: frame for frame in self.frames}

    def to_dict(self) -> dict:
        # Built by hand rather than with dataclasses.asdict (which deep-copies every list):
        # extract saves a growing file periodically, so this is on its hot path.
        return {
            "source": asdict(self.source),
            "template": self.template.as_dict(),
            "frames": [_frame_dict(frame) for frame in self.frames],
            "settings": self.settings,
            "complete": self.complete,
            "schema_version": self.schema_version,
            "tool": self.tool,
        }

    def save(self, path: str | Path) -> None:
        """Write atomically, compact (one line per frame keeps long videos' files small)."""
        lines = [json.dumps({k: v for k, v in self.to_dict().items() if k != "frames"}, default=_json_default)[:-1] + ', "frames": [']
        lines.append(",\n".join(json.dumps(_frame_dict(frame), separators=(",", ":")) for frame in self.frames))
        lines.append("]}\n")
        write_bytes_atomic(path, "\n".join(lines).encode())

    @classmethod
    def from_dict(cls, data: dict, origin: str = "alignments file") -> "Alignments":
        if not isinstance(data, dict):
            raise UserError(f"The {origin} holds a JSON {type(data).__name__}, not an alignments object; re-run `faceswap extract`.")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise UserError(
                f"The {origin} has schema version {version}, this faceswap reads version {SCHEMA_VERSION}; "
                "re-run `faceswap extract` on the input to re-create it."
            )
        try:
            frames = [
                FrameRecord(index=f["index"], time=f["time"], name=f.get("name"), faces=[FaceRecord(**face) for face in f["faces"]],
                            hands=_hands(f.get("hands"), f["index"], origin))
                for f in data["frames"]
            ]
            for frame in frames:
                for face in frame.faces:
                    problem = face_problem(face)
                    if problem:
                        raise UserError(f"The {origin} has a face in frame {frame.index} whose {problem}; re-run `faceswap extract`.")
            return cls(
                source=SourceInfo(**data["source"]),
                template=Template.from_dict(data["template"]),
                frames=frames,
                settings=data.get("settings", {}),
                complete=bool(data.get("complete", False)),
                schema_version=version,
                tool=data.get("tool", ""),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise UserError(f"The {origin} is missing or has malformed fields ({error}); re-run `faceswap extract`.") from error


def face_problem(face: FaceRecord) -> str | None:
    """What makes a face record unusable (the rest of the pipeline trusts these), or None."""
    matrix, landmarks, box = (_numbers(value) for value in (face.matrix, face.landmarks, face.box))
    if matrix.shape != (2, 3) or not np.isfinite(matrix).all() or abs(np.linalg.det(matrix[:, :2])) < 1e-12:
        return "matrix is not an invertible 2x3 matrix of finite numbers"
    if landmarks.ndim != 2 or landmarks.shape[1] != 2 or len(landmarks) < 5 or not np.isfinite(landmarks).all():
        return "landmarks are not 5 or more finite (x, y) points"
    if box.shape != (4,) or not np.isfinite(box).all():
        return "box is not 4 finite numbers"
    for name in (face.face_file, face.mask_file):
        if not isinstance(name, str) or not _inside(name):
            return f"file name {name!r} points outside the faces folder"
    return None


def _numbers(value) -> np.ndarray:
    """As a float array; a ragged or non-numeric value becomes an empty one (which no check accepts)."""
    try:
        return np.asarray(value, np.float64)
    except (TypeError, ValueError):
        return np.zeros(0)


def _inside(relative: str) -> bool:
    """A path read from the file stays inside its folder: relative, with no '..' part."""
    from pathlib import PurePosixPath, PureWindowsPath

    return not (PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute()
                or ".." in PurePosixPath(relative.replace("\\", "/")).parts)


def _frame_dict(frame: FrameRecord) -> dict:
    record = {"index": frame.index, "time": frame.time, "name": frame.name, "faces": [
        {"box": face.box, "score": face.score, "landmarks": face.landmarks, "track_id": face.track_id,
         "matrix": face.matrix, "face_file": face.face_file, "mask_file": face.mask_file} for face in frame.faces]}
    if frame.hands is not None:
        record["hands"] = frame.hands
    return record


def _hands(value, frame_index: int, origin: str) -> list | None:
    """A frame's hands as stored (None when the extract did not look for them), each checked to be 21 points."""
    if value is None:
        return None
    hands = value if isinstance(value, list) else [value]
    for hand in hands:
        points = _numbers(hand)
        if points.shape != (21, 2) or not np.isfinite(points).all():
            raise UserError(f"The {origin} has a hand in frame {frame_index} that is not 21 (x, y) points; re-run `faceswap extract`.")
    return hands


def _json_default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def alignments_path(faces_dir: str | Path) -> Path:
    return Path(faces_dir) / FILE_NAME


def faces_on_disk(folder: str | Path, alignments: Alignments) -> tuple[list[FaceRecord], list[FaceRecord]]:
    """(the faces whose crop is in ``folder``, those whose crop was deleted from it), each in alignments order.

    Deleting a crop from faces/ takes the face out of training; `faceswap faces remove` does it
    with a trash to restore from."""
    folder = Path(folder)
    kept, deleted = [], []
    for _, face in alignments.faces():
        (kept if (folder / face.face_file).is_file() else deleted).append(face)
    return kept, deleted


def load(path_or_dir: str | Path) -> Alignments:
    """Load an alignments file, or the one inside a faces folder."""
    path = Path(path_or_dir)
    if path.is_dir():
        path = alignments_path(path)
    return Alignments.from_dict(read_json(path, "alignments file"), origin=f"alignments file '{path}'")
