"""The masks swap training learns from: a segmenter's visible face, fitted first when asked.

With ``--segmenter train`` (the default) `faceswap train` fits a Tiramisu on both faces folders
into MODEL_DIR/segmenter, then replaces each training face's mask by what it predicts: the
decoders learn to draw the real face region, and convert finds the segmenter beside the model.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

import torch

from faceswap.errors import UserError
from faceswap.swap.config import SwapTrainConfig

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

    segmenter = load_segmenter(folder, device)
    for start in range(0, len(faces_uint8), BATCH):
        chunk = faces_uint8[start:start + BATCH]
        masks = segmenter.predict_rgb(chunk[:, :3].float() / 255).cpu()[:, 0]
        if chunk.shape[1] >= 5:
            masks = masks * (chunk[:, 4].float() / 255)
        chunk[:, 3] = (masks * 255).round().to(torch.uint8)


def remaining_minutes(config: SwapTrainConfig, spent: float) -> SwapTrainConfig:
    """The config for the swap model's own training: --minutes less the segmenter's time (at least a tenth)."""
    if not config.minutes or spent <= 0:
        return config
    return replace(config, minutes=max(config.minutes - spent, 0.1 * config.minutes))
