"""Mask benchmark: the segmenter's crops/s on this machine (1 and 2 threads, or the device), and
convert's frames/s with the default segmenter mask against a plain decode + encode of the same
frames in the same run, printed as ratios.

    .venv/bin/python scripts/bench_mask.py [--device cpu|cuda] [--preset tiramisu] [--frames 0:240]

Goals (CPU): convert with the segmenter mask >= 0.4 of the plain transcode. Weights are random
(speed does not depend on training); faces come from an extract cached in --work.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_convert import alignments_for, best_seconds, plain_transcode, random_model_dir  # noqa: E402


def random_segmenter(target: Path, preset: str) -> Path:
    import torch

    from faceswap.align.template import Template
    from faceswap.registry import get
    from faceswap.segment.folder import save_weights, write_info

    torch.manual_seed(0)
    model = get("segmenter", preset)()
    target.mkdir(parents=True, exist_ok=True)
    save_weights(target, model)
    write_info(target, preset, model, Template(), steps=0, finished=True)
    return target


def crops_per_second(segmenter_dir: Path, device: str, threads: int, batch: int, seconds: float = 3.0) -> float:
    import numpy as np

    from faceswap import runtime
    from faceswap.segment import load_segmenter

    runtime.set_threads(threads)  # as every command does (also keeps freed memory for reuse)
    segmenter = load_segmenter(segmenter_dir, device)
    crops = np.random.default_rng(0).integers(0, 255, (batch, segmenter.resolution, segmenter.resolution, 3), np.uint8)
    segmenter.predict(crops)  # warm-up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        segmenter.predict(crops)
        done += batch
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", default="video_wolfgang")
    parser.add_argument("--frames", default="0:240")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--preset", default="tiramisu", help="segmenter preset (random weights)")
    parser.add_argument("--batch", type=int, default=32, help="crops per segmenter call")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "faceswap_bench_mask"))
    args = parser.parse_args()

    import torch

    from faceswap import assets
    from faceswap.convert import ConvertConfig, convert
    from faceswap.convert.config import parse_frame_range

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    model_dir = random_model_dir(work / "model", "original")
    segmenter_dir = random_segmenter(model_dir / "segmenter", args.preset)
    thread_counts = [0] if args.device != "cpu" else [1, 2]
    print(f"segmenter {args.preset}, batch {args.batch}, device {args.device}")
    for threads in thread_counts:
        rate = crops_per_second(segmenter_dir, args.device, threads or torch.get_num_threads(), args.batch)
        print(f"  {threads or 'default'} thread(s): {rate:8.1f} crops/s")

    video = Path(args.video) if Path(args.video).is_file() else assets.ensure(args.video)
    start, end = parse_frame_range(args.frames)
    faces = alignments_for(video, work, args.device)
    base = ConvertConfig(input=str(video), model_dir=str(model_dir), output=str(work / "converted.mp4"),
                         alignments=str(faces), frames=args.frames, device=args.device, progress=False)
    convert(dataclasses.replace(base, frames=f"{start}:{start + 8}"))  # warm-up
    frames = plain_transcode(video, work / "plain.mp4", start, end, base.crf, base.encoder_preset)
    plain = best_seconds(lambda: plain_transcode(video, work / "plain.mp4", start, end, base.crf, base.encoder_preset), args.repeat)
    print(f"video {video.name}, frames {args.frames} ({frames} frames)")
    print(f"plain decode+encode: {frames / plain:7.1f} frames/s")
    for mask in ("auto", "outline"):
        seconds = best_seconds(lambda: convert(dataclasses.replace(base, mask=mask)), args.repeat)
        label = "segmenter (default)" if mask == "auto" else mask
        print(f"convert, mask {label}: {frames / seconds:7.1f} frames/s  ratio {plain / seconds:.2f} (goal >= 0.4)")


if __name__ == "__main__":
    main()
