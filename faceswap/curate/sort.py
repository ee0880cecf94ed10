"""Sort a faces folder by one key and draw a contact sheet per group, to find bad faces at a glance.

    from faceswap.curate import sort_faces
    report = sort_faces("faces_a", by="identity")     # or blur, size, score, yaw, pitch
    report.groups[1].faces                            # SortedFace(name="000012_0", file=..., value=...)

writes FACES_DIR/sort_<key>/ (or ``output``): group_01.png, ... and report.json. The folder is
written under a temporary name and renamed into place, replacing an earlier sort's output.
``identity`` groups faces by person (largest first; the last group pools the smallest people
when there are more than ``groups``), nearest the person's centre first. The scalar keys make
``groups`` bins of equal count in their order (sort_keys.py). Faces whose crop was deleted
from faces/ are skipped and counted. Nothing in the faces folder changes but the descriptor
cache of ``identity``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from faceswap.align.alignments import faces_on_disk, load
from faceswap.curate.contact_sheet import Tile, write_sheets
from faceswap.curate.edit import faces_folder
from faceswap.curate.sort_keys import KEYS, FaceSet
from faceswap.curate.sort_report import FORMAT, REPORT_FILE, FaceGroup, SortedFace, SortReport
from faceswap.errors import UserError
from faceswap.fileio import read_json, write_json_atomic
from faceswap.identity import DEFAULT_DESCRIBER

SORT_KEYS = ("identity", *KEYS)
DEFAULT_GROUPS = 5


@dataclass(frozen=True)
class _Group:
    positions: np.ndarray  # rows of the measured faces, in order
    values: np.ndarray  # the faces' values, in that order
    low: float
    high: float
    header: str  # the range part of the sheet header
    mean_distance: float | None = None
    pooled: int = 0


def sort_faces(faces_dir: str | Path, by: str, groups: int = DEFAULT_GROUPS, output: str | Path | None = None,
               describer: str = DEFAULT_DESCRIBER, progress: bool = False) -> SortReport:
    """Sort FACES_DIR's faces by ``by`` into at most ``groups`` groups; write sheets and report.json."""
    folder = faces_folder(faces_dir)
    if by not in SORT_KEYS:
        raise UserError(f"Unknown sort key '{by}'; sort by one of: {', '.join(SORT_KEYS)}.")
    if groups < 1:
        raise UserError(f"--groups must be 1 or more (got {groups}); pass e.g. --groups {DEFAULT_GROUPS}.")
    target = Path(output) if output is not None else folder / f"sort_{by}"
    _check_output(target)
    alignments = load(folder)
    kept, deleted = faces_on_disk(folder, alignments)
    if not kept:
        besides = f" (alignments.json lists {len(deleted)} whose crops were deleted)" if deleted else ""
        raise UserError(f"The faces folder '{folder}' holds no faces{besides}; extract faces into it with `faceswap extract`.")
    faces = FaceSet(folder, alignments, kept, progress)
    if by == "identity":
        parts, order, described, unreadable = _by_identity(faces, groups, describer)
    else:
        values = KEYS[by].measure(faces)
        unreadable, described, order = int(np.isnan(values).sum()), 0, KEYS[by].order
        _check_readable(folder, len(kept), unreadable)
        parts = _by_value(by, values, groups)
    report = SortReport(by, str(folder.resolve()), str(target.resolve()), order, (), len(deleted), unreadable, described,
                        describer if by == "identity" else None)
    return _write(target, report, faces, parts, progress)


def _check_readable(folder: Path, faces: int, unreadable: int) -> None:
    if unreadable == faces:
        raise UserError(f"None of the {faces} crops in '{folder / 'faces'}' could be read; re-run `faceswap extract`.")


def _check_output(target: Path) -> None:
    """Refuse to replace anything but an earlier sort's output (or an empty folder)."""
    if not target.exists():
        return
    if not target.is_dir():
        raise UserError(f"The output '{target}' is a file; pass a folder to write the contact sheets into (--output).")
    if any(target.iterdir()) and not _is_sort_output(target):
        raise UserError(f"The output folder '{target}' exists and is not an earlier `faceswap faces sort` output; "
                        "pass another --output, or empty it.")


def _is_sort_output(folder: Path) -> bool:
    try:
        data = read_json(folder / REPORT_FILE, "sort report")
    except UserError:  # none, or not JSON
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT


