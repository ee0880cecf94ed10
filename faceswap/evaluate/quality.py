"""Quality numbers of a swap, each with a verdict: identity, expression, head pose and sharpness.

All compare the output with the video it was made from (the reference), face by face:

- identity.transfer: the share of sampled frames whose output face is nearer person B than
  person A (Euclidean distance of 128-D descriptors to each person's centroid: A from the
  reference's faces, B from B's faces). Also the mean distances and the share of faces within
  the descriptor's own same-person distance of B (0.6 for dlib).
- expression (needs the opt-in 68-point model): landmark_error, the mean distance of the 68
  points of output and reference over the reference's outer-eye-corner distance (300-W's
  normalised mean error); eyes_agreement and mouth_agreement, the share of frames where the eyes
  (eye aspect ratio < EYES_CLOSED_RATIO) and the mouth (inner-lip aspect ratio >
  MOUTH_OPEN_RATIO) are closed or open as in the reference; reference frames within
  STATE_UNSURE_BAND of a threshold (half-open) are not counted.
- pose.difference: mean |difference| of yaw, pitch and roll in degrees, from the five landmarks
  of the detector (solvePnP on a generic five-point head).
- sharpness.kept: the detail kept: Laplacian variance inside the five-landmark box of the
  reference face's aligned crop at 128 px (the same crop cut from output and
  reference, so the same pixels), output over reference, median over frames. At full frame
  resolution A's eyelashes and skin pores dominate the variance, which B's softer faces never
  have: B's own faces pasted on scored 6%, no better than the blurry demo swap (5%); at the
  128 px crop a 64 px model's blur shows and B's detail counts.

Calibration: `python tests/test_quality.py --frames 472 --samples 48 --swapped swapped.mp4`
(the tests run the same cases on 24 frames). All 472 frames of WolfgangLanger_Pexels.mp4 (A),
re-encoded untouched, blurred (Gaussian, sigma 2 and 4 frame pixels), with single_face.mp4's
own aligned faces (B) pasted onto A's landmarks with convert's feathered outline mask (a
classical swap, B's identity and B's expressions) plain and blurred (sigma 4), with A's face
turned 15 degrees in the image plane, and the demo's swapped.mp4 (64 px model, the demo's 10
CPU minutes); 48 sampled frames, B's centroid from 48 of its faces:

    case                 identity  dist A / B   68-pt NME  eyes  mouth  yaw/pitch/roll  sharpness
    untouched              0.00    0.30 / 0.83    0.012    1.00  0.98   0.2/0.2/0.2       0.96
    blurred sigma 2        0.00    0.33 / 0.83    0.014    1.00  1.00   0.8/0.8/0.5       0.16
    blurred sigma 4        0.00    0.39 / 0.83    0.020    0.98  0.98   1.6/1.4/1.0       0.044
    paste of B             1.00    0.76 / 0.34    0.081    0.64  0.61   2.9/2.8/1.4       0.20
    paste of B, blurred    1.00    0.76 / 0.44    0.080    0.67  0.68   2.6/2.9/1.7       0.020
    turned 15 degrees      0.00    0.38 / 0.79    0.128    0.98  0.93   6.1/2.3/11.6      0.46
    demo swap              0.81    0.69 / 0.61    0.085    0.49  0.85   2.0/2.0/1.7       0.069

A's and B's centroids lie 0.77 apart (dlib's same-person rule: 0.6). The issue's targets are
identity >= 0.95, NME <= 0.06 and sharpness >= 0.15 (the paste of B, B's own detail, reaches
0.20). The demo swap's eyes read half-closed where A's are open (its blur), hence eyes 0.49.
"""
from __future__ import annotations

from dataclasses import dataclass, field

IDENTITY_TRANSFERRED = 0.95  # share nearer B (the target): pastes of B 1.00, demo swap 0.81, A's clips 0.00
IDENTITY_PARTIAL = 0.5  # below this the output is still A
LANDMARK_ERROR_KEPT = 0.06  # 68-pt NME (the target): blurred <= 0.020, pastes of B 0.080, demo swap 0.085
STATE_AGREEMENT_KEPT = 0.9  # eyes / mouth as in the reference: untouched and blurred >= 0.98, pastes <= 0.68
EYES_CLOSED_RATIO = 0.2  # eye aspect ratio; A's closed eyes read 0.04-0.14, open 0.21-0.43
MOUTH_OPEN_RATIO = 0.1  # inner-lip aspect ratio; A's closed mouth reads 0.00-0.03, open 0.11-0.35
STATE_UNSURE_BAND = 0.03  # reference frames this near a threshold are half-open (re-encoding alone flips them): not counted
STATE_SHOWN = 0.05  # a state shown by fewer of B's faces than this is missing from B's data (B's demo faces: 4% closed eyes)
POSE_KEPT_DEGREES = 5.0  # mean |difference| per axis: pastes and swap <= 2.9, turned 15 degrees: roll 11.6
SHARPNESS_SHARP = 0.15  # the target: demo swap 0.069, paste of B 0.20, blurred sigma 2: 0.16, sigma 4: 0.044
DEFAULT_SAMPLES = 48  # frames sampled for the descriptor and the 68 points (and B's faces used)
PASSING = frozenset({"transferred", "kept", "sharp"})


