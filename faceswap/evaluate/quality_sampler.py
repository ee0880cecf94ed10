"""The quality numbers, gathered while evaluate streams the output beside its reference.

Pose and sharpness are measured on every frame pair (cheap); the face descriptor and the 68
landmarks on at most ``QualitySettings.frames`` evenly spaced frames, so a long video costs no
more than a short one. Nothing but numbers is kept from frame to frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from faceswap.align.transform import five_points
from faceswap.hands import DEFAULT_FINDER, load_finder
from faceswap.evaluate.quality import (DEFAULT_SAMPLES, EYES_CLOSED_RATIO, MOUTH_OPEN_RATIO, STATE_UNSURE_BAND,
                                      ExpressionScore, IdentityScore, PoseScore, QualityReport, SharpnessScore,
                                      StateShares, with_verdicts)
from faceswap.evaluate.quality_metrics import (eye_aspect_ratio, face_detail, head_pose, landmark_error,
                                              mouth_aspect_ratio)

LANDMARKS_68 = "dlib_landmarks68"
MIN_UNCOVERED = 8  # fewer faces free of hands than this: identity is measured on all of them
HAND_OVER_FACE = 0.05  # share of the reference face box under a hand from which a face counts as covered


@dataclass(frozen=True)
class QualitySettings:
    person_b: str | None = None  # B's faces folder, images or video: who the output should look like
    frames: int = DEFAULT_SAMPLES  # frames sampled for the descriptor and the 68 points (and B's faces); 0: no quality section
    device: str = "auto"
    hands: str = DEFAULT_FINDER  # hand finder: faces with a hand over them are left out of identity ("none": none are)


@dataclass
class _Measured:
    sharpness: list[float] = field(default_factory=list)
    pose: list[np.ndarray] = field(default_factory=list)
    output_descriptors: list[np.ndarray] = field(default_factory=list)
    reference_descriptors: list[np.ndarray] = field(default_factory=list)
    hand_covered: list[bool] = field(default_factory=list)  # per sampled face, beside the descriptors
    landmark_errors: list[float] = field(default_factory=list)
    eyes_agree: list[bool] = field(default_factory=list)
    mouth_agree: list[bool] = field(default_factory=list)
    reference_68: list[np.ndarray] = field(default_factory=list)  # only until the report: <= QualitySettings.frames x 68 points
    sampled: int = 0


class QualitySampler:
    """``add`` each (output, reference) frame pair with their faces, then ``report``."""

    def __init__(self, settings: QualitySettings, frame_count: int):
        from faceswap.identity.dlib_support import INSTALL_HINT, is_available

        self.settings = settings
        count = max(int(frame_count), 1)
        self.sampled_positions = set(np.linspace(0, count - 1, min(settings.frames, count)).round().astype(int).tolist())
        self.unavailable: dict[str, str] = {}  # part -> why it is not measured, and how to enable it
        self.describer, self.person_b_descriptors, self.person_b_states = None, None, None
        self.hand_finder = None
        self.use_68 = is_available() and _cached(LANDMARKS_68)
        if settings.person_b:
            self._load_person_b(settings)
        else:
            self.unavailable["identity"] = ("pass --person-b (B's faces folder from `faceswap extract`, images or video) "
                                            "or --model to measure who the face looks like")
        if not is_available():
            self.unavailable["expression"] = f"needs dlib; run {INSTALL_HINT} and `faceswap assets fetch {LANDMARKS_68}`"
        elif not self.use_68:
            self.unavailable["expression"] = (f"run `faceswap assets fetch {LANDMARKS_68}` to enable it (opt-in: the 68-point "
                                              f"model is for non-commercial use; `faceswap assets list` shows its terms)")
        self.measured = _Measured()

    def _load_person_b(self, settings: QualitySettings) -> None:
        from faceswap.evaluate.person import person_faces
        from faceswap.identity import load_describer

        self.describer = load_describer(device=settings.device)  # a UserError naming the extra when dlib is missing
        self.hand_finder = load_finder(settings.hands)
        images, boxes = person_faces(settings.person_b, settings.frames, settings.device)
        self.person_b_descriptors = self.describer.describe(images, boxes)
        if self.use_68:  # which eye and mouth states B's faces show: a swap cannot draw one they never do
            from faceswap.identity.dlib_support import landmarks

            self.person_b_states = state_shares(landmarks(LANDMARKS_68, images, boxes))

    def add(self, position: int, image_bgr: np.ndarray, faces: list[Any], reference_bgr: np.ndarray,
            reference_faces: list[Any]) -> None:
        pairs = pair_faces(faces, reference_faces)
        height, width = reference_bgr.shape[:2]
        for face, reference in pairs:
            five, reference_five = five_points(face.landmarks), five_points(reference.landmarks)
            detail = face_detail(reference_bgr, reference_five)
            if detail > 0:
                self.measured.sharpness.append(face_detail(image_bgr, reference_five) / detail)
            self.measured.pose.append(np.abs(_angle(head_pose(five, width, height) - head_pose(reference_five, width, height))))
        if pairs and position in self.sampled_positions:
            self._sample(image_bgr, reference_bgr, pairs)

    def _sample(self, image_bgr: np.ndarray, reference_bgr: np.ndarray, pairs: list[tuple[Any, Any]]) -> None:
        self.measured.sampled += 1
        images = [image_bgr] * len(pairs) + [reference_bgr] * len(pairs)
        boxes = [np.asarray(face.box) for face, _ in pairs] + [np.asarray(reference.box) for _, reference in pairs]
        if self.describer is not None:
            descriptors = self.describer.describe(images, boxes)
            self.measured.output_descriptors += list(descriptors[:len(pairs)])
            self.measured.reference_descriptors += list(descriptors[len(pairs):])
            self.measured.hand_covered += [self._hand_covered(reference_bgr, reference.box) for _, reference in pairs]
        if self.use_68:
            from faceswap.identity.dlib_support import landmarks

            points = landmarks(LANDMARKS_68, images, boxes)
            for output68, reference68 in zip(points[:len(pairs)], points[len(pairs):]):
                self._expression(output68, reference68)

    def _hand_covered(self, reference_bgr: np.ndarray, box) -> bool:
        """Whether a hand lies over the reference face: a face recogniser then sees the very same hand in
        the output and the reference (convert keeps it), which pulls the two together whoever the face is."""
        from faceswap.hands.drawing import hands_mask

        if self.hand_finder is None:
            return False
        self.hand_finder.reset()  # sampled frames are far apart: nothing to follow from one to the next
        hands = self.hand_finder.find(reference_bgr, [box])
        height, width = reference_bgr.shape[:2]
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if not hands or x1 <= x0 or y1 <= y0:
            return False
        crop_box = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0]])
        mask = hands_mask(hands, crop_box, max(x1 - x0, y1 - y0))
        return mask is not None and float(np.mean(mask[:y1 - y0, :x1 - x0] > 127)) > HAND_OVER_FACE

    def _expression(self, output68: np.ndarray, reference68: np.ndarray) -> None:
        self.measured.landmark_errors.append(landmark_error(output68, reference68))
        self.measured.reference_68.append(reference68)
        for ratio, threshold, agree in ((eye_aspect_ratio, EYES_CLOSED_RATIO, self.measured.eyes_agree),
                                        (mouth_aspect_ratio, MOUTH_OPEN_RATIO, self.measured.mouth_agree)):
            reference_open = _clear_state(ratio(reference68), threshold)
            if reference_open is not None:  # half-open in the reference: no clear state to keep
                agree.append((ratio(output68) > threshold) == reference_open)

    def report(self) -> QualityReport:
        measured = self.measured
        report = QualityReport(reference_frames=len(measured.pose), sampled_frames=measured.sampled,
                               person_b=str(self.settings.person_b) if self.settings.person_b else None)
        parts: dict[str, Any] = {}
        if measured.sharpness:
            parts["sharpness"] = SharpnessScore(kept=float(np.median(measured.sharpness)))
        if measured.pose:
            parts["pose"] = PoseScore(difference=tuple(round(float(v), 3) for v in np.mean(measured.pose, axis=0)))
        if measured.landmark_errors:
            parts["expression"] = ExpressionScore(landmark_error=float(np.mean(measured.landmark_errors)),
                                                  eyes_agreement=_mean_or_none(measured.eyes_agree),
                                                  mouth_agreement=_mean_or_none(measured.mouth_agree),
                                                  reference_states=state_shares(measured.reference_68),
                                                  person_b_states=self.person_b_states)
        same_person = 0.6
        if self.describer is not None and measured.output_descriptors:
            same_person = self.describer.same_person_distance
            parts["identity"] = _identity(np.array(measured.output_descriptors), np.array(measured.reference_descriptors),
                                          self.person_b_descriptors, same_person, np.array(measured.hand_covered, bool))
        return with_verdicts(replace(report, **parts), same_person, self.unavailable)


def _clear_state(ratio: float, threshold: float) -> bool | None:
    """Open (True) or closed (False) by an aspect ratio; None when too near the threshold to tell."""
    return None if abs(ratio - threshold) <= STATE_UNSURE_BAND else ratio > threshold


def state_shares(landmarks68: list[np.ndarray]) -> StateShares | None:
    """How often these faces clearly show closed and open eyes, an open and a closed mouth."""
    if not len(landmarks68):
        return None
    eyes = [_clear_state(eye_aspect_ratio(points), EYES_CLOSED_RATIO) for points in landmarks68]
    mouths = [_clear_state(mouth_aspect_ratio(points), MOUTH_OPEN_RATIO) for points in landmarks68]
    count = len(landmarks68)
    return StateShares(faces=count, eyes_closed=eyes.count(False) / count, eyes_open=eyes.count(True) / count,
                       mouth_open=mouths.count(True) / count, mouth_closed=mouths.count(False) / count)


def _mean_or_none(values: list[bool]) -> float | None:
    return float(np.mean(values)) if values else None


def _identity(output: np.ndarray, reference: np.ndarray, person_b: np.ndarray, same_person: float,
              hand_covered: np.ndarray | None = None) -> IdentityScore:
    """Identity over the faces without a hand over them (all of them when fewer than
    ``MIN_UNCOVERED`` are free), ``transfer_all`` over every face."""
    covered = np.zeros(len(output), bool) if hand_covered is None or len(hand_covered) != len(output) else hand_covered
    if int((~covered).sum()) < MIN_UNCOVERED:
        covered = np.zeros(len(output), bool)
    free = ~covered
    centre_a, centre_b = reference[free].mean(axis=0), person_b.mean(axis=0)
    to_a, to_b = np.linalg.norm(output - centre_a, axis=1), np.linalg.norm(output - centre_b, axis=1)
    return IdentityScore(transfer=float(np.mean(to_b[free] < to_a[free])), distance_a=float(to_a[free].mean()),
                         distance_b=float(to_b[free].mean()), recognised_b=float(np.mean(to_b[free] < same_person)),
                         a_to_b=float(np.linalg.norm(centre_a - centre_b)), hand_covered=int(covered.sum()),
                         transfer_all=float(np.mean(to_b < to_a)) if covered.any() else None)


def pair_faces(faces: list[Any], reference_faces: list[Any]) -> list[tuple[Any, Any]]:
    """(output face, reference face) pairs: each reference face with the nearest unused output face
    whose landmark centre lies within half its eye distance."""
    pairs, used = [], set()
    for reference in reference_faces:
        five = five_points(reference.landmarks)
        reach = 0.5 * float(np.linalg.norm(five[1] - five[0]))
        distances = [(float(np.linalg.norm(five_points(face.landmarks).mean(axis=0) - five.mean(axis=0))), i) for i, face in enumerate(faces) if i not in used]
        if distances and min(distances)[0] <= reach:
            used.add(min(distances)[1])
            pairs.append((faces[min(distances)[1]], reference))
    return pairs


def _angle(degrees: np.ndarray) -> np.ndarray:
    """Angle differences folded into -180..180."""
    return (degrees + 180.0) % 360.0 - 180.0


def _cached(name: str) -> bool:
    from faceswap import assets

    return assets.is_cached(name)
