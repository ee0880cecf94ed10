"""Face-swap training throughput: our trainer vs a bare PyTorch loop of the same model, in one run.

Our trainer = what `faceswap train` runs after loading the faces: the engine's Trainer, the swap
task (on-device augmentation, masked SSIM + L1 + mask loss), batches gathered from the in-memory
face pairs. The bare loop = the same task, loss and Adam on one batch already on the device, no
engine. A third figure, the bare loop on pre-augmented tensors (model + loss only), shows what
the augmentation costs. Examples are (A face, B face) pairs.

    .venv/bin/python scripts/bench_train.py --threads 1 --repeats 3   # the ratio as the median of 3 runs
    .venv/bin/python scripts/bench_train.py --faces-a out/a --faces-b out/b --steps 60
    .venv/bin/python scripts/bench_train.py --compile --channels-last   # the trainer with those options

Prints examples/s and the ratio trainer / bare loop (goal on CPU: >= 0.9), with --repeats N the
median of N ratios. On a machine busy with other work, ``--clock cpu`` times each loop by the
CPU seconds it used rather than by the wall clock.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceswap.align.template import Template  # noqa: E402
from faceswap.swap.config import SwapTrainConfig  # noqa: E402
from faceswap.swap.task import SwapTask, build_swap_task  # noqa: E402
from faceswap.swap.train import engine_config, paired  # noqa: E402


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}  # cpu: this process's CPU seconds, all threads
CLOCK = CLOCKS["wall"]


def build_task(config: SwapTrainConfig, stored_size: int | None = None) -> SwapTask:
    from faceswap.registry import get

    torch.manual_seed(config.seed)
    model = get("swap_model", config.preset)(resolution=config.resolution, encoder_widths=config.encoder_widths,
                                             bottleneck=config.bottleneck, decoder_widths=config.decoder_widths)
    stored = stored_size or 2 * model.resolution
    return build_swap_task(model, Template(), stored, config)


def face_tensors(config: SwapTrainConfig, stored_size: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(A faces, B faces) (N, 4, S, S) uint8: real ones from faces folders, else random (speed does not
    depend on the pixels)."""
    if config.faces_a and config.faces_b and Path(config.faces_a).is_dir():
        from faceswap.swap.data import load_face_set

        return tuple(load_face_set(folder, stored_size, 2).faces for folder in (config.faces_a, config.faces_b))
    generator = torch.Generator().manual_seed(0)
    faces = torch.randint(0, 256, (2, count, 4, stored_size, stored_size), dtype=torch.uint8, generator=generator)
    return faces[0], faces[1]


class StepClock:
    """Engine callback: time (CLOCK) from the end of step ``warmup`` to the end of the last step."""

    def __init__(self, warmup: int, device: torch.device | None = None):
        self.warmup, self.start, self.end, self.steps = warmup, None, None, 0

    def on_step_end(self, trainer, step, metrics):
        if step == self.warmup:
            _sync(trainer.device)
            self.start = CLOCK()
        elif step > self.warmup:
            self.end, self.steps = CLOCK(), step - self.warmup


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_trainer(config: SwapTrainConfig, faces_a: torch.Tensor, faces_b: torch.Tensor, steps: int, warmup: int) -> float:
    """Examples/s of the engine Trainer on the swap task (everything `faceswap train` does per step)."""
    from faceswap.engine import Trainer

    with tempfile.TemporaryDirectory() as out:
        config = replace(config, model_dir=out, steps=warmup + steps, save_every=10**9, eval_every=10**9,
                         log_every=10**9, progress=False)
        data = paired(faces_a, faces_b)
        task = build_task(config, faces_a.shape[-1])
        clock = StepClock(warmup)
        trainer = Trainer(task, engine_config(config, Path(out), len(data)), callbacks=[clock])
        trainer.fit(data)
    return clock.steps * config.batch_size / (clock.end - clock.start)


