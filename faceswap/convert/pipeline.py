"""`convert`: decode -> faces -> batched swap -> blend -> encode, streaming with flat memory.

Frames wait in a short queue until enough faces are gathered for one model call (across
frames), then leave in order. Frames without faces to swap are written as they came. The
output (and the optional side-by-side video) appear under their names only when complete.
"""
from __future__ import annotations

import itertools
import logging
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from faceswap.convert.choices import ConvertChoices, choose_encoder, choose_paste_workers, device_name
from faceswap.convert.config import ConvertConfig, parse_frame_range
from faceswap.convert.side_by_side import compose
from faceswap.errors import UserError
from faceswap.extract.reference import check_reference_photos
from faceswap.extract.selection import make_selector

log = logging.getLogger("faceswap.convert")  # the CLI shows it on stderr
MAX_PENDING_FRAMES = 64  # bounds memory when faces are rare (e.g. long stretches without one)
FOLDER_WRITERS = frozenset({"png_folder"})  # video_writers whose output is a folder; the others write one file


@dataclass
class ConvertSummary:
    output: str
    frames: int
    frames_swapped: int
    faces_swapped: int
    seconds: float
    fps: float
    skipped_frames: list[tuple[int, str]] = field(default_factory=list)
    side_by_side: str | None = None
    previews: list[str] = field(default_factory=list)
    mask: str = ""  # the masker (or learned/combined) the faces were blended through
    mask_fallbacks: int = 0  # faces where segmentation failed and the landmark outline stood in
    hand_frames: int = 0  # frames where a hand was kept in front of a swapped face
    expression_kept: int = 0  # faces whose features were moved towards the original's (--keep-expression, --keep-shape)
    warnings: list[str] = field(default_factory=list)  # sentences for the user (the CLI prints them on stderr)

    def describe(self) -> str:
        text = (f"wrote {self.output}: {self.frames} frames, {self.faces_swapped} faces swapped in "
                f"{self.frames_swapped} frames, {self.seconds:.1f} s ({self.fps:.1f} frames/s), mask: {self.mask}")
        if self.hand_frames:
            text += f", hands kept in front in {self.hand_frames} frames"
        if self.expression_kept:
            text += f", expression kept in {self.expression_kept} faces"
        if self.mask_fallbacks:
            text += (f"\nwarning: the segmenter found no face in {self.mask_fallbacks} face crop(s); "
                     "the landmark outline was used for those")
        for index, reason in self.skipped_frames:
            text += f"\nskipped corrupt frame {index}: {reason}"
        return text


def convert(config: ConvertConfig) -> ConvertSummary:
    """Swap the faces of ``config.input`` with the model in ``config.model_dir`` into ``config.output``."""
    import torch

    from faceswap import runtime
    from faceswap.video import open_reader

    check_paths(config)
    runtime.set_threads(config.threads)
    device = runtime.pick_device(config.device)
    model, model_template, resolution, channels_rgb = load_model(config.model_dir, device)
    from faceswap.convert.swapper import FaceSwapper

    swapper = FaceSwapper(model, config.swap, device, resolution, model_template, config, channels_rgb)
    start, end = parse_frame_range(config.frames)
    started = time.perf_counter()
    with open_reader(config.input, start=start, end=end) as reader:
        frames = iter(reader)
        first = next(frames, None)
        if first is None:
            raise UserError(f"No frame of '{config.input}' could be decoded in the range {config.frames or 'all'}; "
                            "check the file and --frames.")
        faces, faces_size = face_stream(config, reader.info, itertools.chain([first], frames), model_template)
        selector = make_selector(config.select, config.reference, config.reference_distance, config.detector, config.device,
                                 stills=reader.info.kind != "video")
        swapper.frames_in_order = reader.info.kind == "video"
        with ExitStack() as outputs:
            encoder = choose_encoder(config.encoder, device.type)
            sinks = open_outputs(config, reader.info, first.time, start, outputs, encoder)
            paste_workers = choose_paste_workers(config.paste_workers)
            announce_choices(ConvertChoices(device_name(device), swapper.precision.name, torch.get_num_threads(),
                                            swapper.paste_kind, paste_workers, sinks.encoder), sinks)
            frames_out = swapped_frames(faces, faces_size, swapper, config, selector, paste_workers)
            counts = write_swapped(frames_out, sinks, config, reader.skipped)
        skipped = list(reader.skipped)
    seconds = time.perf_counter() - started
    return ConvertSummary(output=config.output, frames=counts["frames"], frames_swapped=counts["frames_swapped"],
                          faces_swapped=counts["faces"], seconds=seconds, fps=counts["frames"] / max(seconds, 1e-9),
                          skipped_frames=skipped, side_by_side=config.side_by_side, previews=sinks.preview_paths,
                          mask=swapper.mask_choice.masker or swapper.mask_choice.kind, mask_fallbacks=swapper.mask_fallbacks,
                          hand_frames=swapper.hand_frames, expression_kept=swapper.expression_kept,
                          warnings=summary_warnings(config, counts))


