"""One GPU run, under 5 minutes, that cannot be wasted: every figure is appended to OUT/bench_gpu.jsonl
the moment it is measured, a row that fails (out of memory or anything else) is recorded with its error
and the next row runs, and nothing is downloaded (missing assets stop the script before any work).

    python scripts/bench_gpu.py --out results/          # on an H100/H200
    python scripts/bench_gpu.py --smoke --out /tmp/b    # tiny sizes on the CPU (< 1 min): checks the script works

Rows, cheapest first, each skipped (and recorded as skipped) once --budget-s has passed:
  * detector: which detector/provider extract uses on this device;
  * extract fps and convert fps at 1080p, on a clip made by upscaling the sample video (a few seconds);
  * training examples/s per preset in fp32 and bf16 (fp16 where bf16 is missing): our trainer
    against a bare PyTorch loop of the same task (the ratio); examples are (A face, B face) pairs
    of random pixels already in memory (throughput does not depend on them);
  * the same with the faces kept on the device and batches indexed there (train's --faces-on-device);
  * the batch `faceswap train --batch-size auto` picks (the swap task's step doubled until out of memory);
  * host syncs per training step (CUDA only: torch's sync debug mode counts them);
  * the largest batch that fits (doubling until out of memory);
  * the same examples/s with torch.compile, if the engine's TrainConfig has a `compile` field, in a
    child process that is stopped at the budget (compilation can take minutes).
Ends by writing OUT/bench_gpu.md from the JSON lines.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_train  # noqa: E402
from bench_train import StepClock, build_task, face_tensors, measure_bare  # noqa: E402

from faceswap.swap.config import SwapTrainConfig  # noqa: E402

ASSETS = ("centerface", "video_wolfgang", "mobilenet_v2_imagenet")  # detector, the clip's source, the perceptual loss
# (label, preset, options): the 64 px classic at its classic widths, the 128 px and the 256 px presets.
FULL_MODELS = [("64 px original_wide", "original_wide", {}), ("128 px large128", "large128", {}),
               ("256 px gpu256", "gpu256", {})]
SMOKE_MODELS = [("64 px original (tiny)", "original", {"encoder_widths": (8, 16, 32, 64), "bottleneck": 16, "decoder_widths": (8, 8, 4)}),
                ("128 px original (tiny)", "original", {"resolution": 128, "encoder_widths": (8, 8, 16, 32, 64), "bottleneck": 16,
                                                        "decoder_widths": (8, 8, 8, 4)})]
HD_SIZE = (1920, 1080)


class Results:
    """JSON lines in OUT/bench_gpu.jsonl, each written and flushed as soon as it is known."""

    def __init__(self, out: Path, started: float, budget_s: float, fresh: bool = True):
        out.mkdir(parents=True, exist_ok=True)
        self.path, self.started, self.deadline = out / "bench_gpu.jsonl", started, started + budget_s
        if fresh:
            self.path.write_text("")

    def seconds_left(self) -> float:
        return self.deadline - time.monotonic()

    def record(self, kind: str, **row) -> dict:
        row = {"kind": kind, **row, "at_s": round(time.monotonic() - self.started, 1)}
        with self.path.open("a") as file:
            file.write(json.dumps(row, default=str) + "\n")
        print(json.dumps(row, default=str), flush=True)
        return row

    def attempt(self, kind: str, label: dict, measure, min_seconds: float = 5.0) -> dict:
        """Run one row; its figures, or its error, or 'skipped' when the budget is spent, become one line."""
        if self.seconds_left() < min_seconds:
            return self.record(kind, **label, skipped="time budget spent")
        try:
            return self.record(kind, **label, **measure())
        except Exception as error:  # noqa: BLE001 - one failed row must not lose the others
            traceback.print_exc(limit=3)
            return self.record(kind, **label, error=f"{type(error).__name__}: {str(error).strip()[:400]}")
        finally:
            free_memory()


def free_memory() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def check_assets() -> None:
    """Stop before any work, in one line, when an asset would have to be downloaded."""
    from faceswap import assets

    missing = [name for name in ASSETS if not assets.is_cached(name)]
    if missing:
        raise SystemExit(f"bench_gpu needs cached assets it will not download mid-run; run `faceswap assets fetch {' '.join(missing)}` first.")
    os.environ["PIP_NO_INDEX"] = "1"  # a damaged asset fails its row instead of downloading (children inherit this)


def engine_has(field_name: str) -> bool:
    from faceswap.engine.config import TrainConfig

    return field_name in {field.name for field in dataclasses.fields(TrainConfig)}


def _config(preset: str, options: dict, device: str, precision: str, batch_size: int) -> SwapTrainConfig:
    return SwapTrainConfig(faces_a="-", faces_b="-", model_dir="-", preset=preset, device=device, precision=precision,
                           batch_size=batch_size, seed=0, threads=0, **options)


# --- training ----------------------------------------------------------------------------------

def measure_trainer(config: SwapTrainConfig, faces_a, faces_b, steps: int, warmup: int, engine: dict | None = None,
                    callbacks: tuple = (), faces_on: torch.device | None = None) -> float:
    """Examples/s of the engine Trainer on the swap task; ``engine`` overrides engine settings (compile);
    ``faces_on``: the faces are kept on that device and batches indexed there (faceswap train's
    --faces-on-device), else they are read from host memory by DataLoader workers into pinned memory."""
    from faceswap.engine import Trainer
    from faceswap.swap.device_faces import DevicePairs
    from faceswap.swap.train import engine_config, paired

    with tempfile.TemporaryDirectory() as out:
        config = replace(config, model_dir=out, steps=warmup + steps, save_every=10**9, eval_every=10**9,
                         log_every=10**9, progress=False)
        rows = range(len(faces_a))
        data = paired(faces_a, faces_b) if faces_on is None else DevicePairs(faces_a.to(faces_on), rows, faces_b.to(faces_on), rows)
        clock = StepClock(warmup)
        engine_settings = replace(engine_config(config, Path(out), len(data)), **(engine or {}))
        Trainer(build_task(config, faces_a.shape[-1]), engine_settings, callbacks=[clock, *callbacks]).fit(data)
    return clock.steps * config.batch_size / (clock.end - clock.start)


@contextlib.contextmanager
def compiled_bare_task():
    """measure_bare, but on a torch.compile'd task (bench_train builds the task through this name)."""
    original = bench_train.build_task

    def build_compiled(*args, **kwargs):
        task = original(*args, **kwargs)
        task.compile()
        return task

    bench_train.build_task = build_compiled
    try:
        yield
    finally:
        bench_train.build_task = original


