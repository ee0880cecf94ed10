"""The single-frame convert preview: one frame through the real convert pipeline, in the server.

It is convert itself (same model loading, masks, colour matching, blending) on ``--frames N:N+1``
with ``--preview 1``, so the picture is exactly what the whole run would give for that frame:
before | after side by side (faceswap/convert/side_by_side.py). Torch is imported on the first
preview only; one preview runs at a time.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from pathlib import Path

from faceswap.errors import UserError
from faceswap.ui.commands import PreviewRequest, _faces_folder, _model_folder
from faceswap.ui.workspace import Workspace

_ONE_AT_A_TIME = threading.Lock()
KEEP_PREVIEWS = 20


def convert_preview(request: PreviewRequest, workspace: Workspace) -> dict[str, object]:
    from faceswap.convert import ConvertConfig, convert

    source = workspace.resolve(request.input, must_exist=True)
    model = _model_folder(workspace, request.model)
    alignments = str(_faces_folder(workspace, request.alignments)) if request.alignments else None
    workspace.previews_dir.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(repr(sorted(request.model_dump().items())).encode()).hexdigest()[:12]
    target = workspace.previews_dir / f"frame_{request.frame:06d}_{key}.png"
    with _ONE_AT_A_TIME, tempfile.TemporaryDirectory(dir=workspace.previews_dir, prefix=".convert-") as scratch:
        output = Path(scratch) / "frame"  # no suffix: the png_folder writer, no encoder to start
        summary = convert(ConvertConfig(input=str(source), model_dir=str(model), output=str(output), alignments=alignments,
                                        mask=request.mask, color=request.color, frames=f"{request.frame}:{request.frame + 1}",
                                        preview=1, progress=False))
        if not summary.previews:
            raise UserError(f"Frame {request.frame} of '{request.input}' could not be converted (the video has "
                            f"{summary.frames} frames from there); choose an earlier frame.")
        shutil.move(summary.previews[0], target)
    _prune(workspace.previews_dir)
    return {"image": workspace.relative(target), "faces_swapped": summary.faces_swapped, "mask": summary.mask,
            "seconds": round(summary.seconds, 2), "warnings": summary.warnings}


def _prune(folder: Path) -> None:
    for old in sorted(folder.glob("frame_*.png"), key=lambda path: path.stat().st_mtime)[:-KEEP_PREVIEWS]:
        old.unlink(missing_ok=True)