def summary_warnings(config: ConvertConfig, counts: dict[str, int]) -> list[str]:
    """What the user should know although convert succeeded: above all, that no face was swapped."""
    if counts["faces"]:
        return []
    found = (f"the alignments file '{config.alignments}' lists none in these frames" if config.alignments
             else f"the {config.detector} detector found none")
    choice = "--reference" if config.reference else "--select"
    if config.reference:
        found += " or none matched the --reference photo(s)"
    elif config.select != "all":
        found += f" or none matched --select {config.select}"
    check = f"the input, --frames and {choice}" if config.frames else f"the input and {choice}"
    return [f"no face was swapped in '{config.input}' ({found}), so '{config.output}' is the input unchanged; check {check}"]


def check_paths(config: ConvertConfig) -> None:
    """Fail fast, before any work, on inputs, outputs and plugin names that cannot work."""
    if not config.input or not Path(config.input).exists():
        raise UserError(f"The input '{config.input}' does not exist; give a video file, image or image folder.")
    model_dir = Path(config.model_dir)
    if not config.model_dir or not (model_dir / "model.json").is_file():
        raise UserError(f"'{config.model_dir}' is not a trained model folder (no model.json); train one with `faceswap train`.")
    check_plugins(config)
    check_reference_photos(config.reference)
    _check_output("output", config.output, output_writer(config), config.input)
    if config.side_by_side is not None:
        _check_output("side-by-side output", config.side_by_side, "mp4", config.input)
        if Path(config.output).resolve() in Path(config.side_by_side).resolve().parents:
            raise UserError(f"The side-by-side output '{config.side_by_side}' is inside the output folder "
                            f"'{config.output}', which is replaced as a whole; write it elsewhere.")


def check_plugins(config: ConvertConfig) -> None:
    """Unknown plugin names fail here, with the registry's list of the available ones."""
    from faceswap.convert.choices import choose_encoder, choose_paste
    from faceswap.convert.masks import check_mask_name
    from faceswap.face_mesh import NO_MESH
    from faceswap.hands import NO_FINDER
    from faceswap.registry import get

    choose_paste(config.paste, "cpu", config.seamless)  # the device is not picked yet: names and --seamless only
    choose_encoder(config.encoder, "cpu")
    get("detector", config.detector)
    get("color_matcher", config.color)
    if config.hands != NO_FINDER:
        get("hands", config.hands)
    if config.feature_mesh != NO_MESH:
        get("face_mesh", config.feature_mesh)
    check_mask_name(config.mask)
    get("video_writer", output_writer(config))


def output_writer(config: ConvertConfig) -> str:
    """The video_writer plugin for ``config.output``: 'auto' is png_folder for a path without a suffix, else mp4."""
    if config.writer != "auto":
        return config.writer
    return "mp4" if Path(config.output).suffix else "png_folder"


def _check_output(label: str, path: str, writer: str, input_path: str) -> None:
    if not path:
        raise UserError("No output path given; pass -o OUT.mp4 (or -o FOLDER for PNG frames).")
    target, source = Path(path), Path(input_path).resolve()
    if target.resolve() == source:
        raise UserError(f"The {label} '{path}' is the input itself; choose another output path.")
    if target.resolve() in source.parents:
        raise UserError(f"The {label} '{path}' holds the input '{input_path}'; choose another output path.")
    if writer in FOLDER_WRITERS and target.is_file():
        raise UserError(f"The {label} '{path}' is a file; the {writer} writer needs a folder name.")
    if writer not in FOLDER_WRITERS and target.is_dir():
        raise UserError(f"The {label} '{path}' is a folder; give a file name such as {target / 'out.mp4'}"
                        + (" (or --writer png_folder for PNG frames)." if label == "output" else "."))
    parent = _existing_parent(target)
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise UserError(f"Cannot write the {label} '{path}' ('{parent}' is not writable); choose a writable location.")


def _existing_parent(path: Path) -> Path:
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    return parent


def load_model(model_dir: str, device) -> tuple[Any, Any, int, bool]:
    """(model in eval mode, its Template, its input resolution, whether it takes RGB)."""
    from faceswap.align.template import Template
    from faceswap.swap import load_swap_model

    model, info = load_swap_model(model_dir, device)
    model.eval()
    template = info.template if isinstance(info.template, Template) else Template.from_dict(info.template)
    channels_rgb = getattr(info, "channel_order", "rgb").lower() == "rgb"  # swap models take RGB
    return model, template, int(info.resolution), channels_rgb


