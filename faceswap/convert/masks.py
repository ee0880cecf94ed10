"""Which mask convert blends through, looked up in the ``masker`` registry.

``--mask auto`` takes the segmenter that `faceswap train` stored in the model folder (the
visible face: hands and objects in front of it stay as they were), and the model's learned
mask within the landmark outline for models trained without one. Any masker plugin can be
named, plus ``learned`` (the decoder's own mask) and ``combined``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceswap.errors import UserError

MODEL_SEGMENTER = "segmenter"  # MODEL_DIR/segmenter, where `faceswap train` stores the one it fits
OWN_KINDS = ("auto", "learned", "combined")


@dataclass(frozen=True)
class MaskChoice:
    kind: str  # "learned", "combined" (learned within the landmark mask) or "masker"
    masker: str | None  # a masker plugin name for "masker" and "combined"
    segmenter_dir: str | None


def choose_mask(mask: str, model_dir: str, segmenter: str | None) -> MaskChoice:
    landmark_masker = "outline"  # fits 5 and 68 landmarks alike; name --mask hull for the 68-point hull
    segmenter_dir = segmenter or str(Path(model_dir) / MODEL_SEGMENTER)
    if mask == "learned":
        return MaskChoice("learned", None, None)
    if mask == "combined":
        return MaskChoice("combined", landmark_masker, None)
    if mask == "auto":
        if segmenter or (Path(segmenter_dir) / "segmenter.json").is_file():
            return MaskChoice("masker", "segmenter", segmenter_dir)
        return MaskChoice("combined", landmark_masker, None)
    return MaskChoice("masker", mask, segmenter_dir)


def build_masker(choice: MaskChoice, device):
    """The masker plugin for ``choice`` (None for the learned mask alone)."""
    from faceswap.registry import get

    if choice.masker is None:
        return None
    return get("masker", choice.masker)(segmenter_dir=choice.segmenter_dir, device=device)


def combine(choice: MaskChoice, learned_HW_float01: np.ndarray, masker_HW_uint8: np.ndarray | None) -> np.ndarray:
    """The mask to feather, (size, size) float32 in [0, 1]."""
    if choice.kind == "learned" or masker_HW_uint8 is None:
        return learned_HW_float01
    drawn = masker_HW_uint8.astype(np.float32) / 255.0
    return np.minimum(learned_HW_float01, drawn) if choice.kind == "combined" else drawn


def check_mask_name(mask: str) -> None:
    from faceswap.registry import names

    if mask not in OWN_KINDS and mask not in names("masker"):
        raise UserError(f"--mask '{mask}' is not known; choose {', '.join(OWN_KINDS)} or a masker: {', '.join(names('masker'))}.")
