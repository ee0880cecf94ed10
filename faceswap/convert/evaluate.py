"""`faceswap evaluate`: numbers that say how good a swapped video is, to compare settings and versions.

- face_detected_share: frames where the detector still finds a face in the output (of the
  frames where it finds one in the reference, when a reference is given).
- landmark_jitter: mean frame-to-frame acceleration of the landmarks along each track, in
  percent of the eye distance; smooth motion scores near 0, shaking faces score high.
- seam_color_step: how much the Lab colour jumps across the face outline beyond the trend of
  the rings just inside and outside it, averaged over sectors around the face. With a
  reference it is measured on the change (output - reference): 0 for an untouched video,
  small for a feathered blend, the height of the step for a hard seam.
- seam_gradient_ratio: gradient strength (of lightness) on the outline over that on the rings
  beside it; about 1 when nothing marks the outline, higher for a hard edge. With a reference
  it is taken on the change: 0 for an untouched video, ~1 or less for a feathered blend.
- with a reference: unchanged_share, the share of pixels away from every face (in either
  video) whose colour stays within ``tolerance`` of the reference, and their mean difference.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

SECTORS = 16
RING_PERCENT = 4.0  # ring width, percent of the eye distance x 4 (about the face width)
FACE_MARGIN = 0.15  # the face region (for "away") is the aligned crop grown by this share
DEFAULT_TOLERANCE = 12  # max channel difference still counted as unchanged (x264 noise at CRF 18 stays below)


@dataclass
class SeamStats:
    color_step: list[float] = field(default_factory=list)
    gradient_ratio: list[float] = field(default_factory=list)

    def mean(self, name: str) -> float | None:
        values = getattr(self, name)
        return float(np.mean(values)) if values else None


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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

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
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def evaluate(video: str, reference: str | None = None, tolerance: int = DEFAULT_TOLERANCE,
             detector: str | None = None, device: str = "auto", threads: int = 0,
             reference_start: int = 0) -> EvaluateReport:
    """Measure a converted video (and compare it with the video it was made from; for an output
    of `convert --frames START:END` pass ``reference_start=START``)."""
    from faceswap import runtime
    from faceswap.video import open_reader

    runtime.set_threads(threads)
    output_faces = _FaceTracker()
    reference_faces = _FaceTracker()
    output_seams = SeamStats()
    away = {"pixels": 0, "unchanged": 0, "abs_diff": 0.0}
    frames = 0
    with open_reader(video) as out_reader:
        out_stream = find_faces(out_reader, detector, device)
        if reference is None:
            for frame, faces in out_stream:
                frames += 1
                output_faces.add(frame.index, faces)
                _seams(frame.image, faces, output_seams)
        else:
            with open_reader(reference, start=reference_start) as ref_reader:
                _check_same_shape(out_reader.info, ref_reader.info, video, reference)
                ref_stream = find_faces(ref_reader, detector, device)
                for (frame, faces), (ref_frame, ref_faces) in zip(out_stream, ref_stream):
                    frames += 1
                    output_faces.add(frame.index, faces)
                    reference_faces.add(frame.index, ref_faces)  # by output position: the two may start apart
                    _seams(frame.image, faces, output_seams, reference_bgr=ref_frame.image)
                    _away_from_faces(frame.image, ref_frame.image, faces + ref_faces, tolerance, away)
    return _report(video, reference, frames, output_faces, reference_faces, output_seams, away, tolerance)


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
    from faceswap.errors import UserError

    if (info.width, info.height) != (ref_info.width, ref_info.height):
        raise UserError(f"'{video}' is {info.width}x{info.height} but the reference '{reference}' is "
                        f"{ref_info.width}x{ref_info.height}; compare a converted video with the video it was made from.")


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
            self.tracks.setdefault(face.track_id, []).append((index, _five(face)))

    def jitter(self) -> float | None:
        """Mean |x[t+1] - 2 x[t] + x[t-1]| over the landmarks of consecutive frames, % of eye distance."""
        values = []
        for points in self.tracks.values():
            for (i0, a), (i1, b), (i2, c) in zip(points, points[1:], points[2:]):
                if i1 == i0 + 1 and i2 == i1 + 1:
                    eye_distance = max(float(np.linalg.norm(b[1] - b[0])), 1.0)
                    values.append(100.0 * float(np.linalg.norm(c - 2 * b + a, axis=1).mean()) / eye_distance)
        return float(np.mean(values)) if values else None


def _five(face: Any) -> np.ndarray:
    from faceswap.align.transform import five_points

    return five_points(np.asarray(face.landmarks, np.float64))


def _face_outline(face: Any) -> np.ndarray:
    """(N, 2) the template's face outline placed on the face by its five landmarks, frame pixels."""
    from faceswap.align.template import Template
    from faceswap.align.transform import frame_to_crop, invert, transform_points

    template = Template()
    matrix = frame_to_crop(_five(face), template)
    return transform_points(template.face_outline(template.size), invert(matrix))


