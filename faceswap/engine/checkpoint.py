"""Checkpoints without pickle, written so that a kill at any moment leaves the last good one intact.

Layout under ``<out_dir>/checkpoints``::

    step_00000100/model.safetensors   weights (safetensors)
    step_00000100/trainer_state.pt    optimiser, scaler, RNG: plain dicts of tensors (weights_only load)
    step_00000100/state.json          step, epoch, position in the epoch, metrics, resolved config
    latest.json                       {"step": 100, "dir": "step_00000100"}, replaced atomically last
    best/                             model.safetensors + state.json of the best validation metric

A step folder is written under a temporary name and renamed into place when complete, so a
``step_*`` folder is always whole; old ones are renamed away before they are deleted.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_model, save_model
from torch import nn

from faceswap.errors import UserError
from faceswap.fileio import os_errors_named, read_json, save_torch, write_json_atomic

CHECKPOINTS_DIR = "checkpoints"
MODEL_FILE = "model.safetensors"
TRAINER_STATE_FILE = "trainer_state.pt"
STATE_FILE = "state.json"
LATEST_FILE = "latest.json"
BEST_DIR = "best"
_TEMP_PREFIX = ".tmp_"
_TRASH_PREFIX = ".trash_"


def step_dir_name(step: int) -> str:
    return f"step_{step:08d}"


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some filesystems do not fsync folders
    finally:
        os.close(handle)


def _write_folder(folder: Path, model: nn.Module, state: dict[str, Any], trainer_state: dict[str, Any] | None,
                  same_weights: Path | None = None) -> None:
    """A full or read-only disk ends in an OSError naming the checkpoints folder (not the temporary one).

    ``same_weights``: a weights file already on disk holding exactly ``model``'s weights (the best
    checkpoint of this very step): it is linked, not written again."""
    with os_errors_named(folder.parent):
        if not _link(same_weights, folder / MODEL_FILE):
            save_model(model, str(folder / MODEL_FILE))
            _fsync_file(folder / MODEL_FILE)
        if trainer_state is not None:
            save_torch(trainer_state, folder / TRAINER_STATE_FILE)
        (folder / STATE_FILE).write_text(json.dumps(state, indent=1))
        _fsync_file(folder / STATE_FILE)


def _link(source: Path | None, target: Path) -> bool:
    """Hard-link ``source`` as ``target`` (written files are never changed in place, so both names
    may share it); False where there is no source or the filesystem has no hard links."""
    if source is None or not source.is_file():
        return False
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


def best_weights_path(out_dir: str | Path) -> Path:
    return Path(out_dir) / CHECKPOINTS_DIR / BEST_DIR / MODEL_FILE


def _discard(folder: Path) -> None:
    """Rename first (atomic), then delete: a half-deleted folder never keeps a checkpoint's name."""
    trash = folder.with_name(f"{_TRASH_PREFIX}{folder.name}.{os.getpid()}")
    os.replace(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


def save_checkpoint(out_dir: str | Path, step: int, model: nn.Module, state: dict[str, Any],
                    trainer_state: dict[str, Any], keep_last: int, same_weights: Path | None = None) -> Path:
    """Write checkpoint ``step``, point latest.json at it, and prune to the last ``keep_last``.

    ``same_weights``: a file already holding ``model``'s current weights, linked instead of written."""
    root = Path(out_dir) / CHECKPOINTS_DIR
    root.mkdir(parents=True, exist_ok=True)
    final = root / step_dir_name(step)
    if not final.exists():
        temp = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{final.name}.", dir=root))
        try:
            _write_folder(temp, model, state, trainer_state, same_weights)
            os.replace(temp, final)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        _fsync_dir(root)
    write_json_atomic(root / LATEST_FILE, {"step": step, "dir": final.name})
    _prune(root, keep_last, keep=final.name)
    return final


def save_best(out_dir: str | Path, model: nn.Module, state: dict[str, Any]) -> Path:
    """Replace checkpoints/best with these weights (the old one stays until the new one is whole)."""
    root = Path(out_dir) / CHECKPOINTS_DIR
    root.mkdir(parents=True, exist_ok=True)
    best = root / BEST_DIR
    temp = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{BEST_DIR}.", dir=root))
    try:
        _write_folder(temp, model, state, None)
        if best.exists():
            old = root / f"{_TRASH_PREFIX}{BEST_DIR}"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(best, old)  # a kill here leaves the old best under this name: see best_model_path
        os.replace(temp, best)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    _fsync_dir(root)
    shutil.rmtree(root / f"{_TRASH_PREFIX}{BEST_DIR}", ignore_errors=True)
    return best


def _step_dirs(root: Path) -> list[Path]:
    return sorted(path for path in root.glob("step_*") if path.is_dir() and path.name[5:].isdigit())


def _prune(root: Path, keep_last: int, keep: str) -> None:
    for folder in _step_dirs(root)[:-keep_last]:
        if folder.name != keep:
            _discard(folder)


def remove_leftovers(out_dir: str | Path) -> None:
    """Delete temporary folders left by a run that was killed while saving."""
    root = Path(out_dir) / CHECKPOINTS_DIR
    for pattern in (f"{_TEMP_PREFIX}*", f"{_TRASH_PREFIX}step_*"):
        for path in root.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)
    if (root / f"{_TRASH_PREFIX}{BEST_DIR}").exists() and not (root / BEST_DIR).exists():
        os.replace(root / f"{_TRASH_PREFIX}{BEST_DIR}", root / BEST_DIR)


