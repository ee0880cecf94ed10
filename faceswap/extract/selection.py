"""Whose faces to keep in each frame: all, one track, or the largest face's person (or, with
``--reference``, the person in a photo: reference.py).

``--select`` means the same in extract and convert (one parser, one default here): the person
whose faces are extracted for training is the person convert swaps.

"largest" follows a person rather than a size: it takes the track of the largest face and
keeps it while it stays in view and at least ``SWITCH_RATIO`` of the largest face, so two
people of similar size never make the choice flip back and forth between frames.
"""
from __future__ import annotations

from typing import Sequence

from faceswap.errors import UserError

SWITCH_RATIO = 0.6
SELECT_DEFAULT = "largest"
SELECT_HELP = ("largest (the person of the largest face, followed along their track), all, or track=N "
               "(N: a track id from the alignments file)")


def parse_selection(select: str) -> tuple[str, int | None]:
    """'largest' | 'all' | 'track=N' -> (mode, track id or None)."""
    if select in ("largest", "all"):
        return select, None
    mode, _, number = select.partition("=")
    if mode == "track" and number.isascii() and number.isdigit():
        return "track", int(number)
    raise UserError(f"--select '{select}' is not valid; use largest, all or track=N (N: a track id from the alignments file).")


class FaceSelector:
    def __init__(self, mode: str, track_id: int | None = None):
        if mode not in ("all", "largest", "track"):
            raise ValueError(f"unknown selection mode {mode!r}")
        self.mode, self.track_id = mode, track_id
        self.current_track: int | None = None

    def choose(self, boxes: Sequence[Sequence[float]], track_ids: Sequence[int], image=None) -> list[int]:
        """Indices of the faces to keep, given their boxes (x0, y0, x1, y1) and track ids (and the
        frame's image, which only selection by reference looks at)."""
        if self.mode == "all":
            return list(range(len(boxes)))
        if self.mode == "track":
            return [i for i, track_id in enumerate(track_ids) if track_id == self.track_id]
        if not boxes:
            return []
        areas = [max(0.0, x1 - x0) * max(0.0, y1 - y0) for x0, y0, x1, y1 in boxes]
        largest = max(range(len(areas)), key=areas.__getitem__)
        if self.current_track in track_ids:
            current = list(track_ids).index(self.current_track)
            if areas[current] >= SWITCH_RATIO * areas[largest]:
                return [current]
        self.current_track = track_ids[largest]
        return [largest]

    def state(self) -> dict:
        return {"current_track": self.current_track}

    def restore(self, state: dict) -> None:
        self.current_track = state.get("current_track")


def make_selector(select: str, reference: Sequence[str] = (), reference_distance: float = 0.0, detector: str = "centerface",
                  device: str = "auto", stills: bool = False):
    """The selector a stage's settings ask for: by reference photo(s) when there are any, else by
    ``select``; ``stills``: the frames are separate photos (a folder of images), not a video."""
    if reference:
        from faceswap.extract.reference import ReferenceSelector, load_reference

        return ReferenceSelector(load_reference(reference, detector, distance=reference_distance, device=device), stills)
    return FaceSelector(*parse_selection(select))


def check_reference_choice(select: str, reference: Sequence[str], reference_distance: float) -> None:
    """Settings check shared by extract and convert."""
    if reference and select not in (SELECT_DEFAULT,):
        raise UserError(f"--reference chooses the person itself; drop --select {select} (or drop --reference).")
    if not 0.0 <= reference_distance <= 2.0:
        raise UserError(f"--reference-distance must be between 0 and 2, not {reference_distance}.")
