"""Auto CPU threads: the faster of the candidate thread counts, timed on the task's real step, and
the task left as it was."""
from __future__ import annotations

import itertools
import logging

import pytest
import torch
from torch import nn

from faceswap.engine.thread_count import auto_cpu_threads, fastest_thread_count


class CountingTask(nn.Module):
    """Counts its calls in a buffer, as the swap task does, and draws dropout from the global generator."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 1))
        self.register_buffer("calls", torch.zeros((), dtype=torch.int64))
        self.threads_seen: list[int] = []

    def forward(self, batch):
        self.calls += 1
        self.threads_seen.append(torch.get_num_threads())
        return {"loss": self.net(batch).square().mean()}


def _clock(seconds_per_candidate: list[float], steps: int = 3, burst: float = 0.0):
    """A clock whose timed steps take each candidate's seconds, candidates taking turns step by step;
    the first timed step of the last candidate takes ``burst`` longer (other work on the machine)."""
    last = len(seconds_per_candidate) - 1
    spans = [seconds + (burst if step == 0 and index == last else 0.0) for step in range(steps)
             for index, seconds in enumerate(seconds_per_candidate)]
    ticks = itertools.chain.from_iterable((0.0, span) for span in spans)
    return lambda: next(ticks)


@pytest.fixture
def keep_torch_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_the_faster_thread_count_is_kept_and_the_task_is_left_as_it_was(keep_torch_threads):
    task = CountingTask().eval()
    batch = torch.randn(6, 4)
    rng_before = torch.random.get_rng_state()
    best, timings = fastest_thread_count(task, batch, (2, 1), clock=_clock([0.6, 0.3]))
    assert best == 2 and timings == {1: 0.6, 2: 0.3} and torch.get_num_threads() == 2
    assert task.threads_seen == [1, 2, 1, 2, 1, 2, 1, 2]  # one untimed step each, then three timed, taking turns
    assert int(task.calls) == 0 and not task.training and all(p.grad is None for p in task.parameters())
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # the dropout draws are undone too


def test_more_threads_must_be_clearly_faster(keep_torch_threads):
    best, _ = fastest_thread_count(CountingTask(), torch.randn(6, 4), (1, 2), clock=_clock([0.50, 0.47]))
    assert best == 1 and torch.get_num_threads() == 1  # 6% faster is not worth a team that stalls when a core is taken
    best, _ = fastest_thread_count(CountingTask(), torch.randn(6, 4), (1, 2), clock=_clock([0.50, 0.40]))
    assert best == 2
    best, timings = fastest_thread_count(CountingTask(), torch.randn(6, 4), (1, 2), clock=_clock([0.50, 0.40], burst=1.0))
    assert best == 2 and timings[2] == 0.40  # a burst of other work in one step does not decide


def test_auto_times_half_and_all_the_cores_and_says_so(monkeypatch, caplog, keep_torch_threads):
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    task = CountingTask()
    with caplog.at_level(logging.INFO, logger="faceswap.engine"):
        chosen = auto_cpu_threads(task, torch.randn(6, 4))
    assert chosen in (2, 4) and sorted(set(task.threads_seen)) == [2, 4]
    assert "CPU threads:" in caplog.text and "--threads N fixes it" in caplog.text
    untimed = CountingTask()
    assert auto_cpu_threads(untimed, torch.randn(6, 4), world_size=2) == 1 and untimed.threads_seen == []  # torchrun: half per process
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert auto_cpu_threads(untimed, torch.randn(6, 4)) == 1 and untimed.threads_seen == []  # one core: nothing to choose
