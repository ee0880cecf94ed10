"""The trash of a faces folder: what `faceswap faces remove` took out, ready to be put back.

    FACES_DIR/trash/faces/<name>.png   the removed crops, under their own relative names
    FACES_DIR/trash/masks/<name>.png   and masks
    FACES_DIR/trash/trash.json         the alignments records they had, with their frame

trash.json is plain JSON (format, version, the input the faces came from), written atomically.
Paths read from it, like those read from the alignments file, must stay inside the faces folder.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from faceswap.align.alignments import FaceRecord, SourceInfo
from faceswap.errors import UserError
from faceswap.fileio import read_json, write_json_atomic

TRASH_DIR = "trash"
MANIFEST = "trash.json"
FORMAT = "faceswap-trash"
VERSION = 1


@dataclass(frozen=True)
class TrashedFace:
    """A removed face: its alignments record and the frame it belongs to."""

    frame_index: int
    frame_time: float
    frame_name: str | None  # file name for image-folder inputs
    record: FaceRecord

    @property
    def name(self) -> str:
        return self.record.face_file


def trash_dir(faces_dir: str | Path) -> Path:
    return Path(faces_dir) / TRASH_DIR


def read_trash(faces_dir: Path, source: SourceInfo) -> list[TrashedFace]:
    """The faces in ``faces_dir``'s trash ([] when it has none); refuses a trash of another input."""
    path = trash_dir(faces_dir) / MANIFEST
    if not path.is_file():
        return []
    data = read_json(path, "trash list")
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise UserError(f"'{path}' is not a faceswap trash list of version {VERSION}; move the folder '{path.parent}' away.")
    if data.get("source") != _source_key(source):
        other = data["source"].get("path") if isinstance(data.get("source"), dict) else None
        raise UserError(f"The trash '{path.parent}' holds faces of '{other}', not of '{source.path}' "
                        f"(the folder was extracted again); delete '{path.parent}' to empty it.")
    try:
        faces = [TrashedFace(int(item["frame_index"]), float(item["frame_time"]), item.get("frame_name"),
                             FaceRecord(**item["record"])) for item in data["faces"]]
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise UserError(f"The trash list '{path}' has missing or malformed fields ({error}); "
                        f"restore its faces by hand or delete '{path.parent}'.") from None
    for face in faces:
        for relative in _files(face.record):
            inside(faces_dir, relative, f"trash list '{path}'")
    return faces


def write_trash(faces_dir: Path, source: SourceInfo, faces: list[TrashedFace]) -> None:
    """Write the trash list atomically (an empty trash keeps an empty list)."""
    write_json_atomic(trash_dir(faces_dir) / MANIFEST, {
        "format": FORMAT, "version": VERSION, "source": _source_key(source),
        "faces": [{"frame_index": face.frame_index, "frame_time": face.frame_time, "frame_name": face.frame_name,
                   "record": asdict(face.record)} for face in faces]})


def move_to_trash(faces_dir: Path, record: FaceRecord) -> bool:
    """Move a face's crop and mask into the trash; False if its crop was already gone."""
    return _move_files(faces_dir, record, to_trash=True)


def move_back(faces_dir: Path, record: FaceRecord) -> bool:
    """Move a face's crop and mask from the trash back into the folder; False if its crop was not in the trash."""
    return _move_files(faces_dir, record, to_trash=False)


def in_trash(faces_dir: Path, relative: str) -> Path:
    return trash_dir(faces_dir) / relative


def inside(faces_dir: Path, relative: str, origin: str) -> Path:
    """``faces_dir / relative``, refusing a name that leads out of the folder (absolute, '..', a link elsewhere)."""
    path = faces_dir / relative
    if PurePosixPath(relative).is_absolute() or os.path.isabs(relative) or not path.resolve().is_relative_to(faces_dir.resolve()):
        raise UserError(f"The {origin} names '{relative}', outside the faces folder '{faces_dir}'; "
                        "re-run `faceswap extract` to re-create the folder.")
    return path


def _move_files(faces_dir: Path, record: FaceRecord, to_trash: bool) -> bool:
    moved_crop = False
    for relative in _files(record):
        folder_path, trash_path = faces_dir / relative, in_trash(faces_dir, relative)
        source, target = (folder_path, trash_path) if to_trash else (trash_path, folder_path)
        if not source.is_file():
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, target)  # a rename: the trash is inside the folder
        except OSError as error:
            raise UserError(f"Cannot move '{source}' to '{target}' ({error.strerror}); check the permissions of "
                            f"'{faces_dir}' and run the command again (it carries on where it stopped).") from None
        moved_crop = moved_crop or relative == record.face_file
    return moved_crop


def _files(record: FaceRecord) -> list[str]:
    return [name for name in (record.face_file, record.mask_file) if name]


def _source_key(source: SourceInfo) -> dict:
    return {"path": source.path, "file_size": source.file_size}
