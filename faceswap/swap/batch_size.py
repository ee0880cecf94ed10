"""The batch size of a swap training run: as asked, the resumed run's, or found for the device (auto).

Auto is CPU_BATCH on the CPU (a CPU step gains little from larger batches and a small one keeps
the loss moving), and on a GPU the largest power of two whose real training step (augmentation,
model, loss, backward, with room for Adam's state) fits, found by doubling until out of memory.
A resumed run keeps the batch size it was started with, so its data order goes on unchanged.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import torch
from torch import nn

from faceswap.swap.config import SwapTrainConfig

log = logging.getLogger("faceswap.swap")
CPU_BATCH = 8
AUTO_START, AUTO_LIMIT = 8, 1024


def training_device(device: str) -> torch.device:
    """The device this process trains on (under torchrun: LOCAL_RANK's GPU), as the engine picks it."""
    from faceswap.engine.distributed import device_for_rank, dist_info_from_env
    from faceswap.runtime import pick_device

    return device_for_rank(pick_device(device), dist_info_from_env())


def resolve_batch_size(config: SwapTrainConfig, task: nn.Module, device: torch.device, pairs: int) -> int:
    """``config.batch_size``, or for auto (0): the resumed run's, CPU_BATCH off a GPU, else the largest that fits."""
    if config.batch_size > 0:
        return config.batch_size
    resumed = _resumed_batch_size(Path(config.model_dir)) if config.resume else None
    if resumed is not None:
        return resumed
    if device.type != "cuda":
        return CPU_BATCH
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    limit = max(AUTO_START, min(AUTO_LIMIT, pairs // world_size))  # no batch larger than the data
    found = probe_batch_size(task, device, config.precision, limit)
    log.info("Batch size %d: the largest power of two up to %d whose training step fits on %s.", found, limit, device)
    return found


def probe_batch_size(task: nn.Module, device: torch.device, precision: str, limit: int = AUTO_LIMIT) -> int:
    """The largest batch (AUTO_START doubled, at most ``limit``) whose training step of the swap ``task`` fits on ``device``."""
    from faceswap.engine.batch_size import largest_batch
    from faceswap.engine.precision import resolve_precision

    size = task.region_weights.shape[-1]

    def make_batch(count: int):  # the pixels do not change the memory a step takes
        faces = torch.full((count, 5, size, size), 128, dtype=torch.uint8, device=device)
        return faces, faces.clone()

    task.to(device)
    return largest_batch(task, make_batch, device, resolve_precision(precision, device).autocast, start=AUTO_START, limit=limit)


def _resumed_batch_size(model_dir: Path) -> int | None:
    from faceswap.engine.checkpoint import STATE_FILE, find_latest_checkpoint
    from faceswap.errors import UserError
    from faceswap.fileio import read_json
    from faceswap.swap.model_dir import TRAINING_DIR

    latest = find_latest_checkpoint(model_dir / TRAINING_DIR)
    if latest is None:
        return None
    try:
        value = read_json(latest / STATE_FILE, "checkpoint state").get("config", {}).get("batch_size")
    except (UserError, AttributeError):
        return None  # the engine names a damaged checkpoint when it loads it
    return value if isinstance(value, int) and value > 0 else None
