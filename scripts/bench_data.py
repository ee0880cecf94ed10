"""Training data from the face cache: speed against in-memory faces, and memory as the face set grows.

1. examples/s of `faceswap train`'s loop (the engine Trainer on the swap task, on the CPU) fed from
   the face cache (CachedPairs reading the cache files) and from an in-memory tensor of the same
   faces (a TensorDataset, as before the cache), alternated in one run (ABBA), printed as a ratio
   (goal >= 0.9); then the cache with 1 and 2 DataLoader workers (what --num-workers buys here).
2. Peak memory of a process that reads one epoch (shuffled, through the engine's loader) of a large
   synthetic cache, at a quarter of --large-faces and at --large-faces: anonymous memory (what the
   process holds) and file-backed pages (page cache, reclaimable), against the bytes that holding
   the faces in memory takes.
3. Peak memory while building a cache from real PNG faces: a faces folder whose alignments list
   its faces again and again (symlinked crops), at a quarter of --build-faces and at --build-faces.

    .venv/bin/python scripts/bench_data.py                       # about two minutes on 2 CPU cores
    .venv/bin/python scripts/bench_data.py --large-faces 20000 --large-size 256 --build-faces 8000

Faces for (1) and (2) are random (speed ignores pixels); (3) uses --faces, else the faces of a
sample video extracted once into --work. Memory figures come from /proc (Linux).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

MIB = 1 << 20


# ------------------------------------------------------------------------------------ memory
def memory_now() -> dict[str, int]:
    """Bytes: rss, anon (RssAnon), file (RssFile), peak (VmHWM) of this process."""
    fields = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "VmHWM": "peak"}
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key = line.split(":")[0]
            if key in fields:
                values[fields[key]] = int(line.split()[1]) * 1024
    return values


class PeakSampler:
    """Highest anonymous and file-backed RSS seen, sampled every few milliseconds in a thread."""

    def __init__(self, every_s: float = 0.01):
        self.every_s, self.anon, self.file = every_s, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        now = memory_now()
        self.anon, self.file = max(self.anon, now["anon"]), max(self.file, now["file"])

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.sample()

    def __enter__(self) -> "PeakSampler":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


# ------------------------------------------------------------------------------ synthetic caches
def synthetic_cache(path: Path, count: int, size: int, seed: int = 0):
    """A cache file of ``count`` random faces (a block of 64 repeated: writing stays fast)."""
    import numpy as np

    from faceswap.swap.data import CHANNELS
    from faceswap.swap.face_cache import FaceCache, write_faces

    block = np.random.default_rng(seed).integers(0, 256, (64, CHANNELS, size, size), dtype=np.uint8)
    chunks = (block[:min(64, count - start)] for start in range(0, count, 64))
    offset = write_faces(path, (count, CHANNELS, size, size), chunks)
    return FaceCache(path, count, size, offset, "extract", "synthetic")


# ------------------------------------------------------------------------------------ (1) speed
def measure(config, data, stored_size: int, steps: int, warmup: int) -> float:
    """Examples/s of the engine Trainer on the swap task, fed ``data``."""
    from bench_train import StepClock, build_task

    from faceswap.engine import Trainer
    from faceswap.swap.train import engine_config

    with tempfile.TemporaryDirectory() as out:
        config = replace(config, model_dir=out, steps=warmup + steps, save_every=10**9, eval_every=10**9,
                         log_every=10**9, progress=False)
        clock = StepClock(warmup)
        trainer = Trainer(build_task(config, stored_size), engine_config(config, Path(out), len(data)), callbacks=[clock])
        trainer.fit(data)
    return clock.steps * config.batch_size / (clock.end - clock.start)


def speed(args, work: Path) -> None:
    import numpy as np
    import torch

    from bench_train import build_task

    from faceswap.runtime import set_threads
    from faceswap.swap.config import SwapTrainConfig
    from faceswap.swap.data import CachedPairs
    from faceswap.swap.face_cache import FaceReader
    from faceswap.swap.train import paired

    set_threads(args.threads)
    config = SwapTrainConfig(faces_a="-", faces_b="-", model_dir="-", preset=args.preset, batch_size=args.batch_size,
                             device="cpu", threads=args.threads, seed=0)
    stored = 2 * build_task(config).model.resolution
    caches = [synthetic_cache(work / f"speed_{side}.npy", args.speed_faces, stored, seed) for seed, side in enumerate("ab")]
    in_memory = paired(*(torch.from_numpy(np.array(cache.faces)) for cache in caches))  # the same faces, in memory
    rows = list(range(args.speed_faces))
    cached = CachedPairs(FaceReader(caches[0]), rows, FaceReader(caches[1]), rows)
    variants = {"in-memory tensor": (config, in_memory), "face cache, 0 workers": (config, cached),
                "face cache, 1 worker": (replace(config, num_workers=1), cached),
                "face cache, 2 workers": (replace(config, num_workers=2), cached)}
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for round_index in range(args.rounds):  # every variant in every round, the order reversed every other round
        for name in (list(variants) if round_index % 2 == 0 else list(variants)[::-1]):
            variant_config, data = variants[name]
            rates[name].append(measure(variant_config, data, stored, args.steps, args.warmup))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    memory = medians["in-memory tensor"]
    print(f"(1) preset {args.preset}, batch {args.batch_size}, threads {torch.get_num_threads()}, {args.speed_faces} random "
          f"faces per side at {stored} px, {args.steps} timed steps x {args.rounds} rounds")
    for name, rate in medians.items():
        print(f"    {name + ':':23s} {rate:7.1f} examples/s  ratio {rate / memory:.3f}  "
              f"(rounds: {', '.join(f'{r:.1f}' for r in rates[name])})")
    print(f"    ratio face cache (0 workers, the CPU default) / in-memory: {medians['face cache, 0 workers'] / memory:.3f}  "
          "(goal >= 0.9)")
    for cache in caches:
        cache.path.unlink()


# ------------------------------------------------------------------------------------ (2) reading
def child_iterate(args) -> dict:
    """One shuffled epoch of pairs (the cache on both sides) through the engine's loader."""
    from faceswap.engine.data import EpochLoader
    from faceswap.engine.distributed import dist_info_from_env
    from faceswap.runtime import keep_freed_memory
    from faceswap.swap.data import CachedPairs
    from faceswap.swap.face_cache import FaceCache, FaceReader, data_offset

    keep_freed_memory()  # as the Trainer does

    shape = (args.count, 5, args.size, args.size)
    cache = FaceCache(Path(args.cache), args.count, args.size, data_offset(Path(args.cache), shape), "extract", "synthetic")
    rows = list(range(args.count))
    pairs = CachedPairs(FaceReader(cache), rows, FaceReader(cache), rows)
    loader = EpochLoader(pairs, args.batch_size, dist_info_from_env(), shuffle=True, seed=0, drop_last=False,
                         num_workers=0, pin_memory=False)
    before = memory_now()
    started, seen, checksum = time.perf_counter(), 0, 0
    with PeakSampler() as peak:
        for faces_a, faces_b in loader.epoch(0):
            seen += len(faces_a)
            checksum += int(faces_a[:, :, 0, 0].sum()) + int(faces_b[:, :, -1, -1].sum())
            peak.sample()
    seconds = time.perf_counter() - started
    return {"before_anon": before["anon"], "peak_anon": peak.anon, "peak_file": peak.file, "peak_rss": memory_now()["peak"],
            "faces": seen, "seconds": seconds, "checksum": checksum}


