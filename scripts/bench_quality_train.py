"""Training options side by side: examples/s of each, and what equal CPU time buys on real faces.

Variants are presets (`original`, `lite128`, ...) with loss and augmentation options: the
perceptual loss, the adversarial loss, stronger warps. Two measurements:

- ``speed``: examples per CPU second of one training step (augmentation, model, loss, Adam; batch 8,
  one thread), each as a ratio to ``original`` with the current loss, measured in the same run
  (rounds in alternating order). CPU time, so that a busy machine slows the figures less.
- ``quality``: each variant trains for the same CPU time on two faces folders, then the held-out
  faces give: SSIM (A->A, B->B, inside the mask, at the model's size), sharpness (Laplacian
  variance inside the mask of the reconstruction, upscaled to the stored crop, over that of the
  crop itself: 1 is as sharp as the source), and expression keeping (SSIM around the eyes and
  mouth of A->B->A and B->A->B against the source: what survives a trip through the other decoder).
  A preview grid per variant is written to --out. CPU time, not wall time, is the budget, so runs
  that share a busy machine stay comparable; run two at once with --only.

    .venv/bin/python scripts/bench_quality_train.py speed
    .venv/bin/python scripts/bench_quality_train.py quality --faces-a A --faces-b B --segmenter SEG \\
        --cpu-minutes 3 --out /tmp/quality --only original,lite128_p
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceswap.align.template import Template  # noqa: E402
from faceswap.swap.config import SwapTrainConfig  # noqa: E402
from faceswap.swap.loss import masked_ssim  # noqa: E402
from faceswap.swap.models.autoencoder import resize_faces  # noqa: E402
from faceswap.swap.task import SwapTask, build_swap_task  # noqa: E402

STRONG_WARP = {"warp": 0.05, "warp_grid": 7}
PLAIN = {"perceptual_weight": 0.0, "adversarial_weight": 0.0}  # the loss before these options
VARIANTS: dict[str, dict] = {name: {**PLAIN, **options} for name, options in {
    "original": {"preset": "original"},
    "original_p": {"preset": "original", "perceptual_weight": 1.0},
    "original_a": {"preset": "original", "adversarial_weight": 0.1},
    "original_pa": {"preset": "original", "perceptual_weight": 1.0, "adversarial_weight": 0.1},
    "original_pw": {"preset": "original", "perceptual_weight": 1.0, **STRONG_WARP},
    "lite128": {"preset": "lite128"},
    "lite128_p": {"preset": "lite128", "perceptual_weight": 1.0},
    "lite128_a": {"preset": "lite128", "adversarial_weight": 0.1},
    "lite128_pa": {"preset": "lite128", "perceptual_weight": 1.0, "adversarial_weight": 0.1},
    "lite128_pw": {"preset": "lite128", "perceptual_weight": 1.0, **STRONG_WARP},
}.items()}


def variant_config(name: str, **overrides) -> SwapTrainConfig:
    return SwapTrainConfig(faces_a="-", faces_b="-", model_dir="-", device="cpu", **{**VARIANTS[name], **overrides})


def build(config: SwapTrainConfig, stored_size: int | None = None) -> SwapTask:
    from faceswap.registry import get

    torch.manual_seed(config.seed)
    model = get("swap_model", config.preset)()
    return build_swap_task(model, Template(), stored_size or 2 * model.resolution, config)


# ----------------------------------------------------------------------------------- speed
def examples_per_s(config: SwapTrainConfig, steps: int, warmup: int) -> float:
    """The task (augmentation included) and Adam on one random batch, as in bench_train's bare loop."""
    task = build(config).train()
    size = 2 * task.model.resolution
    generator = torch.Generator().manual_seed(0)
    batch = tuple(torch.randint(0, 256, (config.batch_size, 4, size, size), dtype=torch.uint8, generator=generator)
                  for _ in range(2))
    optimizer = torch.optim.Adam([p for p in task.parameters() if p.requires_grad], lr=config.lr)

    def step():
        loss = task(batch)["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    for _ in range(warmup):
        step()
    start = time.process_time()  # CPU time of this one-thread process: what other users of the machine leave alone
    for _ in range(steps):
        step()
    return steps * config.batch_size / (time.process_time() - start)


def run_speed(args) -> None:
    names = args.only.split(",") if args.only else list(VARIANTS)
    names = ["original", *[n for n in names if n != "original"]]
    rates: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(args.rounds):
        for name in names if round_index % 2 == 0 else reversed(names):
            rates[name].append(examples_per_s(variant_config(name, batch_size=args.batch_size), args.steps, args.warmup))
    base = statistics.median(rates["original"])
    print(f"batch {args.batch_size}, threads {torch.get_num_threads()}, {args.steps} timed steps x {args.rounds} rounds")
    for name in names:
        rate = statistics.median(rates[name])
        print(f"{name:12s} {rate:7.1f} examples/s  ratio {rate / base:5.2f}  (rounds: "
              f"{', '.join(f'{r:.1f}' for r in rates[name])})")


# --------------------------------------------------------------------------------- quality
class CpuBudget:
    """Engine callback: stop (by raising OutOfTime) once the process has used ``seconds`` of CPU."""

    class OutOfTime(Exception):
        pass

    def __init__(self, seconds: float):
        self.seconds, self.start = seconds, time.process_time()

    def on_step_end(self, trainer, step, metrics):
        if time.process_time() - self.start >= self.seconds:
            raise self.OutOfTime(step)


def load_faces(args, stored_size: int) -> dict[str, torch.Tensor]:
    """{"a", "b"}: (N, 4, S, S) uint8 RGB + mask (segmenter masks when --segmenter), cached in --faces-cache."""
    cache = Path(args.faces_cache) if args.faces_cache else None
    if cache and cache.is_file():
        return torch.load(cache, weights_only=True)
    from faceswap.swap.data import load_face_set
    from faceswap.swap.masks import apply_segmenter

    faces = {side: load_face_set(folder, stored_size, 2).faces for side, folder in (("a", args.faces_a), ("b", args.faces_b))}
    if args.segmenter:
        for side in faces.values():
            apply_segmenter(Path(args.segmenter), side, "cpu")
    if cache:
        torch.save(faces, cache)
    return faces


def laplacian_variance(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Per image: variance of the grey Laplacian inside the mask (N3HW, N1HW in [0, 1])."""
    grey = (images * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    kernel = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3)
    response = F.conv2d(grey, kernel)
    inside = (F.max_pool2d(1 - masks, 7, 1, 3) < 0.5).float()[..., 1:-1, 1:-1]  # mask eroded: no outline edge
    count = inside.sum((1, 2, 3)).clamp_min(1)
    mean = (response * inside).sum((1, 2, 3)) / count
    return ((response - mean.view(-1, 1, 1, 1)) ** 2 * inside).sum((1, 2, 3)) / count


@torch.no_grad()
def held_out_figures(model, faces_uint8: torch.Tensor, side: str, region: torch.Tensor) -> dict[str, float]:
    """SSIM, sharpness ratio and round-trip (expression) SSIM of one side's held-out faces."""
    other = "b" if side == "a" else "a"
    crops = faces_uint8.float() / 255
    sources, masks = crops[:, :3], crops[:, 3:4]
    small, small_masks = resize_faces(sources, model.resolution), resize_faces(masks, model.resolution)
    rebuilt = model.decode(small, side)[0]
    round_trip = model.decode(model.decode(small, other)[0], side)[0]
    upscaled = F.interpolate(rebuilt, size=sources.shape[-2:], mode="bilinear", align_corners=False)
    sharpness = laplacian_variance(upscaled, masks) / laplacian_variance(sources, masks).clamp_min(1e-12)
    features = resize_faces(region, model.resolution).expand_as(small_masks) * small_masks
    return {"ssim": float(masked_ssim(rebuilt, small, small_masks)), "sharpness": float(sharpness.mean()),
            "round_trip_ssim": float(masked_ssim(round_trip, small, features))}


def train_variant(name: str, faces: dict[str, torch.Tensor], args) -> dict[str, float]:
    from faceswap.engine import TrainConfig, Trainer
    from faceswap.swap.data import held_out_indices
    from faceswap.swap.preview import render_preview, write_preview
    from torch.utils.data import TensorDataset

    config = variant_config(name, seed=args.seed)
    task = build(config)
    model = task.model
    stored = 2 * model.resolution
    split = {side: held_out_indices(len(f), config.val_fraction, config.max_val_faces) for side, f in faces.items()}
    data = {side: resize_faces(f.float(), stored).round().to(torch.uint8) for side, f in faces.items()}
    train = {side: data[side][split[side][0]] for side in data}
    model.init_from_faces(train["a"][:, :4], train["b"][:, :4])
    length = max(len(train["a"]), len(train["b"]))
    pairs = TensorDataset(*(train[side][torch.arange(length) % len(train[side])] for side in "ab"))
    budget = CpuBudget(args.cpu_minutes * 60)
    with tempfile.TemporaryDirectory() as out:
        engine = TrainConfig(out_dir=out, epochs=None, max_steps=10**9, batch_size=config.batch_size, lr=config.lr,
                             optimizer="adam", device="cpu", threads=1, seed=config.seed, drop_last=True,
                             log_every=10**9, eval_every=10**9, save_every=10**9, progress=False, tensorboard=False)
        trainer = Trainer(task, engine, callbacks=[budget])
        start = time.perf_counter()
        try:
            trainer.fit(pairs)
        except CpuBudget.OutOfTime:
            pass
    wall = time.perf_counter() - start
    model.eval()
    region = torch.from_numpy(Template().region_weights(faces["a"].shape[-1]) > 1).float().view(1, 1, *faces["a"].shape[-2:])
    results = {"variant": name, "steps": trainer.step, "wall_s": round(wall, 1), "cpu_s": round(args.cpu_minutes * 60)}
    for side in "ab":
        figures = held_out_figures(model, faces[side][split[side][1]], side, region)
        results.update({f"{key}_{side}": round(value, 4) for key, value in figures.items()})
    rows = [faces[side][split[side][1]][torch.linspace(0, len(split[side][1]) - 1, args.preview_rows).long()]
            for side in "ab"]
    write_preview(render_preview(model, *(resize_faces(r.float(), stored).round().to(torch.uint8) for r in rows)),
                  Path(args.out) / f"preview_{name}.png")
    return results


def run_quality(args) -> None:
    names = args.only.split(",") if args.only else list(VARIANTS)
    torch.set_num_threads(1)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    faces = load_faces(args, 256)
    for name in names:
        result = train_variant(name, faces, args)
        print(json.dumps(result), flush=True)
        with open(Path(args.out) / "results.jsonl", "a") as handle:
            handle.write(json.dumps(result) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("speed", "quality"))
    parser.add_argument("--only", default="", help=f"comma-separated variants (default all: {', '.join(VARIANTS)})")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=15, help="speed: timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="speed: rounds, in alternating order against drift")
    parser.add_argument("--faces-a", default="")
    parser.add_argument("--faces-b", default="")
    parser.add_argument("--segmenter", default="", help="quality: segmenter folder for the training masks")
    parser.add_argument("--faces-cache", default="", help="quality: keep the loaded, masked faces in this .pt file")
    parser.add_argument("--cpu-minutes", type=float, default=3.0, help="quality: CPU time per variant")
    parser.add_argument("--preview-rows", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="bench_quality")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.mode == "speed":
        run_speed(args)
    else:
        run_quality(args)


if __name__ == "__main__":
    main()
