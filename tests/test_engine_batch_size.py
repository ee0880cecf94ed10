"""Device-aware defaults of the engine: the largest batch found by doubling until out of memory,
checkpoints by time, and a checkpoint that writes its weights once."""
from __future__ import annotations

import json
import os

import pytest
import torch
from torch import nn

from faceswap.engine import TrainConfig, Trainer
from faceswap.engine.batch_size import largest_batch
from faceswap.errors import UserError
from test_engine_train import Regression, regression_data


class RunsOutAbove(nn.Module):
    """A task whose step needs more memory than the device has above ``capacity`` examples: it raises
    the error CUDA raises then, after allocating; it counts its calls in a buffer, as the swap task does."""

    def __init__(self, capacity: int):
        super().__init__()
        self.capacity = capacity
        self.net = nn.Linear(4, 1)
        self.register_buffer("calls", torch.zeros((), dtype=torch.int64))
        self.sizes: list[int] = []

    def forward(self, batch):
        self.calls += 1
        self.sizes.append(len(batch))
        loss = self.net(batch).square().mean()
        if len(batch) > self.capacity:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return {"loss": loss}


def test_the_largest_batch_is_found_by_doubling_and_the_task_is_left_as_it_was():
    task = RunsOutAbove(capacity=100)
    found = largest_batch(task, lambda n: torch.randn(n, 4), torch.device("cpu"), start=8, limit=1024)
    assert found == 64 and task.sizes == [8, 16, 32, 64, 128]
    assert int(task.calls) == 0 and all(p.grad is None for p in task.parameters())
    small = RunsOutAbove(capacity=3)  # below the start: halve until one fits
    assert largest_batch(small, lambda n: torch.randn(n, 4), torch.device("cpu"), start=8) == 2
    assert small.sizes == [8, 4, 2]
    assert largest_batch(RunsOutAbove(10**6), lambda n: torch.randn(n, 4), torch.device("cpu"), start=8, limit=40) == 32
    with pytest.raises(UserError, match="Not even a batch of 1"):
        largest_batch(RunsOutAbove(0), lambda n: torch.randn(n, 4), torch.device("cpu"))


def _config(tmp_path, **overrides) -> TrainConfig:
    settings = dict(out_dir=str(tmp_path / "run"), epochs=3, batch_size=16, lr=1e-2, log_every=2, progress=False,
                    device="cpu", threads=1, tensorboard=False)
    settings.update(overrides)
    return TrainConfig(**settings)


def _step_folders(tmp_path) -> list[str]:
    return sorted(path.name for path in (tmp_path / "run" / "checkpoints").glob("step_*"))


def test_checkpoints_by_time_replace_those_of_each_epoch(tmp_path, monkeypatch):
    from faceswap.engine import trainer as trainer_module

    clock = {"now": 1000.0}
    monkeypatch.setattr(trainer_module.time, "monotonic", lambda: clock["now"])

    class Ticking(Regression):
        def forward(self, batch):
            clock["now"] += 25.0  # each step takes 25 s by the trainer's clock
            return super().forward(batch)

    Trainer(Ticking(), _config(tmp_path, save_minutes=1.0, keep_last=10)).fit(regression_data(64))  # 4 steps an epoch
    assert _step_folders(tmp_path) == ["step_00000003", "step_00000006", "step_00000009", "step_00000012"]
    with pytest.raises(UserError, match="save_minutes"):
        _config(tmp_path, save_minutes=0)


def test_a_checkpoint_of_the_best_step_links_its_weights(tmp_path):
    trainer = Trainer(Regression(), _config(tmp_path, epochs=2, eval_every=4, save_every=4, keep_last=5))
    trainer.fit(regression_data(64), regression_data(32, seed=1))
    checkpoints = tmp_path / "run" / "checkpoints"
    best_step = json.loads((checkpoints / "best" / "state.json").read_text())["step"]
    best = checkpoints / "best" / "model.safetensors"
    step = checkpoints / f"step_{best_step:08d}" / "model.safetensors"
    assert os.path.samefile(best, step)  # written once, under two names
    others = [path / "model.safetensors" for path in checkpoints.glob("step_*") if path.name != step.parent.name]
    assert others and not any(os.path.samefile(best, other) for other in others)
    resumed = Trainer(Regression(), _config(tmp_path, epochs=3, eval_every=4, save_every=4, keep_last=5, resume=True))
    resumed.fit(regression_data(64), regression_data(32, seed=1))
    assert resumed.step == 12
