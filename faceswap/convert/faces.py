"""Where convert's faces come from: an earlier extract's alignments file, or found on the fly.

Both yield ``(frame, faces, hands)`` with faces as ``FaceRecord``-like objects (``box``,
``landmarks``, ``track_id``, ``matrix`` frame -> crop of ``template.size`` pixels) and the hands
extract stored for the frame (None when there are none stored: convert finds them itself); the
pipeline's ``FaceSelector`` then keeps the faces to swap.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from faceswap.align.template import Template
from faceswap.errors import UserError

FaceStream = Iterator[tuple[Any, list[Any], list[np.ndarray] | None]]


def check_template(faces_template: Template, model_template: Template, faces_origin: str) -> None:
    if not model_template.fits(faces_template):
        raise UserError(
            f"The faces of {faces_origin} were aligned with template {faces_template.name} at coverage "
            f"{faces_template.coverage}, but the model expects {model_template.name} at coverage "
            f"{model_template.coverage}; re-run `faceswap extract` with the model's coverage.")


def load_checked_alignments(alignments_path: str, video_path: str, reader_info, model_template: Template):
    """The alignments file, after checking it was made from this very video and fits the model."""
    from faceswap.align.alignments import load

    alignments = load(alignments_path)
    source, video = alignments.source, Path(video_path)
    size_differs = source.file_size and video.is_file() and source.file_size != os.path.getsize(video)
    count_differs = reader_info.frame_count_exact and source.frame_count != reader_info.frame_count
    if size_differs or count_differs or (source.width, source.height) != (reader_info.width, reader_info.height):
        raise UserError(
            f"The alignments file '{alignments_path}' was made from '{source.path}' ({source.frame_count} frames, "
            f"{source.file_size} bytes), not from '{video_path}'; run `faceswap extract` on this video or pass its own alignments.")
    if not alignments.complete:
        raise UserError(f"The alignments file '{alignments_path}' is from an extract that did not finish; "
                        "finish it with `faceswap extract --resume`.")
    check_template(alignments.template, model_template, f"'{alignments_path}'")
    return alignments


def from_alignments(frames: Iterable[Any], alignments) -> FaceStream:
    """(frame, faces, hands) with the hands extract stored (None where it did not look for them)."""
    by_index = {record.index: record for record in alignments.frames}
    for frame in frames:
        record = by_index.get(frame.index)
        yield frame, record.faces if record else [], _hands_array(record.hands) if record else None


def _hands_array(hands: list | None) -> list[np.ndarray] | None:
    return None if hands is None else [np.asarray(hand, np.float64) for hand in hands]


def find_on_the_fly(frames: Iterable[Any], config, model_template: Template) -> tuple[FaceStream, int]:
    """Faces found while converting, with the ``config.detector`` plugin and extract's tracking and
    smoothing at their default settings, aligned to the model's template. Returns (stream, crop size of the matrices)."""
    from faceswap.extract import FaceFinder

    finder = FaceFinder(select="all", detector=config.detector, device=config.device, threads=config.threads,
                        coverage=model_template.coverage, progress=False)
    return ((frame, faces, None) for frame, faces in finder.find(frames)), finder.template.size
