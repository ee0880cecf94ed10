"""Scalar metrics from task outputs, and their running averages between log rows."""
from __future__ import annotations

import time
from typing import Any

import torch


def scalar_metrics(outputs: list[dict[str, Any]]) -> dict[str, float]:
    """Mean over micro-batches of every scalar (one-element tensor or number) output."""
    keys, values, numbers = stack_scalars(outputs)
    metrics = dict(zip(keys, values.tolist())) if keys else {}
    metrics.update(numbers)
    return metrics


def stack_scalars(outputs: list[dict[str, Any]]) -> tuple[list[str], torch.Tensor | None, dict[str, float]]:
    """(names, 1-D float tensor of their micro-batch means on the outputs' device, plain-number metrics).

    Kept as one tensor so that the loop reads every metric with a single device sync.
    """
    first = outputs[0]
    keys = [k for k, v in first.items() if isinstance(v, torch.Tensor) and v.numel() == 1]
    values = None
    if keys:
        rows = [torch.stack([out[k].detach().float().reshape(()) for k in keys]) for out in outputs]
        values = rows[0] if len(rows) == 1 else torch.stack(rows).mean(0)
    numbers = {}
    for k, v in first.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            numbers[k] = sum(float(out[k]) for out in outputs) / len(outputs)
    return keys, values, numbers


class MetricWindow:
    """Sums of metrics over the steps since the last log row, and the examples/s over them."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.steps = 0
        self.samples = 0
        self.started = time.monotonic()

    def add(self, metrics: dict[str, float], samples: int) -> None:
        for key, value in metrics.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
        self.steps += 1
        self.samples += samples

    def averages(self) -> dict[str, float]:
        averages = {key: total / self.steps for key, total in self.sums.items()} if self.steps else {}
        seconds = time.monotonic() - self.started
        averages["samples_per_s"] = self.samples / seconds if seconds > 0 else 0.0
        return averages

    def state_dict(self) -> dict[str, Any]:
        return {"sums": self.sums, "steps": self.steps, "samples": self.samples}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "MetricWindow":
        window = cls()
        window.sums = {key: float(value) for key, value in state.get("sums", {}).items()}
        window.steps = int(state.get("steps", 0))
        window.samples = int(state.get("samples", 0))
        return window


class PendingSteps:
    """The steps since the last read, kept on the device so that a step never waits for it.

    Each step adds one small device row (good flag, grad norm, the task's scalars) and its host
    facts (step, lr, plain-number metrics, samples); ``read()`` stacks the rows and reads them all
    with one device sync, returning one ``(step, good, metrics, samples)`` per step, in order.
    """

    def __init__(self) -> None:
        self.rows: list[torch.Tensor] = []
        self.host: list[tuple[int, list[str], dict[str, float], float, int]] = []

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, step: int, good: torch.Tensor, grad_norm: torch.Tensor, keys: list[str], values: torch.Tensor | None,
            numbers: dict[str, float], lr: float, samples: int) -> None:
        parts = [good.detach().float().reshape(1), grad_norm.detach().float().reshape(1)]
        if values is not None:
            parts.append(values.detach().float().reshape(-1).to(good.device))
        self.rows.append(torch.cat(parts))
        self.host.append((step, keys, numbers, lr, samples))

    def read(self) -> list[tuple[int, bool, dict[str, float], int]]:
        if not self.rows:
            return []
        width = max(len(row) for row in self.rows)
        padded = [row if len(row) == width else torch.cat([row, row.new_zeros(width - len(row))]) for row in self.rows]
        table = torch.stack(padded).tolist()  # the one device sync of the interval
        steps = []
        for row, (step, keys, numbers, lr, samples) in zip(table, self.host):
            metrics = dict(zip(keys, row[2:]))
            metrics.update(numbers, lr=lr, grad_norm=row[1])
            steps.append((step, row[0] == 1.0, metrics, samples))
        self.rows, self.host = [], []
        return steps