def face_stream(config: ConvertConfig, info, frames: Iterator, model_template) -> tuple[Iterator, int]:
    """(iterator of (frame, faces), the crop size the faces' matrices are made for)."""
    from faceswap.convert import faces

    if config.alignments:
        alignments = faces.load_checked_alignments(config.alignments, config.input, info, model_template)
        return faces.from_alignments(frames, alignments), alignments.template.size
    return faces.find_on_the_fly(frames, config, model_template)


def swapped_frames(face_iter: Iterator, faces_size: int, swapper, config: ConvertConfig,
                   selector=None, paste_workers: int = 0) -> Iterator[tuple[Any, np.ndarray, int]]:
    """(frame, swapped image, faces swapped) in frame order.

    Faces are gathered across frames into batches; while the model works on one batch (on a
    worker thread: torch releases the GIL), this thread finishes the crops of the one before
    (in order: colour statistics carry over) and decodes the next, so at most two batches are in
    memory. The crops are pasted into their frames on ``paste_workers`` threads (0: here), a few
    frames at a time. ``selector`` (extract/selection.py) keeps the faces to swap; by default the
    one ``config.select`` names.
    """
    from faceswap.convert.paste_workers import map_in_order

    return map_in_order(lambda item: _paste(item, swapper), _crops(face_iter, faces_size, swapper, config, selector),
                        paste_workers)


def _crops(face_iter: Iterator, faces_size: int, swapper, config: ConvertConfig, selector) -> Iterator[tuple[Any, list]]:
    """(frame, [(finished face, mask, matrix), ...]) in frame order, the model a batch ahead."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="swap-model") as model_thread:
        previous = None
        selector = selector or make_selector(config.select)
        for batch in _batches(face_iter, faces_size, swapper, config, selector):
            jobs = [job for _, frame_jobs in batch for job in frame_jobs]
            current = (batch, model_thread.submit(swapper.run_model, jobs) if jobs else None)
            if previous is not None:
                yield from _finish(*previous, swapper)
            previous = current
        if previous is not None:
            yield from _finish(*previous, swapper)


def _batches(face_iter: Iterator, faces_size: int, swapper, config: ConvertConfig, selector) -> Iterator[list[tuple[Any, list]]]:
    """Lists of (frame, its face jobs) holding about ``batch_size`` faces (or MAX_PENDING_FRAMES frames)."""
    pending: list[tuple[Any, list]] = []
    pending_faces = 0
    for frame, found, stored_hands in face_iter:
        chosen = [found[i] for i in selector.choose([face.box for face in found], [face.track_id for face in found], frame.image)]
        hands = swapper.find_hands(frame.image, [face.box for face in chosen], stored_hands) if chosen else []
        jobs = [swapper.prepare(frame.image, np.asarray(face.landmarks, np.float64), np.asarray(face.matrix, np.float64),
                                faces_size, face.track_id, hands) for face in chosen]
        pending.append((frame, jobs))
        pending_faces += len(jobs)
        if pending_faces >= config.batch_size or len(pending) >= MAX_PENDING_FRAMES:
            yield pending
            pending, pending_faces = [], 0
    if pending:
        yield pending


def _finish(pending: list[tuple[Any, list]], model_result, swapper) -> Iterator[tuple[Any, list]]:
    if model_result is not None:
        faces_bgr, learned_masks, masker_masks = model_result.result()
    position = 0
    for frame, jobs in pending:
        crops = []
        for job in jobs:
            face, mask = swapper.finish_crop(job, faces_bgr[position], learned_masks[position],
                                             None if masker_masks is None else masker_masks[position])
            crops.append((face, mask, job.matrix_blend))
            position += 1
        yield frame, crops


def _paste(item: tuple[Any, list], swapper) -> tuple[Any, np.ndarray, int]:
    frame, crops = item
    image = frame.image.copy() if crops else frame.image
    for face, mask, matrix in crops:
        swapper.paste_into(image, face, mask, matrix)
    return frame, image, len(crops)


@dataclass
class Sinks:
    writer: Any
    side_by_side: Any
    preview_dir: Path
    preview_indices: set[int]
    preview_paths: list[str] = field(default_factory=list)

    @property
    def encoder(self) -> str:
        """What the output is encoded with, as its writer says (e.g. 'libx264 (medium, crf 18)')."""
        return getattr(self.writer, "encoder", type(self.writer).__name__)

    @property
    def encoder_warnings(self) -> list[str]:
        """The writers' sentences about a fallback (NVENC asked for but not there), each once."""
        found = (getattr(writer, "warning", None) for writer in (self.writer, self.side_by_side) if writer is not None)
        return list(dict.fromkeys(text for text in found if text))


