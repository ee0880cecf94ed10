"""Exact resume: a run SIGKILLed while writing a checkpoint mid-epoch, then resumed, ends with
bit-identical weights and metrics to an uninterrupted run (deterministic mode).

This file is also the training script that the test runs in subprocesses.
"""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn
from torch.utils.data import Dataset

KILL_AT_STEP = 30  # killed while writing this checkpoint; step 20's is the latest good one


class NoisyPoints(Dataset):
    """Samples with per-item random augmentation from numpy's and torch's global RNGs."""

    def __init__(self, n: int):
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 8, generator=generator)
        self.y = (self.x[:, :4].sum(1) > 0).long()

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index):
        noise = torch.from_numpy(np.random.normal(0.0, 0.05, 8).astype(np.float32)) + 0.01 * torch.randn(8)
        return self.x[index] + noise, self.y[index]


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 2))

    def forward(self, batch):
        x, y = batch
        logits = self.net(x)
        return {"loss": nn.functional.cross_entropy(logits, y), "accuracy": (logits.argmax(1) == y).float().mean()}


def train(out_dir: str, resume: bool, kill: bool) -> None:
    from faceswap.engine import TrainConfig, Trainer, seed_everything
    from faceswap.engine import checkpoint

    if kill:
        write_folder = checkpoint._write_folder

        def write_then_die(folder, model, state, trainer_state, *rest):
            if state["step"] == KILL_AT_STEP:
                torch.save({"partial": torch.zeros(1)}, folder / "trainer_state.pt")
                os.kill(os.getpid(), signal.SIGKILL)
            write_folder(folder, model, state, trainer_state, *rest)

        checkpoint._write_folder = write_then_die
    seed_everything(0)
    config = TrainConfig(out_dir=out_dir, epochs=4, batch_size=8, lr=0.01, save_every=10, keep_last=2, log_every=5,
                         eval_every=15, deterministic=True, resume=resume, device="cpu", threads=1, progress=False)
    # 96 examples / 8 = 12 batches an epoch: step 20 is in the middle of epoch 1
    Trainer(Classifier(), config).fit(NoisyPoints(96), NoisyPoints(24))


def start_script(out_dir: Path, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, str(out_dir), *flags], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=240)
    return process.returncode, stderr


def metric_rows(out_dir: Path) -> list[tuple[str, str, str]]:
    with open(out_dir / "metrics.csv", newline="") as handle:
        return [(row["step"], row["loss"], row["val_loss"]) for row in csv.DictReader(handle)]


def test_killed_run_resumes_exactly(tmp_path):
    full, killed = tmp_path / "full", tmp_path / "killed"
    uninterrupted, to_be_killed = start_script(full), start_script(killed, "--kill")  # side by side: saves time
    returncode, stderr = finish(to_be_killed)
    assert returncode == -signal.SIGKILL, stderr
    checkpoints = killed / "checkpoints"
    assert (checkpoints / "latest.json").is_file() and list(checkpoints.glob(".tmp_*"))
    assert not (checkpoints / f"step_{KILL_AT_STEP:08d}").exists()
    returncode, stderr = finish(start_script(killed, "--resume"))
    assert returncode == 0, stderr
    returncode, stderr = finish(uninterrupted)
    assert returncode == 0, stderr
    assert not list(checkpoints.glob(".tmp_*"))
    final = "checkpoints/step_00000048/model.safetensors"
    weights_full, weights_resumed = load_file(full / final), load_file(killed / final)
    assert weights_full.keys() == weights_resumed.keys()
    assert all(torch.equal(weights_full[k], weights_resumed[k]) for k in weights_full)
    # the same rows, each step once, with identical values
    assert metric_rows(killed) == metric_rows(full)
    assert load_file(full / "checkpoints/best/model.safetensors").keys() == weights_full.keys()


if __name__ == "__main__":
    train(sys.argv[1], resume="--resume" in sys.argv, kill="--kill" in sys.argv)
