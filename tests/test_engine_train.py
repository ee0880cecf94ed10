"""Engine unit tests on a tiny synthetic regression task: training, checkpoints, logging, guard."""
from __future__ import annotations

import csv
import json
import logging
import math
import time

import pytest
import torch
from safetensors.torch import load_file
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from faceswap.engine import Callback, TrainConfig, Trainer, best_model_path, latest_model_path, load_model_weights
from faceswap.errors import UserError


class Regression(nn.Module):
    """y = sum(x) with a small MLP; returns loss and mean absolute error."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, batch):
        x, y = batch
        prediction = self.net(x).squeeze(1)
        return {"loss": nn.functional.mse_loss(prediction, y), "mae": (prediction - y).abs().mean()}


def regression_data(n: int, seed: int = 0) -> TensorDataset:
    x = torch.randn(n, 8, generator=torch.Generator().manual_seed(seed))
    return TensorDataset(x, x.sum(1))


class DictDataset(Dataset):
    """A map-style dataset of dict samples (goes through the DataLoader's collate path)."""

    def __init__(self, data: TensorDataset):
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index):
        x, y = self.data[index]
        return {"x": x, "y": y}


class DictRegression(Regression):
    def forward(self, batch):
        return super().forward((batch["x"], batch["y"]))


def config(tmp_path, **overrides) -> TrainConfig:
    settings = dict(out_dir=str(tmp_path / "run"), epochs=4, batch_size=16, lr=1e-2, log_every=4, progress=False,
                    device="cpu", threads=1)
    settings.update(overrides)
    return TrainConfig(**settings)


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_loss_decreases_and_metrics_are_logged(tmp_path):
    torch.manual_seed(0)
    trainer = Trainer(Regression(), config(tmp_path, epochs=6))
    metrics = trainer.fit(regression_data(256), regression_data(64, seed=1))
    rows = read_csv(tmp_path / "run" / "metrics.csv")
    train_losses = [float(row["loss"]) for row in rows if row["loss"]]
    val_losses = [float(row["val_loss"]) for row in rows if row["val_loss"]]
    assert train_losses[-1] < 0.25 * train_losses[0]
    assert len(val_losses) == 6 and val_losses[-1] < 0.25 * val_losses[0]
    assert metrics["val_loss"] == pytest.approx(val_losses[-1], rel=1e-5)
    assert all(float(row["samples_per_s"]) > 0 for row in rows if row["loss"])
    assert trainer.step == 6 * 16 and trainer.task.training
    assert json.loads((tmp_path / "run" / "config.json").read_text())["batch_size"] == 16


def test_validation_metrics_are_batch_weighted_means(tmp_path):
    trainer = Trainer(Regression(), config(tmp_path))
    data = regression_data(37)  # 16 + 16 + 5: a short last batch
    with torch.no_grad():
        expected = trainer.task((data.tensors[0], data.tensors[1]))
    metrics = trainer.evaluate(data)
    assert metrics["val_loss"] == pytest.approx(expected["loss"].item(), rel=1e-5)
    assert metrics["val_mae"] == pytest.approx(expected["mae"].item(), rel=1e-5)


