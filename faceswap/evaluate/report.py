"""`faceswap evaluate`: numbers that say how good a swapped video is, to compare settings and versions.

- face_detected_share: frames where the detector still finds a face in the output (of the
  frames where it finds one in the reference, when a reference is given).
- landmark_jitter: mean frame-to-frame acceleration of the landmarks along each track, in
  percent of the eye distance; smooth motion scores near 0, shaking faces score high.
- seam_color_step: how much the Lab colour jumps across the face outline (the outline masker's,
  where convert blends five-landmark faces) beyond the trend of the rings just inside and
  outside it, averaged over sectors around the face. With a
  reference it is measured on the change (output - reference): 0 for an untouched video,
  small for a feathered blend, the height of the step for a hard seam.
- seam_gradient_ratio: gradient strength (of lightness) on the outline over that on the rings
  beside it; about 1 when nothing marks the outline, higher for a hard edge. With a reference
  it is taken on the change: 0 for an untouched video, ~1 or less for a feathered blend.
- with a reference: unchanged_share, the share of pixels away from every face (in either
  video) whose colour stays within ``tolerance`` of the reference, and their mean difference.
- with a reference: outside_band_changed_share, over the reference's faces, the share of the
  pixels in a band from 4% to 15% of the face width outside the real face outline (the outline
  masker's region, or a trained segmenter's with ``segmenter_dir``) whose colour moved by more
  than ``tolerance``. Convert blends only inside the face, so a halo or a mask drawn too big
  shows up here.
- verdicts in plain words, with a reference: seam_verdict (clean / visible / hard edge) and
  outside_verdict (clean / changed); verdict is the worst of them, or "face lost" when the face
  is found in under 90% of the frames; verdict_reasons says why. Without a reference the
  picture's own edges at the outline (jaw line, hair) look like seams, so only "face lost" is
  judged and the verdict is otherwise "n/a".
- with a reference: quality, the swap's own numbers with their verdicts (identity with
  ``person_b``, expression, head pose, sharpness; see faceswap/evaluate/quality.py), and its
  verdict: good / poor. Kept apart from the verdict above, which is about blending artefacts.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from faceswap.align.transform import five_points
from faceswap.evaluate.artefacts import (BAND_PERCENT, SeamStats, _away_from_faces, _face_region_masks, _outside_band,
                                         _seams)
from faceswap.evaluate.quality import DEFAULT_SAMPLES, QualityReport

DEFAULT_TOLERANCE = 12  # max channel difference still counted as unchanged (x264 noise at CRF 18 stays below)

# Verdict thresholds, calibrated with `python tests/test_evaluate.py`: the first 24 frames of two
# sample videos, each face replaced by a colour-shifted copy of itself (BGR -12/+8/+30 unless
# noted) pasted with a mask eroded and feathered inside the outline, a hard one, one dilated 12%
# of the crop past it (halo), or nothing; measured against the source (seam scores on the change):
#   wolfgang                  step   ratio  outside  ->  seam / outside
#   untouched (re-encoded)    0.76   1.00    0.22%       clean / clean
#   feathered inside          4.48   0.86    0.18%       clean / clean
#   convert's default mask    4.46   0.94    0.19%       clean / clean
#   halo                      3.39   0.86   63.19%       clean / changed
#   hard, subtle (-4/+3/+10)  4.51   1.35    0.18%       visible
#   narrow 1% feather        10.63   1.06    0.18%       visible
#   feathered, strong (+75)  11.04   0.68    0.17%       visible
#   hard                     15.90   2.77    0.18%       hard edge
#   single_face: untouched 1.02 / 1.14 / 0.10%, feathered 4.63 / 0.97 / 0.09%, halo 1.86 / 1.32 /
#   61.09%, hard +45 36.74 / 8.58 / 0.12%.
# Without a reference the scores are taken on the picture, where the jaw line and hair are edges
# too: untouched 41.6 / 1.13 and hard 46.9 / 1.38 (wolfgang), untouched 25.6 / 1.26 and hard +45
# 26.9 / 2.52 (single_face) do not separate, so the seam verdict needs a reference.
SEAM_VISIBLE_STEP = 7.0  # Lab step (8-bit units) from which a seam is "visible": clean <= 4.63, visible >= 10.6
SEAM_SHARP_RATIO = 1.2  # ... or a smaller step, if sharp: hard subtle 1.35 against feathered <= 0.97, narrow 1.06
SEAM_SHARP_STEP = 3.0  # ... but not below this step (the untouched and halo clips reach 1.32 at steps <= 1.86)
SEAM_HARD_STEP = 8.0  # a "hard edge" is a step this high (hard 15.9, 36.7)
SEAM_HARD_RATIO = 1.9  # ... that is this sharp (hard 2.77, 8.58; visible cases <= 1.35)
OUTSIDE_CHANGED_SHARE = 0.03  # the rule: at most 3% of the outside band may change
FACE_LOST_SHARE = 0.9  # below this share of frames with a face found, the verdict is "face lost"
SEVERITY = ("clean", "visible", "changed", "hard edge", "face lost")  # the overall verdict is the worst seen


@dataclass
class EvaluateReport:
    video: str
    reference: str | None
    frames: int
    frames_with_face: int
    face_detected_share: float
    landmark_jitter: float | None
    seam_color_step: float | None
    seam_gradient_ratio: float | None
    reference_frames_with_face: int | None = None
    unchanged_share: float | None = None
    away_mean_abs_diff: float | None = None
    tolerance: int = DEFAULT_TOLERANCE
    outside_band_changed_share: float | None = None
    outside_band_mask: str | None = None  # "outline" or the segmenter folder that drew the face region
    seam_verdict: str | None = None  # clean | visible | hard edge (None: no seam measured)
    outside_verdict: str | None = None  # clean | changed (None without a reference)
    verdict: str = "n/a"  # the worst of the two, or "face lost"; "n/a" when nothing could be judged
    verdict_reasons: dict[str, str] = field(default_factory=dict)  # seam / outside / face -> why, in words
    quality: QualityReport | None = None  # identity, expression, pose, sharpness (with a reference)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def warnings(self) -> list[str]:
        """Sentences for the user (the CLI prints them on stderr): that no face was found, where."""
        if self.reference is not None and not self.reference_frames_with_face:
            return [f"no face was found in the reference '{self.reference}', so no face was compared; "
                    "check it or try another --detector"]
        if not self.frames_with_face:
            lost = f" although the reference shows one in {self.reference_frames_with_face} frames" if self.reference else ""
            return [f"no face was found in '{self.video}'{lost}; check that it is the converted video or try another --detector"]
        return []

    def describe(self) -> str:
        lines = [f"evaluate {self.video}: {self.frames} frames",
                 f"  face still detected: {100 * self.face_detected_share:.1f}% of frames"
                 + (f" with a face in the reference ({self.reference_frames_with_face})" if self.reference else
                    f" ({self.frames_with_face})"),
                 f"  landmark jitter: {_fmt(self.landmark_jitter)} % of eye distance per frame^2",
                 f"  seam colour step: {_fmt(self.seam_color_step)} (Lab"
                 + (", of the change from the reference)" if self.reference else ")"),
                 f"  seam gradient ratio: {_fmt(self.seam_gradient_ratio)}"
                 + (" (of the change from the reference)" if self.reference else "")]
        if self.unchanged_share is not None:
            lines.append(f"  pixels away from faces unchanged (within {self.tolerance}): {100 * self.unchanged_share:.2f}%, "
                         f"mean difference {self.away_mean_abs_diff:.2f}")
        if self.reference is not None:
            low, high = BAND_PERCENT
            share = "n/a" if self.outside_band_changed_share is None else f"{100 * self.outside_band_changed_share:.2f}%"
            drawn_by = "landmark outline" if self.outside_band_mask == "outline" else f"segmenter {self.outside_band_mask}'s face region"
            lines.append(f"  changed just outside the face ({low:g}-{high:g}% of the face width beyond the "
                         f"{drawn_by}, by more than {self.tolerance}): {share} of pixels")
        lines.append(f"  verdict: {self.verdict}")
        lines += [f"    {part}: {reason}" for part, reason in self.verdict_reasons.items()]
        if self.quality is not None:
            lines += self.quality.describe()
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def evaluate(video: str, reference: str | None = None, tolerance: int = DEFAULT_TOLERANCE,
             detector: str | None = None, device: str = "auto", threads: int = 0,
             reference_start: int = 0, segmenter_dir: str | None = None, person_b: str | None = None,
             quality_frames: int = DEFAULT_SAMPLES) -> EvaluateReport:
    """Measure a converted video (and compare it with the video it was made from; for an output
    of `convert --frames START:END` pass ``reference_start=START``). ``segmenter_dir``: a trained
    segmenter draws the face region that the outside band is measured from (default: the outline).
    With a reference, the quality section samples ``quality_frames`` frames (0: no quality
    section); ``person_b`` (B's faces folder, images or video) adds the identity check."""
    from faceswap import runtime
    from faceswap.video import open_reader

    _check_options(tolerance, reference, segmenter_dir, person_b, quality_frames)
    if reference_start < 0:
        from faceswap.errors import UserError

        raise UserError(f"--reference-start must be 0 or more, not {reference_start}.")
    runtime.set_threads(threads)
    output_faces = _FaceTracker()
    reference_faces = _FaceTracker()
    output_seams = SeamStats()
    away = {"pixels": 0, "unchanged": 0, "abs_diff": 0.0}
    band = {"pixels": 0, "changed": 0}
    face_regions = _face_region_masks(segmenter_dir, device) if reference is not None else None
    frames = 0
    with open_reader(video) as out_reader:
        if reference is None:
            for frame, faces in find_faces(out_reader, detector, device):
                frames += 1
                output_faces.add(frame.index, faces)
                _seams(frame.image, faces, output_seams)
        else:
            with open_reader(reference, start=reference_start) as ref_reader:
                _check_same_shape(out_reader.info, ref_reader.info, video, reference)
                out_stream = find_faces(_cropped(out_reader, ref_reader.info.width, ref_reader.info.height), detector, device)
                quality = _quality_sampler(person_b, quality_frames, device, out_reader.info.frame_count)
                ref_stream = find_faces(ref_reader, detector, device)
                for (frame, faces), (ref_frame, ref_faces) in zip(out_stream, ref_stream):
                    if quality is not None:
                        quality.add(frames, frame.image, faces, ref_frame.image, ref_faces)
                    frames += 1
                    output_faces.add(frame.index, faces)
                    reference_faces.add(frame.index, ref_faces)  # by output position: the two may start apart
                    _seams(frame.image, faces, output_seams, reference_bgr=ref_frame.image)
                    _away_from_faces(frame.image, ref_frame.image, faces + ref_faces, tolerance, away)
                    regions = face_regions(ref_frame.image, ref_faces)
                    _outside_band(frame.image, ref_frame.image, ref_faces, regions, tolerance, band)
    if reference is not None and frames == 0:
        from faceswap.errors import UserError

        raise UserError(f"No frame of '{video}' could be compared with the reference '{reference}' from its frame "
                        f"{reference_start} on; check --reference-start (the reference frame that output frame 0 was made from).")
    report = _report(video, reference, frames, output_faces, reference_faces, output_seams, away, tolerance)
    if reference is not None:
        report.outside_band_changed_share = band["changed"] / band["pixels"] if band["pixels"] else None
        report.outside_band_mask = str(segmenter_dir) if segmenter_dir else "outline"
        report.quality = quality.report() if quality is not None else None
    return add_verdicts(report)


def _quality_sampler(person_b: str | None, quality_frames: int, device: str, frame_count: int):
    from faceswap.evaluate.quality_sampler import QualitySampler, QualitySettings

    if quality_frames <= 0:
        return None
    return QualitySampler(QualitySettings(person_b=person_b, frames=quality_frames, device=device), frame_count)


def _check_options(tolerance: int, reference: str | None, segmenter_dir: str | None, person_b: str | None = None,
                   quality_frames: int = DEFAULT_SAMPLES) -> None:
    from faceswap.errors import UserError

    if quality_frames < 0:
        raise UserError(f"The number of frames sampled for the quality numbers (--quality-frames) is {quality_frames}; "
                        f"use 0 to leave them out, or a positive number.")
    if person_b and reference is None:
        raise UserError(f"Person B ('{person_b}') is compared with person A, who is taken from the reference; add --reference.")
    if not 0 <= tolerance <= 255:
        raise UserError(f"The tolerance (--tolerance) is a colour difference in 8-bit levels, from 0 to 255, not {tolerance}.")
    if segmenter_dir and reference is None:
        raise UserError(f"The segmenter '{segmenter_dir}' draws the face region for the band outside the face, "
                        f"which is measured against a reference; add --reference.")


def _report(video, reference, frames, output_faces, reference_faces, output_seams, away, tolerance):
    with_face = output_faces.frames_with_face
    if reference is not None:
        ref_frames = reference_faces.frames_with_face_set
        share = len(output_faces.frames_with_face_set & ref_frames) / max(len(ref_frames), 1)
    else:
        share = with_face / max(frames, 1)
    report = EvaluateReport(video=str(video), reference=str(reference) if reference else None, frames=frames,
                            frames_with_face=with_face, face_detected_share=share,
                            landmark_jitter=output_faces.jitter(), seam_color_step=output_seams.mean("color_step"),
                            seam_gradient_ratio=output_seams.mean("gradient_ratio"), tolerance=tolerance)
    if reference is not None:
        report.reference_frames_with_face = reference_faces.frames_with_face
        report.unchanged_share = away["unchanged"] / max(away["pixels"], 1)
        report.away_mean_abs_diff = away["abs_diff"] / max(away["pixels"], 1)
    return report


def _check_same_shape(info, ref_info, video, reference) -> None:
    """The same size, or the reference's padded to even sides (as H.264 in yuv420p needs, and convert writes)."""
    from faceswap.errors import UserError

    from faceswap.video.writer import even_size

    if (info.width, info.height) not in ((ref_info.width, ref_info.height), even_size(ref_info.width, ref_info.height)):
        raise UserError(f"'{video}' is {info.width}x{info.height} but the reference '{reference}' is "
                        f"{ref_info.width}x{ref_info.height}; compare a converted video with the video it was made from.")


def _cropped(frames, width: int, height: int) -> Iterator[Any]:
    """Frames cut to ``width`` x ``height`` from the top left (dropping the even-size padding of an encode)."""
    from dataclasses import replace

    for frame in frames:
        yield frame if frame.image.shape[:2] == (height, width) else replace(frame, image=frame.image[:height, :width])


def find_faces(reader, detector: str | None, device: str) -> Iterator[tuple[Any, list[Any]]]:
    """(frame, faces) with the extract stage's detector, landmarks, tracking and smoothing."""
    from faceswap.extract import FaceFinder

    options = {"detector": detector} if detector else {}
    return FaceFinder(select="all", device=device, progress=False, **options).find(iter(reader))


class _FaceTracker:
    """Which frames had faces, and each track's landmarks over time."""

    def __init__(self) -> None:
        self.frames_with_face_set: set[int] = set()
        self.tracks: dict[int, list[tuple[int, np.ndarray]]] = {}

    @property
    def frames_with_face(self) -> int:
        return len(self.frames_with_face_set)

    def add(self, index: int, faces: list[Any]) -> None:
        if faces:
            self.frames_with_face_set.add(index)
        for face in faces:
            self.tracks.setdefault(face.track_id, []).append((index, five_points(face.landmarks)))

    def jitter(self) -> float | None:
        """Mean |x[t+1] - 2 x[t] + x[t-1]| over the landmarks of consecutive frames, % of eye distance."""
        values = []
        for points in self.tracks.values():
            for (i0, a), (i1, b), (i2, c) in zip(points, points[1:], points[2:]):
                if i1 == i0 + 1 and i2 == i1 + 1:
                    eye_distance = max(float(np.linalg.norm(b[1] - b[0])), 1.0)
                    values.append(100.0 * float(np.linalg.norm(c - 2 * b + a, axis=1).mean()) / eye_distance)
        return float(np.mean(values)) if values else None




def add_verdicts(report: EvaluateReport) -> EvaluateReport:
    """Fill in the plain-word verdicts (and their reasons) from the report's numbers."""
    reasons: dict[str, str] = {}
    if report.reference is not None:
        report.seam_verdict, reasons["seam"] = seam_verdict(report.seam_color_step, report.seam_gradient_ratio)
        report.outside_verdict, reasons["outside"] = outside_verdict(report.outside_band_changed_share)
    else:
        reasons["seam"] = "n/a: judged only against a reference (the picture's own jaw line and hair look like seams)"
    labels = [label for label in (report.seam_verdict, report.outside_verdict) if label]
    had_faces = report.reference_frames_with_face if report.reference is not None else report.frames
    if had_faces and report.face_detected_share < FACE_LOST_SHARE:
        labels.append("face lost")
        reasons["face"] = f"face lost: found in {100 * report.face_detected_share:.1f}% of the frames (< {100 * FACE_LOST_SHARE:g}%)"
    report.verdict = max(labels, key=SEVERITY.index) if labels else "n/a"
    report.verdict_reasons = reasons
    return report


def seam_verdict(step: float | None, ratio: float | None) -> tuple[str | None, str]:
    """clean / visible / hard edge from the seam scores of the change, and why: "visible" when
    the colour steps across the outline (or steps less but sharply), "hard edge" when the step is
    both high and sharp."""
    if step is None or ratio is None:
        return None, "n/a: no face outline to measure"
    numbers = f"colour step {step:.2f}, gradient ratio {ratio:.2f} of the change"
    if step >= SEAM_HARD_STEP and ratio >= SEAM_HARD_RATIO:
        return "hard edge", f"hard edge: {numbers} (step >= {SEAM_HARD_STEP:g} and ratio >= {SEAM_HARD_RATIO:g})"
    if step >= SEAM_VISIBLE_STEP:
        return "visible", f"visible: {numbers} (step >= {SEAM_VISIBLE_STEP:g})"
    if step >= SEAM_SHARP_STEP and ratio >= SEAM_SHARP_RATIO:
        return "visible", f"visible: {numbers} (step >= {SEAM_SHARP_STEP:g} with ratio >= {SEAM_SHARP_RATIO:g})"
    return "clean", (f"clean: {numbers} (visible from step {SEAM_VISIBLE_STEP:g}, or from step {SEAM_SHARP_STEP:g} "
                     f"with ratio {SEAM_SHARP_RATIO:g})")


def outside_verdict(share: float | None) -> tuple[str | None, str]:
    if share is None:
        return None, "n/a: no band outside a face to measure"
    low, high = BAND_PERCENT
    if share <= OUTSIDE_CHANGED_SHARE:
        return "clean", f"clean: {100 * share:.2f}% of the band {low:g}-{high:g}% outside the face changed (<= {100 * OUTSIDE_CHANGED_SHARE:g}%)"
    return "changed", (f"changed: {100 * share:.2f}% of the band {low:g}-{high:g}% outside the face changed "
                       f"(> {100 * OUTSIDE_CHANGED_SHARE:g}%): a halo, or a blend mask larger than the face")


def write_report(report: EvaluateReport, json_path: str | Path | None = None, text_path: str | Path | None = None) -> None:
    from faceswap.fileio import write_bytes_atomic, write_json_atomic

    if json_path:
        write_json_atomic(json_path, report.as_dict())
    if text_path:
        write_bytes_atomic(text_path, (report.describe() + "\n").encode())
