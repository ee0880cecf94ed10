"""Choose whose face to keep by a reference photo: ``--reference PHOTO [PHOTO...]``.

``ReferencePerson`` holds the identity descriptors of the one face in each photo. The
``ReferenceSelector`` keeps, in each frame, the face nearest that person when it is within the
identity model's same-person distance, and no face otherwise.

Describing a face costs about 0.1 s on a CPU, so faces are checked per track, not per frame:
a new track (a new shot, a person walking in, a track the tracker lost) is checked at once,
then again after 4, 8, 16... frames (a first look may be a profile or a blur; a track can jump
to another person when two cross), up to every ``RECHECK_FRAMES`` frames while its checks are
all clearly on one side of the threshold, and every ``UNSURE_RECHECK_FRAMES`` while they are
not. A track's distance is the mean of its last checks.
In a folder of photos every face is checked: tracks do not carry over between pictures.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from faceswap.errors import UserError

REFERENCE_HELP = ("photo(s) of the person whose face to keep: only the face that matches them is used, "
                  "followed across scene cuts and lost tracks (needs the identity extra); overrides --select")
DISTANCE_HELP = "identity distance under which a face is the reference person (0: the identity model's own rule, 0.6 for dlib)"
FIRST_RETRY = 4  # a track is described again after 4, 8, 16, ... frames
RECHECK_FRAMES = 90  # ... up to this many while its verdict is clear
UNSURE_RECHECK_FRAMES = 16  # ... or this many while a check came within CLEAR_MARGIN of the threshold
CLEAR_MARGIN = 0.1
CHECKS_KEPT = 3  # a track's distance is the mean of this many latest checks
FORGET_AFTER = 300  # frames after which an unseen track's verdict is dropped (bounds memory)
PHOTO_PADDING = 0.3  # a photo is padded by this share of its size, so tight crops of a face are detected
COMPARABLE_AREA = 0.25  # faces this large against the photo's largest count as another person in it


@dataclass
class ReferencePerson:
    descriptors: np.ndarray  # (P, dims) float32, one per photo
    threshold: float
    describer: object = field(repr=False)
    photos: tuple[str, ...] = ()

    def distances(self, images_bgr_uint8: Sequence[np.ndarray], boxes_xyxy: Sequence[np.ndarray]) -> np.ndarray:
        """(N,) distance of each face to the nearest reference photo's face."""
        found = self.describer.describe(list(images_bgr_uint8), [np.asarray(box, np.float32) for box in boxes_xyxy])
        return np.linalg.norm(found[:, None, :] - self.descriptors[None], axis=2).min(axis=1)


def check_reference_photos(photos: Sequence[str]) -> None:
    """Fail fast (before any work) on reference photos that are missing or not images."""
    for photo in photos:
        _read_photo(photo)


def load_reference(photos: Sequence[str], detector: str = "centerface", identity: str = "dlib",
                   distance: float = 0.0, device: str = "auto") -> ReferencePerson:
    """The person shown in ``photos`` (each must show exactly one face)."""
    from faceswap.extract.finder import FaceFinder
    from faceswap.identity import load_describer

    images = [_read_photo(photo) for photo in photos]
    describer = load_describer(identity, device)
    finder = FaceFinder(select="all", detector=detector, device=device, smooth=False, min_face_size=20, progress=False)
    faces = [_one_face(finder, photo, image) for photo, image in zip(photos, images)]
    descriptors = describer.describe([image for image, _ in faces], [box for _, box in faces])
    return ReferencePerson(descriptors, distance or describer.same_person_distance, describer, tuple(str(p) for p in photos))


@dataclass
class TrackVerdict:
    distances: list[float]
    checked_at: int
    retry: int  # frames until the next check

    @property
    def distance(self) -> float:
        return float(np.mean(self.distances))


