"""The masks swap training learns from: a segmenter's visible face, fitted first when asked.

With ``--segmenter train`` (the default) `faceswap train` fits a Tiramisu on both faces folders
into MODEL_DIR/segmenter, then replaces each training face's mask by what it predicts: the
decoders learn to draw the real face region, and convert finds the segmenter beside the model.
The predicted masks are written into the face cache in place, which records whose they are (a
hash of the segmenter's weights): a later run with the same segmenter reuses them, another
segmenter rewrites them, and a run interrupted while writing them is noticed.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

import torch

from faceswap.errors import UserError
from faceswap.swap.config import SwapTrainConfig
from faceswap.swap.face_cache import FaceCache, locked, reread_masks, set_masks

log = logging.getLogger("faceswap.swap")
SEGMENTER_DIR = "segmenter"
SEGMENTER_SHARE = 0.25  # of --minutes, when no --segmenter-minutes is given
BATCH = 64


def prepare_segmenter(config: SwapTrainConfig, model_dir: Path, is_main: bool) -> tuple[Path | None, float]:
    """(the segmenter folder to use, or None for extract's masks; minutes spent training it)."""
    from faceswap.segment.folder import read_info

    if config.segmenter == "none":
        return None, 0.0
    target = model_dir / SEGMENTER_DIR
    if config.segmenter != "train":
        read_info(config.segmenter)  # a wrong folder fails here with one clear sentence
        if is_main and Path(config.segmenter).resolve() != target.resolve():
            _copy_folder(Path(config.segmenter), target)
        return target, 0.0
    if _finished(target):
        log.info("Using the segmenter trained before in %s.", target)
        return target, 0.0
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UserError("Under torchrun the segmenter cannot be fitted on the way; train it first with "
                        "`faceswap mask train -i FACES_A FACES_B -o SEG` and pass --segmenter SEG (or --segmenter none).")
    started = time.monotonic()
    _train(config, target)
    return target, (time.monotonic() - started) / 60


def _train(config: SwapTrainConfig, target: Path) -> None:
    from faceswap.segment import SegmentTrainConfig, train_segmenter

    minutes = config.segmenter_minutes or (SEGMENTER_SHARE * config.minutes if config.minutes else None)
    log.info("Fitting the face segmenter first (%s) -> %s", f"{minutes:.1f} minutes" if minutes else
             f"{config.segmenter_steps} steps", target)
    train_segmenter(SegmentTrainConfig(
        faces=(config.faces_a, config.faces_b), out_dir=str(target), steps=config.segmenter_steps, minutes=minutes,
        device=config.device, threads=config.threads, seed=config.seed, resume=(target / "training").exists(),
        progress=config.progress))


def _finished(folder: Path) -> bool:
    from faceswap.fileio import read_json
    from faceswap.segment.folder import INFO_FILE, WEIGHTS_FILE

    if not (folder / INFO_FILE).is_file() or not (folder / WEIGHTS_FILE).is_file():
        return False
    return bool(read_json(folder / INFO_FILE, "segmenter description").get("finished"))


def _copy_folder(source: Path, target: Path) -> None:
    """Copy a segmenter's description and weights into the model folder (temp folder, then rename)."""
    from faceswap.segment.folder import INFO_FILE, PREVIEW_FILE, WEIGHTS_FILE

    staging = target.with_name(f".{target.name}.incoming")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in (INFO_FILE, WEIGHTS_FILE, PREVIEW_FILE):
        if (source / name).is_file():
            shutil.copy2(source / name, staging / name)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def apply_segmenter(folder: Path, faces_uint8: torch.Tensor, device: str) -> None:
    """Replace the mask channel of (N, 4+, S, S) uint8 RGB faces by the segmenter's, in place;
    pixels from outside the frame (fifth channel) are never face."""
    from faceswap.segment import load_segmenter

    _write_masks(load_segmenter(folder, device), faces_uint8)


def _write_masks(segmenter, faces_uint8: torch.Tensor) -> None:
    for start in range(0, len(faces_uint8), BATCH):
        chunk = faces_uint8[start:start + BATCH]
        masks = segmenter.predict_rgb(chunk[:, :3].float() / 255).cpu()[:, 0]
        if chunk.shape[1] >= 5:
            masks = masks * (chunk[:, 4].float() / 255)
        chunk[:, 3] = (masks * 255).round().to(torch.uint8)


def segmenter_id(folder: Path) -> str:
    """Names a segmenter by its weights: "segmenter:<hash>"."""
    from faceswap.segment.folder import WEIGHTS_FILE

    digest = hashlib.sha256()
    with open(Path(folder) / WEIGHTS_FILE, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"segmenter:{digest.hexdigest()[:16]}"


def apply_segmenter_to_cache(folder: Path, cache: FaceCache, device: str) -> FaceCache:
    """Write the segmenter's masks into channel 3 of a face cache, unless it holds this segmenter's already."""
    from faceswap.segment import load_segmenter

    wanted = segmenter_id(folder)
    with locked(cache.path.parent):  # DDP ranks: the first writes, the others find it done
        cache = reread_masks(cache)
        if cache.masks == wanted:
            log.info("Training masks: reusing the segmenter's in %s.", cache.path)
            return cache
        started = time.monotonic()
        segmenter = load_segmenter(folder, device)
        cache = set_masks(cache, None)  # a run killed midway leaves a cache that says so
        for block in cache.writable_blocks():
            _write_masks(segmenter, torch.from_numpy(block))
        cache = set_masks(cache, wanted)
    log.info("Segmenter masks written into %s (%d faces, %.0f s).", cache.path, cache.count, time.monotonic() - started)
    return cache


def remaining_minutes(config: SwapTrainConfig, spent: float) -> SwapTrainConfig:
    """The config for the swap model's own training: --minutes less the segmenter's time (at least a tenth)."""
    if not config.minutes or spent <= 0:
        return config
    return replace(config, minutes=max(config.minutes - spent, 0.1 * config.minutes))
