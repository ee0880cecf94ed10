"""Read-only views of the workspace for the page: faces of a folder, training progress, result pictures."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from faceswap.errors import UserError
from faceswap.ui.workspace import Workspace

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
CURVE_KEYS = ("loss", "val_loss", "samples_per_s")
MAX_CURVE_POINTS = 400


def overview(workspace: Workspace) -> dict[str, Any]:
    """What the page's pickers offer: videos, images, faces folders, swap models, classifier runs."""
    return {"workspace": str(workspace.root), "videos": workspace.files(VIDEO_SUFFIXES),
            "images": workspace.files(IMAGE_SUFFIXES, limit=200),
            "faces_folders": workspace.folders_holding("alignments.json"),
            "models": [folder for folder in workspace.folders_holding("model.json") if _is_swap_model(workspace, folder)],
            "classifier_runs": [folder for folder in workspace.folders_holding("model.json") if not _is_swap_model(workspace, folder)]}


def faces_of(workspace: Workspace, relative: str) -> dict[str, Any]:
    """The faces alignments.json lists (crop, mask, frame, track), and how many are in the trash."""
    from faceswap.align.alignments import load
    from faceswap.curate import trashed_faces

    folder = workspace.resolve(relative, must_exist=True)
    if not (folder / "alignments.json").is_file():
        raise UserError(f"'{relative}' is not a faces folder (no alignments.json); extract faces into it first.")
    alignments = load(folder)
    faces = [{"name": Path(face.face_file).name, "face": workspace.relative(folder / face.face_file),
              "mask": workspace.relative(folder / face.mask_file) if face.mask_file else None,
              "frame": frame.index, "track": face.track_id}
             for frame, face in alignments.faces()]
    return {"folder": workspace.relative(folder), "faces": faces, "complete": alignments.complete,
            "trashed": len(trashed_faces(folder))}


def training_status(workspace: Workspace, relative: str) -> dict[str, Any]:
    """Preview, loss curve, steps done and an ETA of the model folder's (running or finished) training."""
    model = workspace.resolve(relative, must_exist=True)
    preview = model / "preview.png"
    rows = _metrics_rows(model / "training" / "metrics.csv")
    settings = _json(model / "train_config.json") or _json(model / "training" / "config.json") or {}
    step = int(rows[-1]["step"]) if rows else 0
    return {"model": workspace.relative(model),
            "preview": workspace.relative(preview) if preview.is_file() else None,
            "preview_version": int(preview.stat().st_mtime_ns) if preview.is_file() else 0,
            "step": step, "target_steps": settings.get("steps") or settings.get("max_steps"),
            "curve": _thin([{key: _number(row.get(key)) for key in ("step", *CURVE_KEYS)} for row in rows]),
            "eta_s": _eta(rows, settings), "segmenter_preview": _existing(workspace, model / "segmenter" / "preview.png"),
            "settings": _form_settings(workspace, settings)}


def _form_settings(workspace: Workspace, settings: dict[str, Any]) -> dict[str, Any]:
    """The training's settings as the Train form names them, so a reopened page shows what runs."""
    def inside(path: Any) -> str | None:
        try:
            return workspace.relative(Path(path)) if path else None
        except ValueError:  # a folder outside the workspace (a training started from the terminal)
            return None
    return {"faces_a": inside(settings.get("faces_a")), "faces_b": inside(settings.get("faces_b")),
            "preset": settings.get("preset"), "steps": settings.get("steps"), "minutes": settings.get("minutes"),
            "save_every": settings.get("save_every"), "perceptual": (settings.get("perceptual_weight") or 0) > 0,
            "segmenter": "none" if settings.get("segmenter") == "none" else "train"}


def pictures(workspace: Workspace, relative: str) -> list[str]:
    """The PNGs of a result folder (a classifier run's confusion matrix, filters, feature maps), newest first."""
    folder = workspace.resolve(relative, must_exist=True)
    found = [path for path in folder.rglob("*.png") if "checkpoints" not in path.parts]
    found.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    return [workspace.relative(path) for path in found[:24]]


def _metrics_rows(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="") as handle:
            return [row for row in csv.DictReader(handle) if row.get("step")]
    except FileNotFoundError:
        return []


def _eta(rows: list[dict[str, str]], settings: dict[str, Any]) -> float | None:
    """Seconds left: by the step target at the recent pace, or by --minutes, whichever ends first."""
    if not rows:
        return None
    step, elapsed = _number(rows[-1].get("step")), _number(rows[-1].get("time_s"))
    first_step, first_time = _number(rows[0].get("step")), _number(rows[0].get("time_s"))
    left = []
    if settings.get("steps") and step and elapsed is not None and step > first_step:
        pace = (elapsed - first_time) / (step - first_step)
        left.append(max(0.0, (settings["steps"] - step) * pace))
    if settings.get("minutes") and elapsed is not None:
        left.append(max(0.0, settings["minutes"] * 60 - elapsed))
    return min(left) if left else None


def _thin(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(points) <= MAX_CURVE_POINTS:
        return points
    stride = len(points) / MAX_CURVE_POINTS
    return [points[int(i * stride)] for i in range(MAX_CURVE_POINTS - 1)] + [points[-1]]


def _number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def _existing(workspace: Workspace, path: Path) -> str | None:
    return workspace.relative(path) if path.is_file() else None


def _is_swap_model(workspace: Workspace, relative: str) -> bool:
    info = _json(workspace.resolve(relative) / "model.json") or {}
    return info.get("format") == "faceswap-swap-model"