def test_checkpoints_load_without_pickle_and_keep_last_and_best(tmp_path):
    torch.manual_seed(0)
    seen = []

    class Record(Callback):
        def on_checkpoint(self, trainer, step, path):
            seen.append((step, path.name))

    trainer = Trainer(Regression(), config(tmp_path, save_every=5, eval_every=3, keep_last=2), callbacks=[Record()])
    trainer.fit(regression_data(128), regression_data(32, seed=1))
    checkpoints = tmp_path / "run" / "checkpoints"
    assert sorted(p.name for p in checkpoints.glob("step_*")) == ["step_00000030", "step_00000032"]
    assert not list(checkpoints.glob(".*")), "temporary folders were left behind"
    assert seen[0] == (5, "step_00000005") and seen[-1] == (32, "step_00000032")
    assert json.loads((checkpoints / "latest.json").read_text())["dir"] == "step_00000032"
    folder = checkpoints / "step_00000032"
    weights = load_file(folder / "model.safetensors")
    assert torch.equal(weights["net.0.weight"], trainer.task.net[0].weight.detach())
    trainer_state = torch.load(folder / "trainer_state.pt", weights_only=True)
    assert set(trainer_state) >= {"optimizer", "rng", "schedule"}
    state = json.loads((folder / "state.json").read_text())
    assert state["step"] == 32 and state["epoch"] == 4 and state["config"]["keep_last"] == 2
    # best: the lowest val_loss of all evaluations
    val_losses = [float(r["val_loss"]) for r in read_csv(tmp_path / "run" / "metrics.csv") if r["val_loss"]]
    best_state = json.loads((checkpoints / "best" / "state.json").read_text())
    assert best_state["best_value"] == pytest.approx(min(val_losses), rel=1e-5)
    assert best_model_path(tmp_path / "run") == checkpoints / "best" / "model.safetensors"
    assert latest_model_path(tmp_path / "run") == folder / "model.safetensors"
    fresh = load_model_weights(Regression(), latest_model_path(tmp_path / "run"))
    assert torch.equal(fresh.net[2].weight, trainer.task.net[2].weight.detach())


def test_dict_batches_grad_accumulation_clipping_and_schedule(tmp_path):
    torch.manual_seed(0)
    lrs = []

    class RecordLR(Callback):
        def on_step_end(self, trainer, step, metrics):
            lrs.append(metrics["lr"])

    cfg = config(tmp_path, epochs=2, batch_size=8, grad_accum=3, grad_clip=0.5, schedule="cosine", warmup_steps=2,
                 optimizer="sgd", lr=0.05, num_workers=1)
    trainer = Trainer(DictRegression(), cfg, callbacks=[RecordLR()])
    trainer.fit(DictDataset(regression_data(64)))
    steps_per_epoch = math.ceil(8 / 3)  # 8 batches -> 3 steps, the last one short
    assert trainer.step == 2 * steps_per_epoch == len(lrs)
    assert lrs[0] == pytest.approx(0.025) and lrs[1] == pytest.approx(0.05)
    assert lrs[-1] < lrs[3] < lrs[2] == pytest.approx(0.05)  # cosine decay after the warm-up
    rows = read_csv(tmp_path / "run" / "metrics.csv")
    assert max(float(r["grad_norm"]) for r in rows) > 0


class NaNAtSteps(Regression):
    """Returns a NaN loss (or, with grad_only, NaN gradients) at the given forward calls."""

    def __init__(self, bad_calls: set[int], grad_only: bool = False):
        super().__init__()
        self.bad_calls, self.grad_only, self.calls = bad_calls, grad_only, 0

    def forward(self, batch):
        outputs = super().forward(batch)
        self.calls += 1
        if self.training and self.calls in self.bad_calls:
            if self.grad_only:
                handles = []

                def poison_once(grad):
                    handles.pop().remove()
                    return grad * float("nan")

                handles.append(self.net[0].weight.register_hook(poison_once))
            else:
                outputs["loss"] = outputs["loss"] * float("nan")
        return outputs


@pytest.mark.parametrize("grad_only", [False, True])
def test_nan_guard_skips_steps_and_lowers_lr(tmp_path, caplog, grad_only):
    torch.manual_seed(0)
    task = NaNAtSteps({3, 4}, grad_only=grad_only)
    trainer = Trainer(task, config(tmp_path, epochs=3))
    with caplog.at_level(logging.WARNING, logger="faceswap.engine"):
        trainer.fit(regression_data(128))
    assert trainer.guard.skipped_steps == 2
    assert trainer.schedule.guard_factor == pytest.approx(0.25)
    assert trainer.lr == pytest.approx(1e-2 * 0.25)
    assert all(torch.isfinite(p).all() for p in trainer.task.parameters())
    assert sum("non-finite" in r.message for r in caplog.records) == 2
    rows = read_csv(tmp_path / "run" / "metrics.csv")
    assert all(math.isfinite(float(r["loss"])) for r in rows if r["loss"])
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])