def _seams(image_bgr: np.ndarray, faces: list[Any], stats: SeamStats, reference_bgr: np.ndarray | None = None) -> None:
    """Seam scores around each face; with a reference both are taken on the change (output -
    reference, Lab), so the scene's own edges near the outline do not count."""
    import cv2

    height, width_px = image_bgr.shape[:2]
    for face in faces:
        five = _five(face)
        width = max(2.0, RING_PERCENT / 100.0 * 4 * float(np.linalg.norm(five[1] - five[0])))
        outline = _face_outline(face)
        margin = int(np.ceil(2 * width)) + 2  # only the box around the outline is looked at
        x0, y0 = np.maximum(np.floor(outline.min(axis=0)).astype(int) - margin, 0)
        x1, y1 = np.minimum(np.ceil(outline.max(axis=0)).astype(int) + margin, (width_px, height))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        box = image_bgr[y0:y1, x0:x1]
        lab = cv2.cvtColor(box, cv2.COLOR_BGR2LAB).astype(np.float32)
        if reference_bgr is not None:
            lab -= cv2.cvtColor(reference_bgr[y0:y1, x0:x1], cv2.COLOR_BGR2LAB).astype(np.float32)
        grey = cv2.GaussianBlur(np.ascontiguousarray(lab[..., 0]), (3, 3), 0)
        gradient = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
        region = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(region, [np.round(outline - (x0, y0)).astype(np.int32)], 1)
        signed = _signed_distance(region)  # > 0 outside the outline
        step = _sector_color_step(lab, signed, width, five.mean(axis=0) - (x0, y0))
        if step is not None:
            stats.color_step.append(step)
        border = np.abs(signed) <= 1.5
        beside = (np.abs(signed) > 1.5) & (np.abs(signed) <= 2 * width)
        if border.any() and beside.any():
            floor = 1.0 if reference_bgr is not None else 1e-3  # an untouched region has no change to grade
            stats.gradient_ratio.append(float(gradient[border].mean() / max(gradient[beside].mean(), floor)))


def _signed_distance(region: np.ndarray) -> np.ndarray:
    """Pixels from the region's edge: negative inside, positive outside."""
    import cv2

    region_u8 = region.astype(np.uint8)
    inside = cv2.distanceTransform(region_u8, cv2.DIST_L2, 3)
    outside = cv2.distanceTransform(1 - region_u8, cv2.DIST_L2, 3)
    return outside - inside


def _sector_color_step(lab: np.ndarray, signed: np.ndarray, width: float, centre: np.ndarray) -> float | None:
    """How much the colour jumps across the outline beyond the trend of the rings beside it.

    Per sector around the face: mean Lab colour of four rings (two inside, two outside, each
    ``width`` wide); the step across the outline minus the mean step between the rings on
    either side (as vectors), its length. A smooth change scores ~0, a hard edge its height.
    """
    ys, xs = np.nonzero(np.abs(signed) <= 2 * width)
    if len(xs) == 0:
        return None
    ring = np.clip(np.floor(signed[ys, xs] / width).astype(int) + 2, 0, 3)  # 0, 1 inside; 2, 3 outside
    sector = ((np.arctan2(ys - centre[1], xs - centre[0]) + np.pi) / (2 * np.pi) * SECTORS).astype(int) % SECTORS
    colours = lab[ys, xs]
    steps = []
    for s in range(SECTORS):
        means = []
        for r in range(4):
            chosen = (sector == s) & (ring == r)
            if chosen.sum() < 4:
                break
            means.append(colours[chosen].mean(axis=0))
        if len(means) == 4:
            excess = (means[1] - means[2]) - 0.5 * ((means[0] - means[1]) + (means[2] - means[3]))
            steps.append(float(np.linalg.norm(excess)))
    return float(np.mean(steps)) if steps else None


def _away_from_faces(image: np.ndarray, reference: np.ndarray, faces: list[Any], tolerance: int, away: dict) -> None:
    import cv2

    from faceswap.align.template import Template
    from faceswap.align.transform import crop_box, frame_to_crop

    near = np.zeros(image.shape[:2], np.uint8)
    template = Template()
    for face in faces:
        corners = crop_box(frame_to_crop(_five(face), template), template.size)
        centre = corners.mean(axis=0)
        grown = centre + (corners - centre) * (1 + FACE_MARGIN)
        cv2.fillPoly(near, [np.round(grown).astype(np.int32)], 1)
    keep = near == 0
    difference = np.abs(image.astype(np.int16) - reference.astype(np.int16)).max(axis=2)[keep]
    away["pixels"] += int(difference.size)
    away["unchanged"] += int((difference <= tolerance).sum())
    away["abs_diff"] += float(difference.sum())


def write_report(report: EvaluateReport, json_path: str | Path | None = None, text_path: str | Path | None = None) -> None:
    from faceswap.fileio import write_bytes_atomic, write_json_atomic

    if json_path:
        write_json_atomic(json_path, report.as_dict())
    if text_path:
        write_bytes_atomic(text_path, (report.describe() + "\n").encode())
