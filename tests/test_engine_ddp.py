"""DDP on CPU with gloo: two processes launched with torchrun's environment variables keep
identical weights, see different shards of the data, and only rank 0 writes files.

This file is also the per-rank training script.
"""
from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.utils.data import TensorDataset

WRITE_EVENTS = {"open", "os.rename", "os.replace", "os.mkdir", "os.remove", "os.rmdir", "shutil.rmtree"}


class Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))
        self.first_batch_sum: float | None = None

    def forward(self, batch):
        x, y = batch
        if self.first_batch_sum is None:
            self.first_batch_sum = float(x.sum())
        logits = self.net(x)
        return {"loss": nn.functional.cross_entropy(logits, y), "accuracy": (logits.argmax(1) == y).float().mean()}


def points(n: int, seed: int) -> TensorDataset:
    x = torch.randn(n, 8, generator=torch.Generator().manual_seed(seed))
    return TensorDataset(x, (x[:, :4].sum(1) > 0).long())


def train_one_rank(out_dir: str, result_dir: str) -> None:
    writes: list[str] = []
    out_prefix = os.path.abspath(out_dir)

    def audit(event: str, args: tuple) -> None:
        if event not in WRITE_EVENTS or not args:
            return
        if event == "open" and (len(args) < 2 or not isinstance(args[1], str) or not set(args[1]) & set("wax+")):
            return
        paths = [a for a in args if isinstance(a, (str, os.PathLike))]
        if any(os.path.abspath(os.fspath(p)).startswith(out_prefix) for p in paths):
            writes.append(f"{event} {paths}")

    sys.addaudithook(audit)
    from faceswap.engine import TrainConfig, Trainer

    # 64 examples a rank = 8 batches = 3 steps of 3 batches, the last one short (2 epochs in 6 steps)
    config = TrainConfig(out_dir=out_dir, epochs=None, max_steps=6, batch_size=8, grad_accum=3, lr=0.05, save_every=3,
                         eval_every=3, log_every=2, device="cpu", threads=1, progress=False)
    task = Classifier()
    trainer = Trainer(task, config)
    initial = {k: v.clone() for k, v in trainer.task.state_dict().items()}
    metrics = trainer.fit(points(128, seed=0), points(40, seed=1))
    rank = trainer.rank
    save_file(trainer.task.state_dict(), os.path.join(result_dir, f"rank{rank}.safetensors"))
    changed = any(not torch.equal(initial[k], v) for k, v in trainer.task.state_dict().items())
    report = {"rank": rank, "world_size": trainer.world_size, "writes": writes, "changed": changed,
              "first_batch_sum": task.first_batch_sum, "val_loss": metrics["val_loss"],
              "is_ddp": trainer.model is not trainer.task}
    Path(result_dir, f"rank{rank}.json").write_text(json.dumps(report))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_cpu_processes_stay_in_sync_and_only_rank0_writes(tmp_path):
    out_dir, result_dir = tmp_path / "run", tmp_path / "results"
    result_dir.mkdir()
    port = free_port()
    processes = []
    for rank in range(2):  # the environment torchrun gives each worker
        env = dict(os.environ, WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port))
        processes.append(subprocess.Popen([sys.executable, __file__, str(out_dir), str(result_dir)], env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for process in processes:
        _, stderr = process.communicate(timeout=240)
        assert process.returncode == 0, stderr
    reports = [json.loads((result_dir / f"rank{rank}.json").read_text()) for rank in range(2)]
    assert [r["world_size"] for r in reports] == [2, 2] and all(r["is_ddp"] and r["changed"] for r in reports)
    assert reports[0]["first_batch_sum"] != reports[1]["first_batch_sum"], "both ranks saw the same data"
    assert reports[0]["val_loss"] == reports[1]["val_loss"]  # reduced over ranks
    weights = [load_file(result_dir / f"rank{rank}.safetensors") for rank in range(2)]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert reports[1]["writes"] == [] and reports[0]["writes"], "rank 1 wrote files, or the audit saw nothing"
    saved = load_file(out_dir / "checkpoints" / "step_00000006" / "model.safetensors")
    assert all(torch.equal(saved[k], weights[0][k]) for k in saved)
    with open(out_dir / "metrics.csv", newline="") as handle:
        steps = [row["step"] for row in csv.DictReader(handle) if row["loss"]]
    assert steps == ["2", "4", "6"]


if __name__ == "__main__":
    train_one_rank(sys.argv[1], sys.argv[2])
