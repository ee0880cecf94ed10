"""Where a run starts: a fresh faces folder, an overwritten one, or the checkpoint of an
interrupted run (``--resume``)."""
from __future__ import annotations

import shutil
from pathlib import Path

from faceswap.align.alignments import FILE_NAME, Alignments, load
from faceswap.errors import UserError
from faceswap.extract.config import ExtractConfig
from faceswap.extract.writer.output import FACES, MASKS, PARTIAL_SUFFIX
from faceswap.folder_lock import LOCK_FILE

CONFIG_FILE = "extract_config.json"
# Settings that change what is found: a resumed run must use the same ones.
RESULT_SETTINGS = ("detector", "aligner", "masker", "min_face_size", "score_threshold", "detect_size", "select",
                   "smooth", "smooth_min_cutoff", "smooth_beta", "size", "coverage", "every",
                   "face_format")


def prepare_output(config: ExtractConfig, source_path: str, source_size: int) -> Alignments | None:
    """Make the faces folder ready; return the interrupted run's alignments when resuming."""
    out = Path(config.output_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"The output '{out}' is a file, not a folder; give a folder for the faces.")
    holds_files = out.is_dir() and any(path.name != LOCK_FILE for path in out.iterdir())
    if config.overwrite and holds_files:
        _remove_previous_run(out)
        return None
    if config.resume and (out / FILE_NAME).is_file():
        return _previous_run(config, out, source_path, source_size)
    if config.resume and holds_files and _only_our_files(out):
        _remove_previous_run(out)  # killed before its first checkpoint: nothing to keep
        return None
    if config.resume and holds_files:
        raise UserError(f"The faces folder '{out}' has no {FILE_NAME} to resume from; use --overwrite to start again.")
    if holds_files and not config.resume:
        raise UserError(f"The faces folder '{out}' is not empty; pass --resume to continue an interrupted run, "
                        "--overwrite to replace it, or choose another folder.")
    return None


def _only_our_files(out: Path) -> bool:
    ours = {FACES, MASKS, CONFIG_FILE, LOCK_FILE}
    return all(p.name in ours or p.name.startswith(".alignments.") for p in out.iterdir())


def _remove_previous_run(out: Path) -> None:
    for name in (FACES, MASKS):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in (FILE_NAME, CONFIG_FILE):
        (out / name).unlink(missing_ok=True)
    for temporary in out.glob(".alignments.*"):  # left by a save that was killed half-way
        temporary.unlink(missing_ok=True)


def _previous_run(config: ExtractConfig, out: Path, source_path: str, source_size: int) -> Alignments:
    previous = load(out)
    if previous.source.path != source_path or previous.source.file_size != source_size:
        raise UserError(f"The faces folder '{out}' holds faces of '{previous.source.path}', not of '{config.input}'; "
                        "choose another folder or pass --overwrite.")
    used = previous.settings.get("config", {})
    changed = [name for name in RESULT_SETTINGS if name in used and used[name] != getattr(config, name)]
    if changed:
        raise UserError(f"--resume needs the settings of the interrupted run, but {', '.join(changed)} differ; "
                        "repeat them as before or pass --overwrite.")
    if not previous.complete:
        _drop_files_after_checkpoint(out, previous)
    return previous


def _drop_files_after_checkpoint(out: Path, previous: Alignments) -> None:
    """Images written after the last checkpoint are not in the alignments file: remove them so
    the resumed run writes them again, once."""
    kept = {face.face_file for _, face in previous.faces()} | {face.mask_file for _, face in previous.faces()}
    for folder in (FACES, MASKS):
        for path in (out / folder).glob("*"):
            if path.is_file() and not path.name.startswith(".") and f"{folder}/{path.name}" not in kept:
                path.unlink()
        for partial in (out / folder).glob(f".*{PARTIAL_SUFFIX}"):  # a write the kill cut short
            partial.unlink()


def next_frame(previous: Alignments | None) -> int:
    if previous is None:
        return 0
    return int(previous.settings.get("resume", {}).get("next_frame", previous.frames[-1].index + 1 if previous.frames else 0))