def throughput(config, device, steps: int, warmup: int, compile_: bool = False) -> dict:
    stored = 2 * build_task(config).model.resolution
    faces_a, faces_b = face_tensors(config, stored, count=max(4 * config.batch_size, 64))
    trainer = measure_trainer(config, faces_a, faces_b, steps, warmup, engine={"compile": True} if compile_ else None)
    with compiled_bare_task() if compile_ else contextlib.nullcontext():
        bare = measure_bare(config, faces_a, faces_b, steps, warmup, device, precision=config.precision)
    return {"trainer_examples_per_s": trainer, "bare_examples_per_s": bare, "ratio": trainer / bare}


def throughput_device_faces(config, device, steps: int, warmup: int, bare: float | None) -> dict:
    """The trainer with its faces on the device (batches indexed there), against the bare loop of the
    throughput row of the same model and precision (measured just before; not measured again)."""
    stored = 2 * build_task(config).model.resolution
    faces_a, faces_b = face_tensors(config, stored, count=max(4 * config.batch_size, 64))
    trainer = measure_trainer(config, faces_a, faces_b, steps, warmup, faces_on=device)
    return {"trainer_examples_per_s": trainer, "bare_examples_per_s": bare, "ratio": trainer / bare if bare else None}


def auto_batch(config, device, limit: int) -> dict:
    """What `faceswap train --batch-size auto` picks on this device: the swap task's real training step,
    doubled until out of memory (on the CPU train itself takes 8 without probing; probed here all the same)."""
    from faceswap.swap.batch_size import probe_batch_size

    started = time.monotonic()
    found = probe_batch_size(build_task(config), device, config.precision, limit)
    return {"auto_batch": found, "limit": limit, "probe_s": time.monotonic() - started}