def test_nan_guard_restores_last_good_state_after_repeats(tmp_path, caplog):
    torch.manual_seed(0)
    task = NaNAtSteps({7, 8, 9})
    # the guard hears of bad steps once per log interval: log every step to see it act at step 9
    trainer = Trainer(task, config(tmp_path, epochs=2, nan_max_bad_steps=3, snapshot_every=5, log_every=1))
    snapshots = []
    original = trainer.guard.take_snapshot

    def record(task, optimizer, step):
        snapshots.append((step, {k: v.clone() for k, v in task.state_dict().items()}))
        original(task, optimizer, step)

    trainer.guard.take_snapshot = record
    restored = {}

    class Capture(Callback):
        def on_step_end(self, trainer, step, metrics):
            if step == 9:
                restored.update({k: v.clone() for k, v in trainer.task.state_dict().items()})

    trainer.callbacks.callbacks.append(Capture())
    with caplog.at_level(logging.WARNING, logger="faceswap.engine"):
        trainer.fit(regression_data(128))
    assert any("restored the last good state from step 5" in r.message for r in caplog.records)
    step5 = dict(snapshots)[5]
    assert all(torch.equal(restored[k], step5[k]) for k in step5)
    assert all(torch.isfinite(p).all() for p in trainer.task.parameters())


def test_always_nan_task_ends_with_a_clear_error(tmp_path):
    task = NaNAtSteps(set(range(1, 1000)))
    trainer = Trainer(task, config(tmp_path, epochs=5, nan_max_bad_steps=2))
    with pytest.raises(UserError, match="diverged"):
        trainer.fit(regression_data(128))


def test_stop_conditions_and_existing_run(tmp_path):
    trainer = Trainer(Regression(), config(tmp_path, epochs=None, max_steps=5))
    trainer.fit(regression_data(64))
    assert trainer.step == 5
    with pytest.raises(UserError, match="--resume"):
        Trainer(Regression(), config(tmp_path, epochs=None, max_steps=5)).fit(regression_data(64))
    resumed = Trainer(Regression(), config(tmp_path, epochs=None, max_steps=9, resume=True))
    resumed.fit(regression_data(64))
    assert resumed.step == 9
    rows = read_csv(tmp_path / "run" / "metrics.csv")
    assert [int(r["step"]) for r in rows] == [4, 5, 8, 9]
    timed = Trainer(Regression(), config(tmp_path / "t", epochs=None, max_minutes=0.005))
    started = time.monotonic()
    timed.fit(regression_data(64))
    assert timed.step >= 1 and 0.3 <= time.monotonic() - started < 30
    with pytest.raises(UserError, match="no end"):
        TrainConfig(epochs=None)


def test_resume_ignores_a_step_folder_that_latest_json_never_pointed_at(tmp_path):
    import shutil

    Trainer(Regression(), config(tmp_path, epochs=None, max_steps=4, save_every=2)).fit(regression_data(64))
    checkpoints = tmp_path / "run" / "checkpoints"
    # as if killed between renaming step 6 into place and updating latest.json
    shutil.copytree(checkpoints / "step_00000004", checkpoints / "step_00000006")
    (checkpoints / ".tmp_step_00000008.x").mkdir()
    resumed = Trainer(Regression(), config(tmp_path, epochs=None, max_steps=8, save_every=2, resume=True))
    resumed.fit(regression_data(64))
    state = json.loads((checkpoints / "step_00000006" / "state.json").read_text())
    assert state["step"] == 6 and resumed.step == 8
    assert not list(checkpoints.glob(".tmp_*"))