def _by_value(by: str, values: np.ndarray, groups: int) -> list[_Group]:
    """``groups`` bins of equal count in the key's order (NaN values, unreadable crops, left out)."""
    key = KEYS[by]
    measured = np.flatnonzero(~np.isnan(values))
    order = measured[key.ordered(values[measured])]
    sorted_measure = key.sorted_measure(values)
    parts = []
    for positions in np.array_split(order, min(groups, len(order))):
        low, high = float(sorted_measure[positions].min()), float(sorted_measure[positions].max())
        parts.append(_Group(positions, values[positions], low, high, key.range_text(low, high)))
    return parts


def _by_identity(faces: FaceSet, groups: int, describer: str) -> tuple[list[_Group], str, int, int]:
    """(people as groups, the order's description, faces described now, unreadable crops)."""
    from faceswap.curate.descriptors import describe_faces
    from faceswap.curate.people import group_people
    from faceswap.registry import get

    threshold = float(get("identity", describer).same_person_distance)
    descriptors, described = describe_faces(faces.folder, faces.alignments, faces.records, describer, faces.progress)
    measured = np.flatnonzero(~np.isnan(descriptors).any(axis=1))
    _check_readable(faces.folder, len(descriptors), len(descriptors) - len(measured))
    people = group_people(descriptors[measured], threshold)
    parts = [_person(measured[person.positions], person.distances) for person in people[:groups - 1]]
    rest = people[len(parts):]
    if len(rest) == 1:
        parts.append(_person(measured[rest[0].positions], rest[0].distances))
    elif rest:
        positions = np.concatenate([measured[person.positions] for person in rest])
        distances = np.concatenate([person.distances for person in rest])
        pooled = f"{len(rest)} smaller people pooled (others, false detections)" if parts else f"all {len(rest)} people pooled"
        parts.append(_Group(positions, distances, float(distances.min()), float(distances.max()),
                            f"{pooled}, largest first", float(distances.mean()), len(rest)))
    order = (f"people by {describer} face descriptor (same person within {threshold:g} of the centre), largest first; "
             "value: distance to the person's centre, nearest first")
    return parts, order, described, len(descriptors) - len(measured)


def _person(positions: np.ndarray, distances: np.ndarray) -> _Group:
    mean = float(distances.mean())
    return _Group(positions, distances, float(distances.min()), float(distances.max()),
                  f"distance to centre {mean:.2f} on average, {float(distances.max()):.2f} at most", mean)


def _write(target: Path, report: SortReport, faces: FaceSet, parts: list[_Group], progress: bool) -> SortReport:
    """Sheets and report.json into a temporary folder beside ``target``, then renamed into place."""
    from tqdm import tqdm

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o777 & ~umask)  # mkdtemp makes 0700; the output gets the usual mode
    except OSError as error:
        raise UserError(f"Cannot write to '{target.parent}' ({error.strerror}); choose a writable --output.") from None
    width = max(2, len(str(len(parts))))
    label = KEYS[report.key].label if report.key in KEYS else (lambda value: f"{value:.3f}")
    groups = []
    try:
        for index, part in enumerate(tqdm(parts, desc="drawing sheets", unit="group", disable=not progress), start=1):
            records = [faces.records[position] for position in part.positions]
            sorted_faces = tuple(SortedFace(Path(record.face_file).stem, record.face_file, round(float(value), 4))
                                 for record, value in zip(records, part.values))
            header = f"Group {index} of {len(parts)} by {report.key}: {len(records)} faces, {part.header}"
            tiles = [Tile(faces.folder / face.file, face.name, label(face.value)) for face in sorted_faces]
            sheets = write_sheets(temp, index, header, tiles, width)
            groups.append(FaceGroup(index, len(records), round(part.low, 4), round(part.high, 4), tuple(sheets),
                                    sorted_faces, part.header,
                                    None if part.mean_distance is None else round(part.mean_distance, 4), part.pooled))
        report = replace(report, groups=tuple(groups))
        write_json_atomic(temp / REPORT_FILE, report.to_dict())
        _replace(temp, target)
    except OSError as error:
        raise UserError(f"Cannot write the sort output '{target}' ({error}); check that '{target.parent}' is writable "
                        "and has room.") from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return report


def _replace(temp: Path, target: Path) -> None:
    """Rename ``temp`` to ``target``; an earlier output there is moved aside first and removed after."""
    aside = target.with_name(f".{target.name}.old-{os.getpid()}") if target.exists() else None
    if aside is not None:
        os.replace(target, aside)
    try:
        os.replace(temp, target)
    except OSError:
        if aside is not None:
            os.replace(aside, target)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