@dataclass(frozen=True)
class IdentityScore:
    transfer: float  # share of sampled output faces nearer B's centroid than A's
    distance_a: float  # mean distance of the output faces to A's centroid
    distance_b: float
    recognised_b: float  # share within the descriptor's same-person distance of B
    a_to_b: float  # distance of the two centroids
    hand_covered: int = 0  # sampled faces left out: a hand over them (the same hand in output and reference)
    transfer_all: float | None = None  # ``transfer`` over every sampled face, hands and all (None: none was left out)


@dataclass(frozen=True)
class StateShares:
    """How often a set of faces clearly shows each eye and mouth state (shares of ``faces``)."""
    faces: int
    eyes_closed: float = 0.0
    eyes_open: float = 0.0
    mouth_open: float = 0.0
    mouth_closed: float = 0.0


@dataclass(frozen=True)
class ExpressionScore:
    landmark_error: float  # 68-point NME over the reference's outer-eye-corner distance
    eyes_agreement: float | None  # share of frames with the eyes open or closed as in the reference (None: none clear)
    mouth_agreement: float | None
    reference_states: StateShares | None = None  # the sampled reference frames
    person_b_states: StateShares | None = None  # B's faces (with --person-b): a state B never shows cannot be drawn


@dataclass(frozen=True)
class PoseScore:
    difference: tuple[float, float, float]  # mean |yaw|, |pitch|, |roll| difference, degrees


@dataclass(frozen=True)
class SharpnessScore:
    kept: float  # the reference face's detail kept, median over frames (1 = all of it)


@dataclass(frozen=True)
class QualityReport:
    reference_frames: int  # frame pairs with a face matched in output and reference
    sampled_frames: int  # of those, sampled for the descriptor and the 68 points
    person_b: str | None = None
    identity: IdentityScore | None = None  # None: not measured (``reasons`` says why)
    expression: ExpressionScore | None = None
    pose: PoseScore | None = None
    sharpness: SharpnessScore | None = None
    verdicts: dict[str, str] = field(default_factory=dict)  # identity / expression / pose / sharpness -> label
    reasons: dict[str, str] = field(default_factory=dict)  # every part -> why, in words (how to enable it when n/a)
    verdict: str = "n/a"  # good (every part judged passed), poor, or n/a

    def describe(self) -> list[str]:
        judged = "" if len(self.verdicts) in (0, len(self.reasons)) else f" (judged on {', '.join(self.verdicts)})"
        lines = [f"  quality ({self.sampled_frames} sampled frames for identity and expression, "
                 f"{self.reference_frames} for pose and sharpness): {self.verdict}{judged}"]
        return lines + [f"    {part}: {reason}" for part, reason in self.reasons.items()]


def identity_verdict(score: IdentityScore | None, same_person: float) -> tuple[str | None, str]:
    if score is None:
        return None, "n/a"
    numbers = (f"{100 * score.transfer:.0f}% of the sampled faces nearer B than A (mean distance to A "
               f"{score.distance_a:.2f}, to B {score.distance_b:.2f})")
    if score.hand_covered and score.transfer_all is not None:
        numbers += (f"; {score.hand_covered} faces with a hand over them left out, as the hand is the same in both "
                    f"videos (with them: {100 * score.transfer_all:.0f}%)")
    if score.a_to_b < same_person:
        return None, f"n/a: A and B look alike to the descriptor (centroids {score.a_to_b:.2f} apart, < {same_person:g})"
    if score.transfer >= IDENTITY_TRANSFERRED:
        return "transferred", f"transferred: {numbers} (>= {100 * IDENTITY_TRANSFERRED:g}%)"
    if score.transfer >= IDENTITY_PARTIAL:
        return "partial", f"partial: {numbers} (transferred from {100 * IDENTITY_TRANSFERRED:g}%)"
    return "not transferred", f"not transferred: {numbers} (< {100 * IDENTITY_PARTIAL:g}%): the face is still A"