def measure_bare(config: SwapTrainConfig, faces_a: torch.Tensor, faces_b: torch.Tensor, steps: int, warmup: int,
                 device: torch.device, precision: str = "fp32", augment: bool = True) -> float:
    """Examples/s of a plain loop: the same task and Adam on one batch already on the device."""
    from faceswap.engine.precision import resolve_precision

    config = replace(config, compile=False, channels_last=False)  # the baseline: a plain eager loop
    task = build_task(config, faces_a.shape[-1]).to(device).train()
    optimizer = torch.optim.Adam(task.parameters(), lr=config.lr, betas=(0.9, 0.999))
    precision_mode = resolve_precision(precision, device)
    scaler = precision_mode.make_scaler()
    batch = (faces_a[:config.batch_size].to(device), faces_b[:config.batch_size].to(device))
    if augment:
        forward = lambda: task(batch)  # noqa: E731
    else:  # model + loss on inputs augmented once, outside the loop
        generator = torch.Generator(device=device).manual_seed(0)
        sides = [task.prepare(faces, generator) for faces in batch]

        def forward():
            out_a, mask_a, out_b, mask_b = task.model(sides[0].inputs, sides[1].inputs)
            return {"loss": task.loss(out_a, mask_a, sides[0])["loss"] + task.loss(out_b, mask_b, sides[1])["loss"]}

    def step():
        with precision_mode.autocast():
            loss = forward()["loss"].float()
        (scaler.scale(loss) if scaler else loss).backward()
        if scaler:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    for _ in range(warmup):
        step()
    _sync(device)
    start = CLOCK()
    for _ in range(steps):
        loss = step()
    loss.item()  # one read at the end, as the trainer reads once per log interval
    _sync(device)
    return steps * config.batch_size / (CLOCK() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="original")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="trainer/bare pairs, alternated (ABBA) against drift")
    parser.add_argument("--repeats", type=int, default=1, help="whole measurements; the ratio reported is their median")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time, or this process's CPU time: on a machine shared with other work, CPU time "
                             "counts what each loop does rather than when it got a core (with --threads 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: library default)")
    parser.add_argument("--faces-a", default="", help="faces folder (default: random faces; speed ignores pixels)")
    parser.add_argument("--faces-b", default="")
    parser.add_argument("--compile", action="store_true", help="the trainer runs with --compile (the bare loop does not)")
    parser.add_argument("--channels-last", action="store_true", help="the trainer runs with --channels-last")
    parser.add_argument("--perceptual-weight", type=float, default=SwapTrainConfig.perceptual_weight)
    args = parser.parse_args()

    from faceswap.runtime import set_threads

    global CLOCK
    CLOCK = CLOCKS[args.clock]
    set_threads(args.threads)
    config = SwapTrainConfig(faces_a=args.faces_a or "-", faces_b=args.faces_b or "-", model_dir="-", preset=args.preset,
                             batch_size=args.batch_size, device="cpu", threads=args.threads or 0, seed=0,
                             compile=args.compile, channels_last=args.channels_last,
                             perceptual_weight=args.perceptual_weight)
    stored = 2 * build_task(config).model.resolution
    faces_a, faces_b = face_tensors(config, stored, count=max(64, 4 * args.batch_size))
    device = torch.device("cpu")
    print(f"preset {args.preset}, batch {args.batch_size}, threads {torch.get_num_threads()}, compile {args.compile}, "
          f"channels-last {args.channels_last}, perceptual weight {args.perceptual_weight}, "
          f"{'real' if args.faces_a else 'random'} faces, {args.steps} timed steps x {args.rounds} rounds x {args.repeats} repeats, "
          f"{args.clock} clock")
    ratios = []
    for repeat in range(args.repeats):
        trainer, bare = measure_pair(config, faces_a, faces_b, args, device)
        trainer_rate, bare_rate = statistics.median(trainer), statistics.median(bare)
        ratios.append(trainer_rate / bare_rate)
        print(f"repeat {repeat + 1}: trainer (faceswap train's loop) {trainer_rate:.1f}, bare PyTorch loop {bare_rate:.1f} "
              f"examples/s (rounds {', '.join(f'{r:.1f}' for r in trainer)} | {', '.join(f'{r:.1f}' for r in bare)}), "
              f"ratio {ratios[-1]:.3f}", flush=True)
    no_augment = measure_bare(config, faces_a, faces_b, args.steps, args.warmup, device, augment=False)
    print(f"bare loop without augmentation:  {no_augment:8.1f} examples/s  (augmentation costs "
          f"{100 * (1 - bare_rate / no_augment):.0f}% of the last bare step here)")
    print(f"ratio trainer / bare loop: {statistics.median(ratios):.3f}  (median of {len(ratios)}: "
          f"{', '.join(f'{ratio:.3f}' for ratio in ratios)}; goal >= 0.9)")


def measure_pair(config: SwapTrainConfig, faces_a: torch.Tensor, faces_b: torch.Tensor, args: argparse.Namespace,
                 device: torch.device) -> tuple[list[float], list[float]]:
    """(trainer, bare) examples/s of ``args.rounds`` rounds each, alternated ABBA against drift."""
    trainer, bare = [], []
    for round_index in range(args.rounds):
        order = ("trainer", "bare") if round_index % 2 == 0 else ("bare", "trainer")
        for which in order:
            if which == "trainer":
                trainer.append(measure_trainer(config, faces_a, faces_b, args.steps, args.warmup))
            else:
                bare.append(measure_bare(config, faces_a, faces_b, args.steps, args.warmup, device))
    return trainer, bare


if __name__ == "__main__":
    main()
