"""Trial training steps that leave the task as they found it (the batch-size and thread-count probes).

A probe runs the task's real forward and backward. Afterwards no gradient is left, the task is
back in its train/eval mode, its buffers (counters, running statistics) are put back through
``load_state_dict`` (so a task that mirrors one on the host hears of it) and the CPU random
generator is where it was, so the run that follows is the one it would have been without the probe.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import torch
from torch import nn


@contextlib.contextmanager
def task_left_as_it_was(task: nn.Module) -> Iterator[None]:
    """Put ``task`` in training mode for trial steps; restore its mode, buffers and the CPU generator and drop gradients after."""
    buffer_names = {name for name, _ in task.named_buffers()}
    buffers = {name: value.detach().clone() for name, value in task.state_dict().items() if name in buffer_names}
    was_training = task.training
    task.train()
    try:
        with torch.random.fork_rng(devices=[]):  # dropout and the like draw from the global CPU generator
            yield
    finally:
        task.zero_grad(set_to_none=True)
        task.train(was_training)
        task.load_state_dict(buffers, strict=False)


def trial_step(task: nn.Module, batch: Any, autocast: Callable[[], Any] | None = None) -> None:
    """One forward and backward of ``task`` on ``batch``, in the run's precision; the gradients are dropped."""
    device_type = next(task.parameters()).device.type
    try:
        with autocast() if autocast is not None else torch.autocast(device_type, enabled=False):
            loss = task(batch)["loss"]
        loss.float().backward()
    finally:
        task.zero_grad(set_to_none=True)
