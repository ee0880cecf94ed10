"""Face-swap training on one GPU, in under 5 minutes: examples/s at 64, 128 and 256 px with and without
mixed precision, our trainer against a bare PyTorch loop of the same task in the same run (the
ratio), and the largest batch that fits (doubling until out of memory). Ends by running
scripts/bench_convert.py on the same device when that script exists.

    python scripts/bench_gpu.py --out results/          # on an H100/H200
    python scripts/bench_gpu.py --smoke --out /tmp/b    # tiny sizes on the CPU: checks the script works

Writes OUT/bench_gpu.json and OUT/bench_gpu.md. Examples are (A face, B face) pairs; faces are
random pixels already in memory (throughput does not depend on them).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_train import build_task, face_tensors, measure_bare, measure_trainer  # noqa: E402

from faceswap.swap.config import SwapTrainConfig  # noqa: E402

# (label, preset, options): the 64 px classic at its classic widths, the 128 px and the 256 px presets.
FULL_MODELS = [("64 px original_wide", "original_wide", {}), ("128 px large128", "large128", {}),
               ("256 px gpu256", "gpu256", {})]
SMOKE_MODELS = [("64 px original (tiny)", "original", {"encoder_widths": (8, 16, 32, 64), "bottleneck": 16, "decoder_widths": (8, 8, 4)}),
                ("128 px original (tiny)", "original", {"resolution": 128, "encoder_widths": (8, 8, 16, 32, 64), "bottleneck": 16,
                                                        "decoder_widths": (8, 8, 8, 4)})]


def _config(preset: str, options: dict, device: str, precision: str, batch_size: int) -> SwapTrainConfig:
    return SwapTrainConfig(faces_a="-", faces_b="-", model_dir="-", preset=preset, device=device, precision=precision,
                           batch_size=batch_size, seed=0, threads=0, **options)


def _is_oom(error: BaseException) -> bool:
    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error).lower()


def largest_batch(config: SwapTrainConfig, device: torch.device, start: int, cap: int, deadline: float) -> dict:
    """Double the batch until a bare training step runs out of memory (or the cap/deadline)."""
    stored = 2 * build_task(config).model.resolution
    fits, rate, memory, batch = None, None, None, start
    while batch <= cap and time.monotonic() < deadline:
        try:
            faces_a, faces_b = face_tensors(config, stored, batch)
            rate = measure_bare(replace(config, batch_size=batch), faces_a, faces_b, steps=3, warmup=1, device=device,
                                precision=config.precision)
            fits = batch
            memory = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
        except (RuntimeError, torch.OutOfMemoryError) as error:
            if not _is_oom(error):
                raise
            break
        finally:
            faces_a = faces_b = None
            if device.type == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(device)
        batch *= 2
    return {"largest_batch": fits, "stopped_by": "out of memory" if batch <= cap and time.monotonic() < deadline else "cap/time",
            "examples_per_s_at_largest": rate, "peak_gib": memory}


def run_convert_bench(device: str, smoke: bool, seconds_left: float) -> dict:
    script = Path(__file__).resolve().parent / "bench_convert.py"
    if not script.is_file():
        return {"ran": False, "reason": "scripts/bench_convert.py not found"}
    command = [sys.executable, str(script), "--device", device] + (["--frames", "0:8"] if smoke else [])
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=max(30.0, seconds_left))
    except subprocess.TimeoutExpired:
        return {"ran": True, "command": " ".join(command[1:]), "returncode": None, "output": "timed out"}
    return {"ran": True, "command": " ".join(command[1:]), "returncode": result.returncode,
            "output": (result.stdout + ("\n" + result.stderr if result.returncode else ""))[-4000:]}


def markdown(report: dict) -> str:
    lines = [f"# Face-swap training benchmark ({report['device']})", "",
             f"torch {report['torch']}, {report['mode']} mode, batch {report['batch_size']}, {report['steps']} timed steps; "
             "examples are (A, B) face pairs; ratio = our trainer / bare PyTorch loop of the same task.", "",
             "| model | precision | trainer ex/s | bare loop ex/s | ratio |", "|---|---|---:|---:|---:|"]
    for row in report["throughput"]:
        lines.append(f"| {row['model']} | {row['precision']} | {row['trainer_examples_per_s']:.1f} | "
                     f"{row['bare_examples_per_s']:.1f} | {row['ratio']:.3f} |")
    lines += ["", "| model | precision | largest batch | stopped by | ex/s there (bare) | peak GiB |", "|---|---|---:|---|---:|---:|"]
    for row in report["largest_batch"]:
        peak = f"{row['peak_gib']:.1f}" if row.get("peak_gib") else "-"
        rate = f"{row['examples_per_s_at_largest']:.1f}" if row.get("examples_per_s_at_largest") else "-"
        lines.append(f"| {row['model']} | {row['precision']} | {row['largest_batch']} | {row['stopped_by']} | {rate} | {peak} |")
    convert = report["convert"]
    lines += ["", "## bench_convert.py", ""]
    lines += [f"`{convert.get('command', '')}` exit {convert.get('returncode')}", "", "```", convert.get("output", ""), "```"] \
        if convert.get("ran") else [convert.get("reason", "not run")]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for bench_gpu.json and bench_gpu.md")
    parser.add_argument("--smoke", action="store_true", help="tiny models and sizes on the CPU: checks that the script works")
    parser.add_argument("--device", default=None, help="default: cuda (cpu with --smoke)")
    parser.add_argument("--batch-size", type=int, default=None, help="batch for the throughput table (default 64; 4 with --smoke)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per figure (default 30; 3 with --smoke)")
    parser.add_argument("--budget-s", type=float, default=270.0, help="stop the batch search when this much time has passed")
    args = parser.parse_args()
    started = time.monotonic()
    device_name = args.device or ("cpu" if args.smoke else "cuda")
    device = torch.device(device_name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("No CUDA GPU is visible; run with --smoke (CPU) or on a GPU machine.")
    batch, steps = args.batch_size or (4 if args.smoke else 64), args.steps or (3 if args.smoke else 30)
    warmup = 1 if args.smoke else 5
    models = SMOKE_MODELS if args.smoke else FULL_MODELS
    mixed = "bf16" if device.type != "cuda" or torch.cuda.is_bf16_supported() else "fp16"
    report = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU", "torch": torch.__version__,
              "mode": "smoke" if args.smoke else "full", "batch_size": batch, "steps": steps, "throughput": [],
              "largest_batch": []}
    for label, preset, options in models:
        for precision in ("fp32", mixed):
            config = _config(preset, options, device_name, precision, batch)
            stored = 2 * build_task(config).model.resolution
            faces_a, faces_b = face_tensors(config, stored, count=max(4 * batch, 64))
            trainer = measure_trainer(config, faces_a, faces_b, steps, warmup)
            bare = measure_bare(config, faces_a, faces_b, steps, warmup, device, precision=precision)
            report["throughput"].append({"model": label, "precision": precision, "trainer_examples_per_s": trainer,
                                         "bare_examples_per_s": bare, "ratio": trainer / bare})
            print(f"{label:<24} {precision:<5} trainer {trainer:9.1f} ex/s  bare {bare:9.1f} ex/s  ratio {trainer / bare:.3f}", flush=True)
    deadline = started + args.budget_s
    for label, preset, options in models:
        config = _config(preset, options, device_name, mixed, batch)
        found = largest_batch(config, device, start=batch, cap=16 if args.smoke else 8192, deadline=deadline)
        report["largest_batch"].append({"model": label, "precision": mixed, **found})
        print(f"{label:<24} {mixed:<5} largest batch {found['largest_batch']} ({found['stopped_by']})", flush=True)
    report["convert"] = run_convert_bench(device_name, args.smoke, seconds_left=300 - (time.monotonic() - started))
    report["seconds"] = time.monotonic() - started
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_gpu.json").write_text(json.dumps(report, indent=1))
    (out / "bench_gpu.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