class SyncCounter:
    """Engine callback: turns torch's CUDA sync debug mode on for the timed steps; warnings are counted by the caller."""

    def __init__(self, warmup: int, steps: int, caught: list):
        self.warmup, self.last, self.caught, self.first_index = warmup, warmup + steps, caught, None

    def on_step_end(self, trainer, step, metrics):
        if step == self.warmup:
            torch.cuda.set_sync_debug_mode("warn")
            self.first_index = len(self.caught)
        elif step == self.last:
            torch.cuda.set_sync_debug_mode(0)


def host_syncs(config, device, steps: int, warmup: int) -> dict:
    if device.type != "cuda":
        return {"skipped": "CUDA only (torch.cuda.set_sync_debug_mode)"}
    stored = 2 * build_task(config).model.resolution
    faces_a, faces_b = face_tensors(config, stored, count=max(4 * config.batch_size, 64))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        counter = SyncCounter(warmup, steps, caught)
        try:
            measure_trainer(config, faces_a, faces_b, steps, warmup, callbacks=(counter,))
        finally:
            torch.cuda.set_sync_debug_mode(0)
    syncs = [w for w in caught[counter.first_index or 0:] if "synchroniz" in str(w.message).lower()]
    where = sorted({f"{Path(w.filename).name}:{w.lineno}" for w in syncs})[:10]
    return {"host_syncs_per_step": len(syncs) / steps, "where": where}


def _is_oom(error: BaseException) -> bool:
    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in str(error).lower()


def largest_batch(results: Results, label: str, config, device, start: int, cap: int, seconds: float) -> dict:
    """Double the batch until a bare training step runs out of memory; each probe is a line of its own."""
    stored = 2 * build_task(config).model.resolution
    deadline = min(time.monotonic() + seconds, results.deadline)
    fits, rate, batch, stopped_by = None, None, start, "cap"
    while batch <= cap:
        if time.monotonic() > deadline:
            stopped_by = "time"
            break
        try:
            faces_a, faces_b = face_tensors(config, stored, batch)
            rate = measure_bare(replace(config, batch_size=batch), faces_a, faces_b, steps=3, warmup=1, device=device,
                                precision=config.precision)
            fits = batch
            peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
            results.record("batch_probe", model=label, precision=config.precision, batch=batch, examples_per_s=rate, peak_gib=peak)
        except (RuntimeError, torch.OutOfMemoryError) as error:
            if not _is_oom(error):
                raise
            stopped_by = "out of memory"
            results.record("batch_probe", model=label, precision=config.precision, batch=batch, error="out of memory")
            break
        finally:
            faces_a = faces_b = None
            free_memory()
        batch *= 2
    return {"largest_batch": fits, "stopped_by": stopped_by, "examples_per_s_at_largest": rate}


# --- extract and convert at 1080p ---------------------------------------------------------------

def make_hd_clip(target: Path, frames: int) -> Path:
    """The sample talking-head video, upscaled to 1920x1080 (a few seconds, with x264 at crf 18)."""
    import cv2

    from faceswap import assets
    from faceswap.video import VideoWriter, open_reader

    with open_reader(assets.ensure("video_wolfgang"), start=0, end=frames) as reader:
        with VideoWriter(target, *HD_SIZE, reader.info.fps, crf=18, preset="veryfast") as writer:
            for frame in reader:
                writer.write(cv2.resize(frame.image, HD_SIZE, interpolation=cv2.INTER_LINEAR))
    return target


