"""Helpers shared by the swap tests (no tests here): small faces folders cut from the extracted ones."""
from __future__ import annotations

import shutil
from pathlib import Path

from faceswap.align import alignments as alignments_file

# Small layout for runs that test mechanics rather than quality: a few milliseconds per step.
TINY_MODEL = {"encoder_widths": (8, 16, 32, 64), "bottleneck": 32, "decoder_widths": (16, 8, 4)}


def faces_subset(source: str | Path, target: str | Path, count: int) -> Path:
    """Copy ``count`` evenly spaced faces (crops, masks, alignments) of a faces folder."""
    source, target = Path(source), Path(target)
    alignments = alignments_file.load(source)
    frames = [frame for frame in alignments.frames if frame.faces]
    step = max(1, len(frames) // count)
    alignments.frames = frames[::step][:count]
    for _, face in alignments.faces():
        for relative in (face.face_file, face.mask_file):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, target / relative)
    alignments.save(alignments_file.alignments_path(target))
    return target
