"""The optional face-alignment package (FAN landmarks, S3FD detector): import it and find its
weights offline, or say in one sentence what is missing and where it goes."""
from __future__ import annotations

import os
from pathlib import Path

from faceswap.errors import UserError

FAN_WEIGHTS = "2DFAN4"  # 2DFAN4-11f355bf06.pth.tar or 2DFAN4_1.x-*.zip, depending on the face-alignment version
S3FD_WEIGHTS = "s3fd"  # s3fd-619a316812.pth


def checkpoints_dir() -> Path:
    """Where torch hub (and so face-alignment) keeps downloaded weights: $TORCH_HOME/hub/checkpoints,
    worked out as torch.hub does, without importing torch just to say so."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "torch")
    return Path(torch_home).expanduser() / "hub" / "checkpoints"


def import_face_alignment(plugin: str):
    try:
        import face_alignment
    except ImportError as error:
        raise UserError(
            f"The '{plugin}' plugin needs the optional face-alignment package ({error.name or error} is missing); "
            "install it with `pip install 'faceswap-studio[fan]'` or choose another plugin."
        ) from error
    return face_alignment


def require_weights(plugin: str, prefix: str, example: str) -> Path:
    """The weights file for ``prefix`` in the checkpoints folder, or a UserError that says where to put it."""
    folder = checkpoints_dir()
    found = sorted(folder.glob(f"{prefix}*")) if folder.is_dir() else []
    if not found:
        raise UserError(
            f"The '{plugin}' plugin needs its weights file ({example}) in {folder}; copy it there "
            "(face-alignment downloads it there on first use when online) or choose another plugin."
        )
    return found[-1]


def landmarks_type_2d(face_alignment):
    kinds = face_alignment.LandmarksType
    return getattr(kinds, "TWO_D", None) or getattr(kinds, "_2D")