class ReferenceSelector:
    """In each frame, the face of the reference person (at most one), by track."""

    def __init__(self, reference: ReferencePerson, stills: bool = False):
        self.reference = reference
        self.stills = stills  # frames are separate photos: a track says nothing, every face is checked
        self.position = 0
        self.tracks: dict[int, TrackVerdict] = {}
        self.last_seen: dict[int, int] = {}
        self.checks = 0  # faces described so far (for benchmarks and tests)

    def choose(self, boxes: Sequence[Sequence[float]], track_ids: Sequence[int], image: np.ndarray | None = None) -> list[int]:
        if image is None:
            raise ValueError("selecting by reference needs the frame's image")
        due = [i for i, track in enumerate(track_ids) if self._due(track)]
        if due:
            found = self.reference.distances([image] * len(due), [boxes[i] for i in due])
            for i, distance in zip(due, found):
                self._record(track_ids[i], float(distance))
            self.checks += len(due)
        for track in track_ids:
            self.last_seen[track] = self.position
        self._forget_old()
        self.position += 1
        matching = [i for i, track in enumerate(track_ids) if self.tracks[track].distance <= self.reference.threshold]
        return [min(matching, key=lambda i: self.tracks[track_ids[i]].distance)] if matching else []

    def _due(self, track: int) -> bool:
        verdict = self.tracks.get(track)
        return self.stills or verdict is None or self.position - verdict.checked_at >= verdict.retry

    def _record(self, track: int, distance: float) -> None:
        verdict = None if self.stills else self.tracks.get(track)
        if verdict is None:
            verdict = self.tracks[track] = TrackVerdict([distance], self.position, FIRST_RETRY)
            return
        verdict.distances = (verdict.distances + [distance])[-CHECKS_KEPT:]
        verdict.checked_at = self.position
        threshold = self.reference.threshold
        sides = {d <= threshold for d in verdict.distances}
        clear = len(sides) == 1 and all(abs(d - threshold) >= CLEAR_MARGIN for d in verdict.distances)
        verdict.retry = min(2 * verdict.retry, RECHECK_FRAMES if clear else UNSURE_RECHECK_FRAMES)

    def _forget_old(self) -> None:
        for track in [t for t, seen in self.last_seen.items() if self.position - seen > FORGET_AFTER]:
            del self.last_seen[track]
            self.tracks.pop(track, None)

    def state(self) -> dict:
        return {"position": self.position, "checks": self.checks,
                "tracks": [[track, v.distances, v.checked_at, v.retry, self.last_seen.get(track, self.position)]
                           for track, v in self.tracks.items()]}

    def restore(self, state: dict) -> None:
        self.position, self.checks = int(state.get("position", 0)), int(state.get("checks", 0))
        self.tracks = {int(t): TrackVerdict([float(d) for d in ds], int(at), int(retry)) for t, ds, at, retry, _ in state.get("tracks", [])}
        self.last_seen = {int(t): int(seen) for t, _, _, _, seen in state.get("tracks", [])}


def _read_photo(photo: str) -> np.ndarray:
    from faceswap.video.image_folder import read_image

    path = Path(photo)
    if not path.is_file():
        raise UserError(f"The reference photo '{photo}' does not exist; give a photo of the person whose face to keep.")
    image = read_image(path, rgb=False)
    if image is None:
        raise UserError(f"The reference photo '{photo}' is not an image that can be read; give a JPEG or PNG photo of the person.")
    return image


def _one_face(finder, photo: str, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(padded image, the face's box in it); a photo with no face or several people is an error."""
    import cv2

    from faceswap.video.info import Frame

    pad_y, pad_x = (int(PHOTO_PADDING * side) for side in image.shape[:2])
    padded = cv2.copyMakeBorder(image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=(127, 127, 127))
    [(_, faces)] = list(finder.find([Frame(index=0, time=0.0, image=padded)], prefetch=0))
    areas = [float((face.box[2] - face.box[0]) * (face.box[3] - face.box[1])) for face in faces]
    if not faces:
        raise UserError(f"No face was found in the reference photo '{photo}'; give a clear, front-facing photo of the person.")
    people = [area for area in areas if area >= COMPARABLE_AREA * max(areas)]
    if len(people) > 1:
        raise UserError(f"The reference photo '{photo}' shows {len(people)} faces; crop it to the one person whose face to keep.")
    return padded, np.asarray(faces[int(np.argmax(areas))].box, np.float32)