def describe_detector(device: str) -> dict:
    from faceswap.extract.detectors import DetectorSettings, load_detector

    detector = load_detector("centerface", DetectorSettings(device=device))
    return {"detector": detector.describe()}


def extract_fps(clip: Path, work: Path, device: str, timeout: float) -> dict:
    command = [sys.executable, "-m", "faceswap.cli.main", "extract", "-i", str(clip), "-o", str(work / "faces_hd"),
               "--device", device, "--json", "--overwrite"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode:
        raise RuntimeError(f"exit {result.returncode}: {result.stderr.strip()[-400:]}")
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    return {"fps": summary["fps"], "frames": summary["frames"], "faces": summary["faces"], "seconds": summary["seconds"],
            "stderr": result.stderr.strip()[-300:], "command": " ".join(command[3:])}


def convert_fps(clip: Path, work: Path, device: str, frames: int, smoke: bool, timeout: float) -> dict:
    script = Path(__file__).resolve().parent / "bench_convert.py"
    command = [sys.executable, str(script), "--video", str(clip), "--device", device, "--frames", f"0:{frames}",
               "--work", str(work / "convert"), "--repeat", "1"] + (["--encoder-preset", "ultrafast"] if smoke else [])
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode:
        raise RuntimeError(f"exit {result.returncode}: {result.stderr.strip()[-400:]}")
    figures = {f"{label} fps": float(value) for label, value in re.findall(r"^(.+?):\s+([\d.]+) frames/s", result.stdout, re.M)}
    return {**figures, "output": result.stdout.strip()[-600:], "command": " ".join(command[2:])}


# --- torch.compile rows, in a child that the budget can stop ---------------------------------------

def compile_rows(args, results: Results) -> None:
    if not engine_has("compile"):
        results.record("compile", skipped="the engine's TrainConfig has no `compile` field")
        return
    if args.smoke:
        results.record("compile", skipped="--smoke: compiling takes minutes on a CPU")
        return
    if results.seconds_left() < 30:
        results.record("compile", skipped="time budget spent")
        return
    command = [sys.executable, str(Path(__file__).resolve()), "--out", str(Path(args.out)), "--compile-child",
               "--device", args.device_name, "--batch-size", str(args.batch), "--steps", str(args.steps_n)]
    try:
        subprocess.run(command, timeout=results.seconds_left(), check=False)
    except subprocess.TimeoutExpired:
        results.record("compile", error="stopped at the time budget; rows above were finished")


def compile_child(args) -> None:
    """Appends compiled throughput rows to the same file (the parent stops this process at its budget)."""
    results = Results(Path(args.out), time.monotonic(), budget_s=3600, fresh=False)  # the parent's budget applies
    device = torch.device(args.device_name)
    mixed = mixed_precision(device)
    for label, preset, options in FULL_MODELS:
        config = _config(preset, options, args.device_name, mixed, args.batch)
        results.attempt("throughput", {"model": label, "precision": mixed, "compile": True},
                        lambda: throughput(config, device, args.steps_n, warmup=5, compile_=True))


def mixed_precision(device: torch.device) -> str:
    return "bf16" if device.type != "cuda" or torch.cuda.is_bf16_supported() else "fp16"


# --- report ------------------------------------------------------------------------------------------

def markdown(rows: list[dict], header: dict) -> str:
    lines = [f"# GPU benchmark ({header.get('device')})", "", f"torch {header.get('torch')}, {header.get('mode')} mode, "
             f"batch {header.get('batch_size')}, {header.get('steps')} timed steps; ratio = our trainer / bare PyTorch loop.", ""]
    for row in rows:
        if row["kind"] in ("start", "batch_probe"):
            continue
        shown = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items() if k not in ("kind", "output", "stderr")}
        lines.append(f"- **{row['kind']}** " + ", ".join(f"{k} {v}" for k, v in shown.items()))
    return "\n".join(lines) + "\n"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for bench_gpu.jsonl and bench_gpu.md")
    parser.add_argument("--smoke", action="store_true", help="tiny models and sizes on the CPU: checks that the script works")
    parser.add_argument("--device", default=None, help="default: cuda (cpu with --smoke)")
    parser.add_argument("--batch-size", type=int, default=None, help="batch for the throughput rows (default 64; 4 with --smoke)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per figure (default 30; 3 with --smoke)")
    parser.add_argument("--budget-s", type=float, default=270.0, help="rows not started by then are recorded as skipped")
    parser.add_argument("--compile-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.device_name = args.device or ("cpu" if args.smoke else "cuda")
    args.batch = args.batch_size or (4 if args.smoke else 64)
    args.steps_n = args.steps or (3 if args.smoke else 30)
    return args


def main() -> None:
    args = parse_args()
    if args.compile_child:
        return compile_child(args)
    started = time.monotonic()
    device = torch.device(args.device_name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("No CUDA GPU is visible; run with --smoke (CPU) or on a GPU machine.")
    check_assets()
    results = Results(Path(args.out), started, args.budget_s)
    warmup, models, mixed = (1 if args.smoke else 5), (SMOKE_MODELS if args.smoke else FULL_MODELS), mixed_precision(device)
    header = results.record("start", device=torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU",
                            torch=torch.__version__, mode="smoke" if args.smoke else "full", batch_size=args.batch,
                            steps=args.steps_n, engine_compile=engine_has("compile"), engine_channels_last=engine_has("channels_last"))
    results.attempt("detector", {"device": args.device_name}, lambda: describe_detector(args.device_name))
    hd_frames = 6 if args.smoke else 150
    with tempfile.TemporaryDirectory(prefix="bench_gpu_") as scratch:
        work, clip = Path(scratch), Path(scratch) / "clip_1080p.mp4"
        made = results.attempt("hd_clip", {"frames": hd_frames, "size": "x".join(map(str, HD_SIZE))},
                               lambda: {"path": str(make_hd_clip(clip, hd_frames))})
        if "path" in made:
            results.attempt("extract_1080p", {"device": args.device_name},
                            lambda: extract_fps(clip, work, args.device_name, timeout=max(10.0, results.seconds_left())))
            results.attempt("convert_1080p", {"device": args.device_name},
                            lambda: convert_fps(clip, work, args.device_name, hd_frames, args.smoke, timeout=max(10.0, results.seconds_left())))
    bare_rates = {}
    for label, preset, options in models:
        for precision in ("fp32", mixed):
            config = _config(preset, options, args.device_name, precision, args.batch)
            row = results.attempt("throughput", {"model": label, "precision": precision, "compile": False},
                                  lambda: throughput(config, device, args.steps_n, warmup))
            bare_rates[label, precision] = row.get("bare_examples_per_s")
    label, preset, options = models[0]
    config = _config(preset, options, args.device_name, mixed, args.batch)
    results.attempt("throughput_device_faces", {"model": label, "precision": mixed},
                    lambda: throughput_device_faces(config, device, args.steps_n, warmup, bare_rates.get((label, mixed))))
    results.attempt("auto_batch", {"model": label, "precision": mixed},
                    lambda: auto_batch(config, device, 8 if args.smoke else 1024))
    results.attempt("host_syncs", {"model": label, "precision": mixed},
                    lambda: host_syncs(_config(preset, options, args.device_name, mixed, args.batch), device, args.steps_n, warmup))
    for label, preset, options in models:
        config = _config(preset, options, args.device_name, mixed, args.batch)
        share = max(5.0, (results.seconds_left() - 60) / len(models))  # leave time for the compiled rows
        results.attempt("largest_batch", {"model": label, "precision": mixed},
                        lambda: largest_batch(results, label, config, device, args.batch, 8 if args.smoke else 8192, share))
    compile_rows(args, results)
    rows = [json.loads(line) for line in results.path.read_text().splitlines() if line.strip()]
    (Path(args.out) / "bench_gpu.md").write_text(markdown(rows, header))
    print(f"{len(rows)} rows in {results.path}, {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