def open_outputs(config: ConvertConfig, info, first_time: float, start: int, stack: ExitStack,
                 encoder: str = "x264") -> Sinks:
    """The output (through its video_writer plugin), the optional side-by-side mp4 (both carry the sound
    from the first frame on) and previews. ``encoder``: x264 or nvenc[_hevc], for writers that encode video."""
    audio = dict(audio_from=config.input if info.has_audio else None, audio_start=first_time)
    writer = stack.enter_context(
        _open_writer(output_writer(config), config.output, info.width, info.height, info.fps, config, audio, encoder))
    side_by_side = None
    if config.side_by_side:
        side_by_side = stack.enter_context(
            _open_writer("mp4", config.side_by_side, 2 * info.width, info.height, info.fps, config, audio, encoder))
    return Sinks(writer, side_by_side, preview_folder(config.output), preview_indices(config, info, start))


def _open_writer(name: str, path: str, width: int, height: int, fps: float, config: ConvertConfig, audio: dict,
                 encoder: str = "x264"):
    """``get("video_writer", name)`` built with the encoder settings it declares (crf, preset, encoder: mp4's,
    not png_folder's)."""
    import inspect

    from faceswap.registry import get

    writer_class = get("video_writer", name)
    accepted = inspect.signature(writer_class).parameters
    offered = {"crf": config.crf, "preset": config.encoder_preset, "encoder": encoder}
    return writer_class(path, width, height, fps, **audio, **{key: value for key, value in offered.items() if key in accepted})


def announce_choices(choices: ConvertChoices, sinks: Sinks) -> None:
    """One line at start (device, precision, threads, paste, encoder), and an encoder fallback's one warning."""
    log.info(choices.describe())
    for warning in sinks.encoder_warnings:
        log.warning(f"warning: {warning}")


def preview_indices(config: ConvertConfig, info, start: int) -> set[int]:
    """``config.preview`` frame indices spread evenly over the converted range."""
    if not config.preview:
        return set()
    _, end = parse_frame_range(config.frames)
    stop = info.frame_count if end is None else min(end, info.frame_count)
    positions = np.linspace(start, max(start, stop - 1), config.preview + 2)[1:-1]
    return {int(round(position)) for position in positions}


def preview_folder(output: str) -> Path:
    out = Path(output)
    return out.with_name(f"{out.stem}_preview")


def write_swapped(frames: Iterator[tuple[Any, np.ndarray, int]], sinks: Sinks, config: ConvertConfig,
                  skipped: list[tuple[int, str]]) -> dict[str, int]:
    """Encode the swapped frames; a frame the decoder skipped is filled with its predecessor so sound stays in sync."""
    counts = {"frames": 0, "frames_swapped": 0, "faces": 0}
    expected_index, last_written = None, None
    for frame, image, faces_swapped in _with_progress(frames, config):
        gap = 0 if expected_index is None else frame.index - expected_index
        for _ in range(max(gap, 0)):
            _write(sinks, last_written[0], last_written[1])
            counts["frames"] += 1
        _write(sinks, frame.image, image)
        if frame.index in sinks.preview_indices:
            _write_preview(sinks, frame.index, frame.image, image)
        expected_index, last_written = frame.index + 1, (frame.image, image)
        counts["frames"] += 1
        counts["frames_swapped"] += faces_swapped > 0
        counts["faces"] += faces_swapped
    trailing = sum(1 for index, _ in skipped if expected_index is not None and index >= expected_index)
    for _ in range(trailing):  # corrupt frames at the very end
        _write(sinks, last_written[0], last_written[1])
        counts["frames"] += 1
    return counts


def _write(sinks: Sinks, before: np.ndarray, after: np.ndarray) -> None:
    sinks.writer.write(after)
    if sinks.side_by_side is not None:
        sinks.side_by_side.write(compose(before, after))


def _write_preview(sinks: Sinks, index: int, before: np.ndarray, after: np.ndarray) -> None:
    import cv2

    from faceswap.fileio import atomic_path

    sinks.preview_dir.mkdir(parents=True, exist_ok=True)
    path = sinks.preview_dir / f"frame_{index:06d}.png"
    with atomic_path(path) as temp:
        if not cv2.imwrite(str(temp), compose(before, after)):
            raise UserError(f"Cannot write the preview '{path}'; choose a writable output location.")
    sinks.preview_paths.append(str(path))


def _with_progress(frames: Iterator, config: ConvertConfig) -> Iterator:
    if not config.progress:
        return frames
    from tqdm import tqdm

    return tqdm(frames, desc="convert", unit="frame", leave=False)