def discard_newer(out_dir: str | Path, step: int) -> None:
    """Delete step folders after ``step``: written by a killed run before latest.json pointed at
    them, they would otherwise shadow the checkpoints of the resumed run."""
    for folder in _step_dirs(Path(out_dir) / CHECKPOINTS_DIR):
        if int(folder.name.split("_")[1]) > step:
            _discard(folder)


def find_latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The folder latest.json points at, else the newest complete step folder, else None."""
    root = Path(out_dir) / CHECKPOINTS_DIR
    pointer = root / LATEST_FILE
    if pointer.is_file():
        try:
            folder = root / json.loads(pointer.read_text())["dir"]
        except (ValueError, KeyError, TypeError):
            folder = None
        if folder is not None and (folder / STATE_FILE).is_file():
            return folder
    complete = [path for path in _step_dirs(root) if (path / STATE_FILE).is_file()]
    return complete[-1] if complete else None


STATE_KEYS = ("step", "epoch", "batch_in_epoch")
TRAINER_STATE_KEYS = ("optimizer", "schedule", "scaler", "guard", "rng")


def read_checkpoint(folder: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(state.json contents, trainer_state dict) of a step folder; no pickle involved."""
    folder = Path(folder)
    fix = "delete that checkpoint folder to resume from an older one"
    state = read_json(folder / STATE_FILE, "checkpoint state", fix=fix)
    try:
        trainer_state = torch.load(folder / TRAINER_STATE_FILE, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError) as error:
        reason = _first_line(error, "unreadable").split(". ")[0]
        raise UserError(f"The checkpoint '{folder}' is damaged ({reason}); {fix}.") from error
    missing = [key for key in STATE_KEYS if not isinstance(state.get(key), int)]
    missing += [key for key in TRAINER_STATE_KEYS if not isinstance(trainer_state, dict) or key not in trainer_state]
    if missing:
        raise UserError(f"The checkpoint '{folder}' is damaged (no {', '.join(missing)}); {fix}.")
    return state, trainer_state


def load_model_weights(module: nn.Module, path: str | Path, strict: bool = True) -> nn.Module:
    """Load a model.safetensors file into ``module`` (in place, on the module's device)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"The weights file '{path}' does not exist; check the run folder or train first.")
    try:
        load_model(module, str(path), strict=strict, device="cpu")
    except SafetensorError as error:
        raise UserError(f"The weights file '{path}' is damaged ({_first_line(error, 'unreadable')}); "
                        "restore it from a backup or train again.") from error
    except RuntimeError as error:
        raise UserError(f"The weights in '{path}' do not fit this model ({_first_line(error, 'shapes or names differ')}); "
                        "use the model settings the run was trained with.") from error
    check_finite(module.state_dict(), path)
    return module


def check_finite(tensors: dict[str, torch.Tensor], path: str | Path) -> None:
    """Refuse weights holding NaN or infinity (a damaged file or a diverged run): nothing useful comes of them."""
    bad = [name for name, tensor in tensors.items()
           if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
    if bad:
        raise UserError(f"The weights file '{path}' holds NaN or infinite values (in {len(bad)} of its tensors, e.g. '{bad[0]}'); "
                        "restore it from a backup, resume from an older checkpoint or train again.")


def _first_line(error: Exception, fallback: str) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else fallback


def latest_model_path(out_dir: str | Path) -> Path:
    """model.safetensors of the latest checkpoint of a run folder."""
    folder = find_latest_checkpoint(out_dir)
    if folder is None:
        raise UserError(f"The run folder '{out_dir}' holds no checkpoint; train into it first or check the path.")
    return folder / MODEL_FILE


def best_model_path(out_dir: str | Path, fallback_to_latest: bool = True) -> Path:
    """model.safetensors of the best checkpoint (falls back to the latest when there is no best)."""
    root = Path(out_dir) / CHECKPOINTS_DIR
    for name in (BEST_DIR, f"{_TRASH_PREFIX}{BEST_DIR}"):
        if (root / name / STATE_FILE).is_file():
            return root / name / MODEL_FILE
    if fallback_to_latest:
        return latest_model_path(out_dir)
    raise UserError(f"The run folder '{out_dir}' has no best checkpoint (it needs validation data); use the latest one.")
