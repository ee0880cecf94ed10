"""NaN/Inf guard: skip a step whose loss or gradient is not finite, lower the LR, and after
several bad steps in a row put back the last good weights and optimiser state.

The skip itself happens on the device (the trainer passes the step's "not finite" flag to a
fused optimiser); the guard hears about the steps once per log interval, when the trainer reads
them, and then lowers the LR, counts, restores, and takes a snapshot after an all-good interval.
"""
from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn

from faceswap.errors import UserError

log = logging.getLogger("faceswap.engine")

MAX_RESTORES_WITHOUT_PROGRESS = 3


def _to_cpu(tree: Any) -> Any:
    if isinstance(tree, torch.Tensor):
        return tree.detach().to("cpu", copy=True)
    if isinstance(tree, dict):
        return {key: _to_cpu(value) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_to_cpu(value) for value in tree)
    return tree


class NonFiniteGuard:
    def __init__(self, max_bad_steps: int, lr_factor: float, snapshot_every: int):
        self.max_bad_steps = max_bad_steps
        self.lr_factor = lr_factor
        self.snapshot_every = snapshot_every
        self.bad_in_a_row = 0
        self.skipped_steps = 0
        self.restores_in_a_row = 0
        self._snapshot: tuple[int, dict, dict] | None = None

    def take_snapshot(self, task: nn.Module, optimizer: torch.optim.Optimizer, step: int) -> None:
        self._snapshot = (step, _to_cpu(task.state_dict()), _to_cpu(optimizer.state_dict()))

    def good_step(self) -> None:
        self.bad_in_a_row = 0
        self.restores_in_a_row = 0

    def snapshot_if_due(self, task: nn.Module, optimizer: torch.optim.Optimizer, step: int) -> None:
        """After an interval of good steps: a new snapshot once ``snapshot_every`` steps have passed."""
        last = self._snapshot[0] if self._snapshot is not None else None
        if last is None or step - last >= self.snapshot_every:
            self.take_snapshot(task, optimizer, step)

    def bad_step(self, task: nn.Module, optimizer: torch.optim.Optimizer, schedule: Any, step: int) -> None:
        """Called instead of the optimiser step when the loss or gradient norm is not finite."""
        self.bad_in_a_row += 1
        self.skipped_steps += 1
        schedule.lower(self.lr_factor)
        log.warning("Step %d: non-finite loss or gradient; step skipped, learning-rate factor now %.3g.",
                    step, schedule.guard_factor)
        if self.bad_in_a_row >= self.max_bad_steps:
            self._restore(task, optimizer, step)

    def _restore(self, task: nn.Module, optimizer: torch.optim.Optimizer, step: int) -> None:
        self.bad_in_a_row = 0
        self.restores_in_a_row += 1
        if self._snapshot is None or self.restores_in_a_row > MAX_RESTORES_WITHOUT_PROGRESS:
            raise UserError(f"Training diverged at step {step}: the loss stays non-finite even after restoring "
                            "the last good state; lower --lr, set --grad-clip or use --precision fp32.")
        good_step, model_state, optimizer_state = self._snapshot
        task.load_state_dict(model_state)
        optimizer.load_state_dict(optimizer_state)
        log.warning("Step %d: %d non-finite steps in a row; restored the last good state from step %d.",
                    step, self.max_bad_steps, good_step)

    def state_dict(self) -> dict[str, int]:
        return {"skipped_steps": self.skipped_steps}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.skipped_steps = int(state.get("skipped_steps", 0))
