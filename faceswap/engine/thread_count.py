"""The faster CPU thread count for a task, timed on this machine now (a stage's "auto" threads).

More threads than one help a convolution only while the cores are free: on an idle 2-core
machine the 128 px swap model trains 1.7x faster on 2 threads than on 1, but with one other busy
process 2 threads run 2.2x slower than 1 (a thread team waits for its slowest member).
So auto times a few real training steps at each candidate and keeps the fastest.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any, Callable, Sequence

import torch
from torch import nn

from faceswap.engine.probe import task_left_as_it_was, trial_step

log = logging.getLogger("faceswap.engine")
MORE_THREADS_GAIN = 1.1
TIMED_STEPS = 3  # per candidate, after one untimed step


def fastest_thread_count(task: nn.Module, batch: Any, candidates: Sequence[int], steps: int = TIMED_STEPS,
                         clock: Callable[[], float] = time.perf_counter) -> tuple[int, dict[int, float]]:
    """The candidate thread count whose training step (forward and backward) of ``task`` on ``batch``
    is fastest, with each candidate's seconds per step; torch is left at the chosen count.

    Candidates take turns step by step and each keeps its fastest step, so a burst of other work
    during one step does not decide. More threads must be at least MORE_THREADS_GAIN faster:
    fewer hold up better when other work arrives."""
    counts = sorted(set(candidates))
    timings = {threads: float("inf") for threads in counts}
    with task_left_as_it_was(task):
        for threads in counts:  # untimed: first calls allocate and pick kernels
            torch.set_num_threads(threads)
            trial_step(task, batch)
        for _ in range(steps):
            for threads in counts:
                torch.set_num_threads(threads)
                started = clock()
                trial_step(task, batch)
                timings[threads] = min(timings[threads], clock() - started)
    best = counts[0]
    for threads in counts:
        if timings[threads] < timings[best] / MORE_THREADS_GAIN:
            best = threads
    torch.set_num_threads(best)
    return best, timings


def describe_timings(best: int, timings: dict[int, float]) -> str:
    others = ", ".join(f"{threads}: {seconds:.2f} s" for threads, seconds in sorted(timings.items()) if threads != best)
    return f"{best} ({timings[best]:.2f} s a training step; {others}), timed on this machine now; --threads N fixes it"


def auto_cpu_threads(task: nn.Module, batch: Any, world_size: int = 1) -> int:
    """A stage's threads 0 (auto) on the CPU: the faster of half and all of the cores (per process),
    timed on ``task``'s real step; under torchrun (several processes) half, untimed."""
    cores = os.cpu_count() or 2
    half, whole = max(1, cores // (2 * world_size)), max(1, cores // world_size)
    if world_size > 1 or half == whole:
        return half
    best, timings = fastest_thread_count(task, batch, (half, whole))
    log.info("CPU threads: %s.", describe_timings(best, timings))
    return best