def expression_verdict(score: ExpressionScore | None) -> tuple[str | None, str]:
    """kept / changed from the 68-point error and the eyes' and mouth's open-or-closed agreement
    (None: no frame where the reference's state was clear, not judged)."""
    if score is None:
        return None, "n/a"

    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.0f}%"
    eyes, mouth = score.eyes_agreement, score.mouth_agreement
    numbers = (f"68-point error {score.landmark_error:.3f} of the eye-corner distance, eyes open or closed as in the "
               f"reference in {share(eyes)} of frames, mouth in {share(mouth)}")
    failed = [what for what, bad in (("error", score.landmark_error > LANDMARK_ERROR_KEPT),
                                     ("eyes", eyes is not None and eyes < STATE_AGREEMENT_KEPT),
                                     ("mouth", mouth is not None and mouth < STATE_AGREEMENT_KEPT)) if bad]
    rule = f"(kept: error <= {LANDMARK_ERROR_KEPT:g}, eyes and mouth >= {100 * STATE_AGREEMENT_KEPT:g}%)"
    missing = missing_in_person_b(score)
    if failed and missing:
        shares = ", ".join(f"{words} in {100 * getattr(score.person_b_states, state):.0f}% of B's "
                           f"{score.person_b_states.faces} faces against {100 * getattr(score.reference_states, state):.0f}% "
                           f"of the reference's frames" for state, words in missing)
        rule += (f"; B's faces rarely or never show what the reference does ({shares}), and a swap draws only what "
                 f"B's faces show: add footage of B with {' and '.join(words for _, words in missing)}")
        if any(state == "eyes_closed" for state, _ in missing):
            rule += " (or train with --blink, which closes eyes by a warp: see the README)"
    return ("changed", f"changed ({', '.join(failed)}): {numbers} {rule}") if failed else ("kept", f"kept: {numbers} {rule}")


def missing_in_person_b(score: ExpressionScore) -> list[tuple[str, str]]:
    """(state, in words) of the eye and mouth states the reference shows (in STATE_SHOWN of its frames or
    more) that fewer than STATE_SHOWN of B's faces show."""
    reference, person_b = score.reference_states, score.person_b_states
    if reference is None or person_b is None:
        return []
    names = {"eyes_closed": "closed eyes", "eyes_open": "open eyes", "mouth_open": "open mouth", "mouth_closed": "closed mouth"}
    return [(state, words) for state, words in names.items()
            if getattr(reference, state) >= STATE_SHOWN and getattr(person_b, state) < STATE_SHOWN]


def pose_verdict(score: PoseScore | None) -> tuple[str | None, str]:
    if score is None:
        return None, "n/a"
    numbers = "yaw {:.1f}, pitch {:.1f}, roll {:.1f} degrees mean difference".format(*score.difference)
    if max(score.difference) <= POSE_KEPT_DEGREES:
        return "kept", f"kept: {numbers} (<= {POSE_KEPT_DEGREES:g})"
    return "changed", f"changed: {numbers} (> {POSE_KEPT_DEGREES:g} on some axis)"


def sharpness_verdict(score: SharpnessScore | None) -> tuple[str | None, str]:
    if score is None:
        return None, "n/a"
    numbers = f"{100 * score.kept:.1f}% of the reference face's detail kept"
    if score.kept >= SHARPNESS_SHARP:
        return "sharp", f"sharp: {numbers} (>= {100 * SHARPNESS_SHARP:g}%)"
    return "blurred", f"blurred: {numbers} (< {100 * SHARPNESS_SHARP:g}%)"


def with_verdicts(report: QualityReport, same_person: float = 0.6, unavailable: dict[str, str] | None = None) -> QualityReport:
    """The report with each part's verdict and the overall one: good when every part that could be
    judged passed. ``unavailable``: part -> why it was not measured (and how to enable it)."""
    from dataclasses import replace

    verdicts, reasons, unavailable = {}, {}, unavailable or {}
    judged = {"identity": identity_verdict(report.identity, same_person), "expression": expression_verdict(report.expression),
              "pose": pose_verdict(report.pose), "sharpness": sharpness_verdict(report.sharpness)}
    for part, (label, reason) in judged.items():
        reasons[part] = f"n/a: {unavailable.get(part, 'no face to measure')}" if reason == "n/a" else reason
        if label:
            verdicts[part] = label
    overall = "n/a" if not verdicts else ("good" if set(verdicts.values()) <= PASSING else "poor")
    return replace(report, verdicts=verdicts, reasons=reasons, verdict=overall)
