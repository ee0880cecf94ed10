"""The largest batch that fits: forward and backward steps of doubling size until the device runs out.

Each probe runs the task's real training forward and backward, with the optimiser's state
(two tensors per parameter, as Adam keeps) reserved beside it, so the batch found leaves room
for the real step. An out-of-memory error is caught, everything the probe held is freed, and
the largest batch that ran is the answer. The task comes back as it was (``probe.task_left_as_it_was``).
"""
from __future__ import annotations

import gc
import logging
from typing import Any, Callable

import torch
from torch import nn

from faceswap.engine.probe import task_left_as_it_was, trial_step
from faceswap.errors import UserError

log = logging.getLogger("faceswap.engine")
OPTIMIZER_STATE_COPIES = 2  # Adam's exp_avg and exp_avg_sq


def largest_batch(task: nn.Module, make_batch: Callable[[int], Any], device: torch.device,
                  autocast: Callable[[], Any] | None = None, start: int = 8, limit: int = 1024) -> int:
    """The largest of start, 2*start, 4*start ... (at most ``limit``) whose training step fits on ``device``.

    ``make_batch(n)`` gives a batch of n examples on ``device``; ``autocast()`` the precision context
    of the run. Below ``start`` it halves until one fits; raises UserError when not even 1 does."""
    reserve = [torch.empty_like(p) for p in task.parameters() if p.requires_grad for _ in range(OPTIMIZER_STATE_COPIES)]
    try:
        with task_left_as_it_was(task):
            fits = _largest(task, make_batch, device, autocast, start, limit)
    finally:
        del reserve
        _free(device)
    if fits < 1:
        raise UserError(f"Not even a batch of 1 fits in the memory of {device}; use a smaller model or train on the CPU.")
    return fits


def _largest(task: nn.Module, make_batch: Callable[[int], Any], device: torch.device,
             autocast: Callable[[], Any] | None, start: int, limit: int) -> int:
    fits, size = 0, start
    while size <= limit and _fits(task, make_batch, device, autocast, size):
        fits, size = size, size * 2
    if not fits:
        size = start // 2
        while size >= 1 and not _fits(task, make_batch, device, autocast, size):
            size //= 2
        fits = size
    return fits


def _fits(task: nn.Module, make_batch: Callable[[int], Any], device: torch.device,
          autocast: Callable[[], Any] | None, size: int) -> bool:
    try:
        trial_step(task, make_batch(size), autocast)
        if device.type == "cuda":
            torch.cuda.synchronize(device)  # an asynchronous failure surfaces here, inside the try
        log.info("Batch size %d fits on %s.", size, device)
        return True
    except torch.OutOfMemoryError:
        log.info("Batch size %d does not fit on %s.", size, device)
        return False
    finally:
        _free(device)


def _free(device: torch.device) -> None:
    if device.type == "cuda":
        gc.collect()  # the failed step's frames may hold device tensors until collected
        torch.cuda.empty_cache()
