"""Engine throughput against a bare PyTorch loop: same model, same in-memory data, same batch.

For each registered classifier model (LeNet and the small VGG-style CNN by default) and each
thread count, times steady-state training steps of
  * a bare loop: shuffled slices of the tensors -> forward -> cross-entropy -> backward -> AdamW step
  * the engine: Trainer.fit on a TensorDataset of the same tensors (fp32, CPU, metrics.csv every 50
    steps, one checkpoint at the end: outside the timed steps, inside the all-in figure)
and prints examples/s for both, the ratio engine/bare (goal >= 0.9) and the per-step overhead.

Step times are medians (robust to spikes from other jobs). Each figure is given twice: from wall-clock time and from this process's CPU time. On a shared
machine (other jobs competing for the cores) the wall clock mostly measures the neighbours;
the CPU time measures the work each loop does, which is what the engine's overhead adds to.

    python scripts/bench_engine.py                      # lenet + small_cnn, 1 and 2 threads
    python scripts/bench_engine.py --models lenet --threads 1 --steps 200
    python scripts/bench_engine.py --compile --channels-last   # the engine with those options
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch
from torch import nn
from torch.utils.data import TensorDataset

from faceswap import registry
from faceswap.engine import Callback, TrainConfig, Trainer
from faceswap.runtime import set_threads

INPUT_SHAPES = {"lenet": (1, 28, 28), "small_cnn": (3, 32, 32)}
CLASSES = 10


class ClassifyTask(nn.Module):
    """Registered backbone + registered linear head, cross-entropy loss and accuracy."""

    def __init__(self, model_name: str, channels: int, img_size: int):
        super().__init__()
        self.backbone = registry.get("classifier_model", model_name)(in_channels=channels, img_size=img_size)
        self.head = registry.get("classifier_head", "linear")(self.backbone.feature_size, CLASSES)

    def forward(self, batch):
        images_NCHW, labels = batch
        logits = self.head(self.backbone(images_NCHW))
        return {"loss": nn.functional.cross_entropy(logits, labels),
                "accuracy": (logits.argmax(1) == labels).float().mean().detach()}


def make_data(shape: tuple[int, ...], examples: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.rand(examples, *shape, generator=generator), torch.randint(0, CLASSES, (examples,), generator=generator)


def now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def median_step(marks: list[tuple[float, float]]) -> tuple[float, float]:
    """Median (wall, CPU) seconds between consecutive step ends: robust to a busy neighbour's spikes."""
    walls = sorted(b[0] - a[0] for a, b in zip(marks, marks[1:]))
    cpus = sorted(b[1] - a[1] for a, b in zip(marks, marks[1:]))
    return walls[len(walls) // 2], cpus[len(cpus) // 2]


def time_bare_loop(task: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch: int, steps: int,
                   warmup: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds per step of the plain loop (after ``warmup`` steps)."""
    optimizer = torch.optim.AdamW(task.parameters(), lr=1e-3)
    task.train()
    order = torch.randperm(len(images))
    per_epoch = len(images) // batch
    marks = []
    for step in range(warmup + steps):
        if step >= warmup:
            marks.append(now())
        if step % per_epoch == 0:
            order = torch.randperm(len(images))
        index = order[(step % per_epoch) * batch:(step % per_epoch + 1) * batch]
        loss = task((images[index], labels[index]))["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    marks.append(now())
    return median_step(marks)


class StepClock(Callback):
    def __init__(self, warmup: int):
        self.warmup, self.marks = warmup, []

    def on_step_end(self, trainer, step, metrics):
        if step >= self.warmup:
            self.marks.append(now())


def time_engine(task: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch: int, steps: int, warmup: int,
                threads: int, speed: dict[str, bool]) -> tuple[tuple[float, float], float]:
    """(median (wall, CPU) seconds per steady-state step, wall seconds of the whole fit incl.
    set-up and final checkpoint)."""
    clock = StepClock(warmup)
    with tempfile.TemporaryDirectory() as out_dir:
        config = TrainConfig(out_dir=out_dir, epochs=None, max_steps=warmup + steps, batch_size=batch, lr=1e-3,
                             optimizer="adamw", momentum=0.9, device="cpu", threads=threads, precision="fp32",
                             drop_last=True, log_every=50, progress=False, save_every=10**9, **speed)
        start = time.perf_counter()
        # marks at the ends of steps warmup .. warmup + steps: ``steps`` intervals
        Trainer(task, config, callbacks=[clock]).fit(TensorDataset(images, labels))
        total = time.perf_counter() - start
    return median_step(clock.marks), total


def bench(model_name: str, threads: int, batch: int, steps: int, warmup: int, rounds: int,
          speed: dict[str, bool]) -> dict[str, float]:
    set_threads(threads)
    channels, size, _ = INPUT_SHAPES[model_name]
    images, labels = make_data(INPUT_SHAPES[model_name], batch * 16)
    bare, engine, total = [], [], []
    for _ in range(rounds):  # interleaved; the fastest round of each counts (a shared machine is noisy)
        torch.manual_seed(0)
        bare.append(time_bare_loop(ClassifyTask(model_name, channels, size), images, labels, batch, steps, warmup))
        torch.manual_seed(0)
        step_s, fit_s = time_engine(ClassifyTask(model_name, channels, size), images, labels, batch, steps, warmup,
                                    threads, speed)
        engine.append(step_s)
        total.append(fit_s)
    result = {"fit_eps": batch * (warmup + steps) / min(total)}
    for clock, name in ((0, "wall"), (1, "cpu")):
        bare_s, engine_s = min(b[clock] for b in bare), min(e[clock] for e in engine)
        result.update({f"{name}_bare_eps": batch / bare_s, f"{name}_engine_eps": batch / engine_s,
                       f"{name}_ratio": bare_s / engine_s, f"{name}_overhead_ms": (engine_s - bare_s) * 1000,
                       f"{name}_bare_ms": bare_s * 1000})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["lenet", "small_cnn"], choices=sorted(INPUT_SHAPES))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2], help="torch thread counts to measure")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--compile", action="store_true", help="the engine runs with compile=True (the bare loop does not)")
    parser.add_argument("--channels-last", action="store_true", help="the engine runs with channels_last=True")
    args = parser.parse_args()
    speed = {"compile": args.compile, "channels_last": args.channels_last}
    print(f"batch {args.batch_size}, median of {args.steps} steps, best of {args.rounds} rounds; "
          f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; engine options {speed}")
    print(f"{'model':<10} {'threads':>7} {'clock':>5} {'bare ex/s':>10} {'engine ex/s':>12} {'ratio':>6} "
          f"{'overhead ms/step':>17} {'bare ms/step':>13} {'fit ex/s (all-in)':>18}")
    for model_name in args.models:
        for threads in args.threads:
            r = bench(model_name, threads, args.batch_size, args.steps, args.warmup, args.rounds, speed)
            for name in ("wall", "cpu"):
                print(f"{model_name:<10} {threads:>7} {name:>5} {r[name + '_bare_eps']:>10.0f} "
                      f"{r[name + '_engine_eps']:>12.0f} {r[name + '_ratio']:>6.2f} {r[name + '_overhead_ms']:>17.2f} "
                      f"{r[name + '_bare_ms']:>13.2f} {r['fit_eps'] if name == 'wall' else float('nan'):>18.0f}",
                      flush=True)


if __name__ == "__main__":
    main()
