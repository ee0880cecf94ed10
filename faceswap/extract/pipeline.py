"""``extract(config)``: find faces in a video, an image or an image folder and write aligned
faces, masks and the alignments file into the faces folder.

Decoding runs on its own thread, the detector on batches, image encoding on writer threads;
the alignments file is saved every ``save_every`` frames (complete=False) so ``--resume``
continues an interrupted run, and once more at the end with complete=True.
"""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from faceswap.align.alignments import FILE_NAME, Alignments, SourceInfo
from faceswap.config import to_dict, write_resolved
from faceswap.errors import UserError
from faceswap.extract.config import ExtractConfig
from faceswap.extract.faces import FoundFace
from faceswap.extract.finder import FaceFinder
from faceswap.extract.resume import CONFIG_FILE, next_frame, prepare_output
from faceswap.extract.writer.output import FacesWriter
from faceswap.folder_lock import LOCK_FILE, folder_lock

__all__ = ["ExtractSummary", "FaceFinder", "FoundFace", "extract"]

log = logging.getLogger("faceswap.extract")


@dataclass
class ExtractSummary:
    frames: int  # frames in the alignments file (all runs, when resumed)
    frames_with_faces: int
    faces: int
    tracks: int
    seconds: float  # this run
    fps: float  # frames per second of this run
    skipped_frames: list = field(default_factory=list)  # [frame index, reason] of frames that could not be decoded
    warnings: list = field(default_factory=list)  # sentences for the user (the CLI prints them on stderr)
    output_dir: str = ""
    detector: str = ""  # which detector ran where (e.g. "centerface on onnxruntime CPUExecutionProvider, threads 1")

    def as_dict(self) -> dict:
        return asdict(self)

    def human(self) -> str:
        text = (f"{self.faces} faces in {self.frames_with_faces} of {self.frames} frames, {self.tracks} track(s); "
                f"{self.seconds:.1f} s ({self.fps:.1f} frames/s) -> {self.output_dir}")
        if self.detector:
            text += f"\ndetector: {self.detector}"
        if self.skipped_frames:
            text += f"; {len(self.skipped_frames)} unreadable frame(s) skipped"
        return text


def extract(config: ExtractConfig) -> ExtractSummary:
    """Run the extract stage with ``config``; see ExtractConfig for every setting."""
    from faceswap.runtime import set_threads
    from faceswap.video import open_reader

    if not config.input:
        raise UserError("No input given; pass a video file, an image or a folder of images with -i.")
    if not config.output_dir:
        raise UserError("No faces folder given; pass one with -o.")
    started = time.perf_counter()
    source_path, source_size = _source_identity(config.input)
    with open_reader(config.input):
        pass  # an unreadable input fails here, before anything in the faces folder changes
    set_threads(config.threads)
    finder = FaceFinder(config)  # so does an unknown plugin or missing weights
    out = Path(config.output_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"The output '{out}' is a file, not a folder; give a folder for the faces.")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"Cannot create the faces folder '{out}' ({error.strerror}); choose a writable location.") from None
    try:
        with folder_lock(out, "faceswap extract"):  # one writer: a second extract or `faces remove` fails at once
            try:
                return _extract_locked(config, finder, source_path, source_size, started)
            except BaseException:
                if created and not (out / FILE_NAME).is_file():  # failed before its first checkpoint: nothing to resume
                    _remove_contents(out)
                raise
    finally:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only if the failed run left it empty


def _remove_contents(folder: Path) -> None:
    for path in folder.iterdir():
        if path.name != LOCK_FILE:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def _extract_locked(config: ExtractConfig, finder: FaceFinder, source_path: str, source_size: int, started: float) -> ExtractSummary:
    from faceswap.extract.detectors import describe_detector
    from faceswap.video import open_reader

    previous = prepare_output(config, source_path, source_size)
    if previous is not None and previous.complete:
        return _summary(previous, config, 0, 0.0, ["the faces folder already holds a complete run; nothing to do"], finder)
    start = next_frame(previous)
    if previous is not None:
        finder.restore(previous.settings["resume"]["finder"])
    with open_reader(config.input, start=start) as reader:
        info = reader.info
        if info.kind != "video":
            finder.treat_as_stills()
        alignments = previous or Alignments(
            source=SourceInfo(path=source_path, kind=info.kind, width=info.width, height=info.height, fps=info.fps,
                              frame_count=info.frame_count, file_size=source_size),
            template=finder.template, settings={"config": to_dict(config), "skipped_frames": []})
        Path(config.output_dir).mkdir(parents=True, exist_ok=True)
        write_resolved(config, Path(config.output_dir) / CONFIG_FILE)
        log.info("Extracting with %s.", describe_detector(config.detector, finder.detector))
        frames_done = _run(config, finder, reader, alignments, total=max(info.frame_count - start, 0))
    seconds = time.perf_counter() - started
    warnings = []
    if not any(frame.faces for frame in alignments.frames):
        warnings.append(f"no faces were found in '{config.input}'")
    skipped = alignments.settings.get("skipped_frames", [])
    if skipped:
        named = ", ".join(f"{index} ({reason})" for index, reason in skipped[:5])
        warnings.append(f"{len(skipped)} unreadable frame(s) were skipped: {named}{' ...' if len(skipped) > 5 else ''}")
    return _summary(alignments, config, frames_done, seconds, warnings, finder)


