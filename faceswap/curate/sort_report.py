"""The report of `faceswap faces sort`: which faces went into which group, in which order.

Plain JSON (format, version), written as FACES_DIR/sort_<key>/report.json beside the contact
sheets and printed by ``--json``. A face's ``name`` (its crop's stem, '000012_0') is what
`faceswap faces remove FACES_DIR NAME...` accepts; ``file`` is the crop as the alignments file
names it ('faces/000012_0.png'). `faceswap faces remove --from-sort REPORT --group N` reads it back.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from faceswap.errors import UserError
from faceswap.fileio import read_json

REPORT_FILE = "report.json"
FORMAT = "faceswap-sort"
VERSION = 1


@dataclass(frozen=True)
class SortedFace:
    name: str  # the crop's stem, as `faceswap faces remove` takes it
    file: str  # the crop relative to the faces folder, as alignments.json names it
    value: float  # the face's value of the key (identity: its distance to its group's centre)


@dataclass(frozen=True)
class FaceGroup:
    index: int  # 1-based, as on the sheets and for `faces remove --from-sort --group`
    count: int
    low: float  # the range of the sorted measure in this group (yaw, pitch: of |angle|)
    high: float
    sheets: tuple[str, ...]  # contact sheet file names in the report's folder
    faces: tuple[SortedFace, ...]
    summary: str = ""  # the range in words, as the sheets' header says it ('|yaw| 13 to 23 deg')
    mean_distance: float | None = None  # identity: mean distance of the faces to the group's centre
    pooled: int = 0  # identity: how many small groups this last group pools (0: it is one person)


@dataclass(frozen=True)
class SortReport:
    key: str
    folder: str  # the faces folder, absolute
    output: str  # the folder of the sheets and report.json, absolute
    order: str  # what the value is and which faces come first
    groups: tuple[FaceGroup, ...]
    deleted: int = 0  # faces alignments.json lists whose crop was deleted from the folder (skipped)
    unreadable: int = 0  # faces whose crop could not be decoded (skipped by blur and identity)
    described: int = 0  # identity: faces described by this run (the others came from the cache)
    plugin: str | None = None  # identity: the describer

    @property
    def faces(self) -> int:
        return sum(group.count for group in self.groups)

    def to_dict(self) -> dict:
        """The report as JSON has it (lists, not tuples)."""
        data = asdict(self)
        data["groups"] = [{**group, "sheets": list(group["sheets"]), "faces": list(group["faces"])} for group in data["groups"]]
        return {"format": FORMAT, "version": VERSION, **data}

    @classmethod
    def from_dict(cls, data: dict, origin: str) -> SortReport:
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
            raise UserError(f"{origin} is not a `faceswap faces sort` report of version {VERSION}; "
                            "pass the report.json that `faceswap faces sort` wrote.")
        try:
            groups = tuple(FaceGroup(**{**group, "sheets": tuple(group["sheets"]),
                                        "faces": tuple(SortedFace(**face) for face in group["faces"])})
                           for group in data["groups"])
            fields = {name: data[name] for name in ("key", "folder", "output", "order")}
            extras = {name: data[name] for name in ("deleted", "unreadable", "described", "plugin") if name in data}
            return cls(**fields, groups=groups, **extras)
        except (KeyError, TypeError) as error:
            raise UserError(f"{origin} has missing or malformed fields ({error}); sort the folder again.") from None

    def faces_of(self, groups: Sequence[int]) -> list[str]:
        """The crop files of the given groups (1-based), in the report's order."""
        known = {group.index: group for group in self.groups}
        for index in groups:
            if index not in known:
                raise UserError(f"The sort report of '{self.folder}' has no group {index}; it has groups "
                                f"1 to {len(self.groups)} (see the sheets in '{self.output}').")
        return [face.file for index in dict.fromkeys(groups) for face in known[index].faces]


def read_sort_report(path: str | Path) -> SortReport:
    """A report written by `faceswap faces sort` (its report.json, or the folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / REPORT_FILE
    return SortReport.from_dict(read_json(path, "sort report"), origin=f"The sort report '{path}'")
