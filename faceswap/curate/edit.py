"""Take faces out of a faces folder into its trash, and put them back, under the folder's lock.

Each step leaves a consistent folder, so an interrupted command is finished by running it again:

    remove:  trash list (knows the faces) -> alignments.json (no longer lists them) -> crops, masks into the trash
    restore: crops, masks out of the trash -> alignments.json (lists them again) -> trash list

A face the alignments file lists always had its crop in faces/ (or training skips it, counted in
its log); a face in the trash list is found in the trash, or already back.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from faceswap.align.alignments import FILE_NAME, Alignments, FrameRecord, alignments_path, load
from faceswap.folder_lock import folder_lock
from faceswap.curate.names import pick
from faceswap.curate.trash import TrashedFace, in_trash, inside, move_back, move_to_trash, read_trash, write_trash
from faceswap.errors import UserError


@dataclass(frozen=True)
class CurateResult:
    changed: tuple[str, ...]  # the face files removed (or restored), as the alignments file names them
    listed: int  # faces the alignments file lists now
    trashed: int  # faces in the trash now
    crops_missing: int = 0  # of ``changed``: faces whose crop was already gone from the folder (or the trash)


def remove_faces(faces_dir: str | Path, names: Sequence[str]) -> CurateResult:
    """Move the named faces' crops and masks into FACES_DIR/trash and drop them from alignments.json.

    ``names``: crop names as in FACES_DIR/faces ('000012_0.png', '000012_0', 'faces/000012_0.png'),
    glob patterns or paths to the crops. Every name must name a listed face; nothing changes otherwise."""
    folder = faces_folder(faces_dir)
    with folder_lock(folder, "faceswap faces remove"):
        alignments = _finished_alignments(folder)
        listed = [face.face_file for _, face in alignments.faces()]
        trash = _settle(folder, read_trash(folder, alignments.source), set(listed))
        chosen, unmatched = pick(names, listed, folder)
        if unmatched:
            raise _not_listed(folder, unmatched[0], listed, [face.name for face in trash])
        taken = _take_out(alignments, set(chosen))
        for face in taken:
            for relative in filter(None, (face.record.face_file, face.record.mask_file)):
                inside(folder, relative, f"alignments file of '{folder}'")
        write_trash(folder, alignments.source, [face for face in trash if face.name not in set(chosen)] + taken)
        alignments.save(alignments_path(folder))
        missing = sum(not move_to_trash(folder, face.record) for face in taken)
        return CurateResult(tuple(chosen), len(listed) - len(chosen), len(trash) + len(taken), missing)


def restore_faces(faces_dir: str | Path, names: Sequence[str] | None = None) -> CurateResult:
    """Put faces of FACES_DIR/trash back (all of them when ``names`` is None), records in frame order."""
    folder = faces_folder(faces_dir)
    with folder_lock(folder, "faceswap faces restore"):
        alignments = _finished_alignments(folder)
        listed = {face.face_file: face for _, face in alignments.faces()}
        trash = _settle(folder, read_trash(folder, alignments.source), set(listed))
        in_the_trash = [face.name for face in trash]
        if not trash:
            raise UserError(f"The trash of '{folder}' is empty; there is nothing to restore.")
        chosen, unmatched = (in_the_trash, []) if names is None else pick(names, in_the_trash, folder)
        if unmatched:
            raise UserError(f"'{unmatched[0]}' is not in the trash of '{folder}' (it holds {len(trash)} faces, "
                            f"e.g. '{Path(in_the_trash[0]).name}'); see `faceswap faces list {folder} --trash`.")
        back = [face for face in trash if face.name in set(chosen)]
        _check_room(folder, back, listed)
        missing = sum(not move_back(folder, face.record) and not (folder / face.name).is_file() for face in back)
        _put_back(alignments, [face for face in back if face.name not in listed])
        alignments.save(alignments_path(folder))
        write_trash(folder, alignments.source, [face for face in trash if face.name not in set(chosen)])
        return CurateResult(tuple(chosen), len(alignments.faces()), len(trash) - len(back), missing)


def trashed_faces(faces_dir: str | Path) -> list[TrashedFace]:
    """The faces in FACES_DIR/trash, in the order they were removed."""
    folder = faces_folder(faces_dir)
    return read_trash(folder, load(folder).source)


def faces_folder(faces_dir: str | Path) -> Path:
    folder = Path(faces_dir)
    if not alignments_path(folder).is_file():
        raise UserError(f"'{folder}' is not a faces folder (no {FILE_NAME}); pass a folder written by `faceswap extract`.")
    return folder


def _finished_alignments(folder: Path) -> Alignments:
    alignments = load(folder)
    if not alignments.complete:
        raise UserError(f"The extract into '{folder}' has not finished (or is still running); let it finish, or finish "
                        "it with `faceswap extract --resume`, before removing or restoring faces.")
    return alignments


def _settle(folder: Path, trash: list[TrashedFace], listed: set[str]) -> list[TrashedFace]:
    """The trash list as it stands after finishing what an interrupted command left: a face taken out of the
    alignments has its files moved into the trash; one still listed, with nothing in the trash, was never removed."""
    settled = []
    for face in trash:
        if face.name in listed and not in_trash(folder, face.name).is_file():
            continue
        if face.name not in listed and not in_trash(folder, face.name).is_file():
            move_to_trash(folder, face.record)
        settled.append(face)
    return settled


def _not_listed(folder: Path, word: str, listed: list[str], trashed: list[str]) -> UserError:
    if pick([word], trashed, folder)[0]:
        return UserError(f"'{word}' is already in the trash of '{folder}'; `faceswap faces restore {folder} {word}` brings it back.")
    example = f", e.g. '{Path(listed[0]).name}'" if listed else ""
    return UserError(f"'{word}' is not a face in the alignments of '{folder}' (it lists {len(listed)}{example}); "
                     f"name crops as they appear in {folder / 'faces'} or see `faceswap faces list {folder}`.")


def _take_out(alignments: Alignments, chosen: set[str]) -> list[TrashedFace]:
    """Remove the chosen faces from their frames (frames stay, perhaps empty); return them as trash entries."""
    taken = []
    for frame in alignments.frames:
        taken += [TrashedFace(frame.index, frame.time, frame.name, face) for face in frame.faces if face.face_file in chosen]
        frame.faces = [face for face in frame.faces if face.face_file not in chosen]
    return taken


def _check_room(folder: Path, back: list[TrashedFace], listed: dict) -> None:
    """Refuse, before anything moves, to restore over a face the folder has again (it was extracted anew)."""
    for face in back:
        again = listed.get(face.name)
        in_both = in_trash(folder, face.name).is_file() and (folder / face.name).is_file()
        if (again is not None and again != face.record) or in_both:
            raise UserError(f"'{face.name}' is in the trash of '{folder}' and in the folder again (extracted anew?); "
                            f"delete '{in_trash(folder, face.name)}' or the folder's own copy, then restore.")


def _put_back(alignments: Alignments, faces: list[TrashedFace]) -> None:
    """Re-insert records into their frames (frames in index order, faces in crop-name order, as extract wrote them)."""
    frames = alignments.by_frame_index()
    for face in faces:
        frame = frames.get(face.frame_index)
        if frame is None:
            frame = frames[face.frame_index] = FrameRecord(face.frame_index, face.frame_time, name=face.frame_name)
            indices = [existing.index for existing in alignments.frames]
            alignments.frames.insert(bisect.bisect(indices, face.frame_index), frame)
        keys = [_natural(existing.face_file) for existing in frame.faces]
        frame.faces.insert(bisect.bisect(keys, _natural(face.name)), face.record)


def _natural(name: str) -> list[tuple[int, int | str]]:
    """'faces/000012_10.png' sorts after 'faces/000012_9.png'."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name)]