def reading(args, work: Path) -> None:
    print(f"(2) one shuffled epoch of pairs, batch {args.read_batch}, from a synthetic cache at {args.large_size} px "
          f"(fresh process per size)")
    for count in sorted({max(64, args.large_faces // 4), args.large_faces}):
        path = work / f"large_{count}.npy"
        synthetic_cache(path, count, args.large_size)
        result = run_child("iterate", "--cache", str(path), "--count", str(count), "--size", str(args.large_size),
                           "--batch-size", str(args.read_batch))
        in_memory = count * 5 * args.large_size ** 2
        print(f"    {count:6d} faces ({in_memory / MIB:7.0f} MiB in memory per side): peak anonymous {result['peak_anon'] / MIB:6.0f} MiB "
              f"(at start {result['before_anon'] / MIB:.0f}), file-backed {result['peak_file'] / MIB:4.0f} MiB, "
              f"peak RSS {result['peak_rss'] / MIB:5.0f} MiB; {2 * result['faces'] / result['seconds']:7.0f} faces/s read")
        path.unlink()


# ------------------------------------------------------------------------------------ (3) building
def child_build(args) -> dict:
    from faceswap.swap.data import read_face_source
    from faceswap.swap.face_cache import build_face_cache

    source = read_face_source(args.faces, 2)
    before = memory_now()
    started = time.perf_counter()
    with PeakSampler() as peak:
        cache = build_face_cache(source, Path(args.cache), args.size)
    return {"before_anon": before["anon"], "peak_anon": peak.anon, "peak_file": peak.file, "peak_rss": memory_now()["peak"],
            "faces": cache.count, "seconds": time.perf_counter() - started}


def replicated_faces(faces: Path, target: Path, count: int) -> Path:
    """A faces folder listing the faces of ``faces`` again and again up to ``count`` (crops and masks symlinked)."""
    from faceswap.align import alignments as alignments_file

    alignments = alignments_file.load(faces)
    frames = [frame for frame in alignments.frames if frame.faces]
    target.mkdir(parents=True, exist_ok=True)
    for name in {Path(face.face_file).parts[0] for _, face in alignments.faces()} | {
            Path(face.mask_file).parts[0] for _, face in alignments.faces() if face.mask_file}:
        if not (target / name).exists():
            (target / name).symlink_to((faces / name).resolve(), target_is_directory=True)
    alignments.frames = [replace(frames[i % len(frames)], index=i) for i in range(count)]
    if not alignments_file.alignments_path(target).is_file():
        alignments.save(alignments_file.alignments_path(target))
    return target


def building(args, work: Path) -> None:
    from faceswap.align.alignments import load

    faces = Path(args.faces) if args.faces else sample_faces(work)
    size = min(args.build_size, load(faces).template.size)
    print(f"(3) building a cache at {size} px from the PNG faces of {faces}, listed again and again (fresh process per size)")
    for count in sorted({max(64, args.build_faces // 4), args.build_faces}):
        folder = replicated_faces(faces, work / f"replicated_{count}", count)
        cache = work / f"built_{count}.npy"
        result = run_child("build", "--faces", str(folder), "--cache", str(cache), "--size", str(size))
        print(f"    {result['faces']:6d} faces ({result['faces'] * 5 * size ** 2 / MIB:6.0f} MiB of cache): "
              f"peak anonymous {result['peak_anon'] / MIB:5.0f} MiB (at start {result['before_anon'] / MIB:.0f}), "
              f"file-backed {result['peak_file'] / MIB:4.0f} MiB, peak RSS {result['peak_rss'] / MIB:5.0f} MiB; "
              f"{result['faces'] / result['seconds']:5.0f} faces/s")
        cache.unlink()
        cache.with_suffix(".json").unlink(missing_ok=True)


def sample_faces(work: Path) -> Path:
    from bench_convert import alignments_for

    from faceswap import assets

    return alignments_for(assets.ensure("video_wolfgang"), work, "cpu")


# ------------------------------------------------------------------------------------ plumbing
def run_child(*argv: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", *argv], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"child {argv[0]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="original")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per speed measurement")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=4, help="in-memory/cache pairs, alternated (ABBA) against drift")
    parser.add_argument("--speed-faces", type=int, default=512, help="faces per side for (1)")
    parser.add_argument("--large-faces", type=int, default=4000, help="faces of the synthetic set read in (2)")
    parser.add_argument("--large-size", type=int, default=256, help="stored face size in (2) (2x a 128 px model)")
    parser.add_argument("--read-batch", type=int, default=64, help="pairs per batch in (2)")
    parser.add_argument("--build-faces", type=int, default=2000, help="faces decoded from PNG in (3)")
    parser.add_argument("--build-size", type=int, default=256, help="stored face size in (3) (at most the crop size)")
    parser.add_argument("--faces", default="", help="a faces folder for (3) (default: a sample video's, extracted into --work)")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "faceswap_bench_data"))
    parser.add_argument("--only", choices=("speed", "reading", "building"), help="run one part")
    parser.add_argument("--child", choices=("iterate", "build"), help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_iterate(args) if args.child == "iterate" else child_build(args)))
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    parts = {"speed": speed, "reading": reading, "building": building}
    for name, part in parts.items():
        if args.only in (None, name):
            part(args, work)


if __name__ == "__main__":
    main()