def _run(config: ExtractConfig, finder: FaceFinder, reader, alignments: Alignments, total: int) -> int:
    """Stream frames through the finder into the writer; returns the frames done in this run."""
    from tqdm import tqdm

    from faceswap.hands import load_finder

    writer = FacesWriter(config.output_dir, alignments, face_format=config.face_format)
    hand_finder = load_finder(config.hands)
    debug = _debug_video(config, reader.info)
    frames_done, since_checkpoint = 0, 0
    try:
        found = contextlib.closing(finder.find(reader))  # closing stops the decode thread on errors too
        with debug or contextlib.nullcontext(), found as stream, \
                tqdm(total=total, unit="frame", disable=not config.progress, leave=False, dynamic_ncols=True) as progress:
            for frame, faces in stream:
                if hand_finder is not None and reader.info.kind != "video":
                    hand_finder.reset()  # separate pictures: no hand to follow from one to the next
                hands = None if hand_finder is None else hand_finder.find(frame.image, [face.box for face in faces]) if faces else []
                writer.add(frame, faces, finder, hands)
                if debug:
                    debug.write(frame.image, faces, finder, hands)
                frames_done += 1
                since_checkpoint += 1
                progress.update(1)
                if since_checkpoint >= config.save_every and finder.at_resume_point():
                    _note_skipped(alignments, reader)
                    writer.checkpoint({"next_frame": frame.index + 1, "finder": finder.state()})
                    since_checkpoint = 0
        _note_skipped(alignments, reader)
        writer.finish()
    finally:
        writer.close()
    return frames_done


def _note_skipped(alignments: Alignments, reader) -> None:
    known = {index for index, _ in alignments.settings.setdefault("skipped_frames", [])}
    alignments.settings["skipped_frames"] += [[index, reason] for index, reason in reader.skipped if index not in known]


def _debug_video(config: ExtractConfig, info):
    if not config.debug_video:
        return None
    from faceswap.extract.debug_video import DebugVideo

    if config.resume:
        log.warning("the debug video shows only the frames of this (resumed) run")
    return DebugVideo(config.debug_video, info.width, info.height, info.fps)


def _source_identity(input_path: str) -> tuple[str, int]:
    """Absolute path and size in bytes (summed over a folder's files) of the input."""
    path = Path(input_path)
    if not path.exists():
        raise UserError(f"The input '{input_path}' does not exist; check the path.")
    try:
        size = sum(p.stat().st_size for p in path.iterdir() if p.is_file()) if path.is_dir() else path.stat().st_size
    except OSError as error:
        raise UserError(f"The input '{input_path}' cannot be read ({error.strerror}); check its permissions.") from error
    return os.path.abspath(path), size


def _summary(alignments: Alignments, config: ExtractConfig, frames_done: int, seconds: float, warnings: list[str],
             finder: FaceFinder) -> ExtractSummary:
    from faceswap.extract.detectors import describe_detector

    faces = alignments.faces()
    return ExtractSummary(
        frames=len(alignments.frames), frames_with_faces=sum(1 for f in alignments.frames if f.faces), faces=len(faces),
        tracks=len(alignments.track_ids()), seconds=round(seconds, 3), fps=round(frames_done / seconds, 2) if seconds else 0.0,
        skipped_frames=list(alignments.settings.get("skipped_frames", [])), warnings=warnings, output_dir=str(config.output_dir),
        detector=describe_detector(config.detector, finder.detector))