def test_keyboard_interrupt_saves_a_checkpoint(tmp_path):
    class Interrupt(Callback):
        def on_step_end(self, trainer, step, metrics):
            if step == 3:
                raise KeyboardInterrupt

    trainer = Trainer(Regression(), config(tmp_path), callbacks=[Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(regression_data(64))
    state = json.loads((tmp_path / "run" / "checkpoints" / "step_00000003" / "state.json").read_text())
    assert state["step"] == 3 and state["batch_in_epoch"] == 3


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_on_cpu_trains(tmp_path, precision):
    torch.manual_seed(0)
    trainer = Trainer(Regression(), config(tmp_path, precision=precision, epochs=3))
    assert (trainer.scaler is not None) == (precision == "fp16")
    trainer.fit(regression_data(128))
    losses = [float(r["loss"]) for r in read_csv(tmp_path / "run" / "metrics.csv")]
    assert losses[-1] < 0.5 * losses[0]
    assert all(p.dtype == torch.float32 for p in trainer.task.parameters())


def test_empty_data_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no batches"):
        Trainer(Regression(), config(tmp_path, epochs=None, max_steps=3)).fit(regression_data(0))


def test_tensorboard_gets_the_logged_scalars_when_importable(tmp_path, monkeypatch):
    import sys
    import types

    scalars = []

    class FakeWriter:
        def __init__(self, log_dir):
            self.log_dir = log_dir

        def add_scalar(self, key, value, step):
            scalars.append((key, step))

        def close(self):
            scalars.append(("closed", -1))

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=FakeWriter))
    Trainer(Regression(), config(tmp_path, epochs=None, max_steps=4, log_every=2)).fit(regression_data(64))
    assert ("loss", 2) in scalars and ("loss", 4) in scalars and scalars[-1] == ("closed", -1)


def test_every_setting_has_help_text_and_a_cli_flag():
    import argparse
    import dataclasses

    from faceswap.config import add_arguments, from_args

    assert all(f.metadata.get("help") for f in dataclasses.fields(TrainConfig))
    parser = argparse.ArgumentParser()
    add_arguments(parser, TrainConfig)
    args = parser.parse_args(["--max-steps", "7", "--precision", "bf16", "--no-progress", "--grad-clip", "1.5"])
    assert from_args(TrainConfig, args) == TrainConfig(max_steps=7, precision="bf16", progress=False, grad_clip=1.5)
    with pytest.raises(UserError, match="batch_size"):
        TrainConfig(batch_size=-1)  # 0 is auto, which a stage resolves before training
    with pytest.raises(UserError, match="num_workers"):
        TrainConfig(num_workers=-2)  # -1 is auto, likewise


def test_bad_weights_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_model_weights(Regression(), tmp_path / "missing.safetensors")
    trainer = Trainer(Regression(), config(tmp_path, max_steps=1))
    trainer.fit(regression_data(16))
    with pytest.raises(UserError, match="do not fit"):
        load_model_weights(nn.Linear(3, 3), latest_model_path(tmp_path / "run"))
    with pytest.raises(UserError, match="no checkpoint"):
        latest_model_path(tmp_path / "empty")


def test_schedules_are_functions_of_the_step():
    from faceswap.engine.optim import LRSchedule, build_optimizer

    task = Regression()
    step_config = TrainConfig(lr=1.0, schedule="step", warmup_steps=2, lr_step_every=3, lr_gamma=0.5)
    schedule = LRSchedule(build_optimizer(task, step_config), step_config, total_steps=None)
    assert [schedule.factor(s) for s in range(9)] == [0.5, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    groups = [{"params": list(task.net[0].parameters()), "lr_scale": 0.1}, {"params": list(task.net[2].parameters())}]
    cosine_config = TrainConfig(lr=1.0, schedule="cosine", min_lr_ratio=0.1)
    optimizer = build_optimizer(task, cosine_config, groups)
    schedule = LRSchedule(optimizer, cosine_config, total_steps=11)
    assert schedule.apply(0) == pytest.approx(1.0) and schedule.apply(11) == pytest.approx(0.1)  # floor at the end
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.01, 0.1])
    with pytest.raises(UserError, match="cosine"):
        LRSchedule(optimizer, cosine_config, total_steps=None)


def test_the_progress_line_shows_no_loss_before_the_first_log_interval(capsys, monkeypatch):
    """The loss is read once per log interval: before that the plain line names none (not a false "nan")."""
    from faceswap.engine.logs import ProgressBar

    monkeypatch.setattr(ProgressBar, "LINE_EVERY_S", 0.0)
    bar = ProgressBar(True, 3, 0)
    bar.update(8)
    bar.show_loss(0.25)
    bar.update(8)
    lines = capsys.readouterr().err.splitlines()
    assert "loss" not in lines[0] and "nan" not in lines[0] and "loss 0.25" in lines[1], lines
