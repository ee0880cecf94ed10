"""Convert benchmark: frames/s of `convert` against a plain decode + encode of the same frames
(same reader, same writer settings, audio included) in the same run, printed as a ratio.

    .venv/bin/python scripts/bench_convert.py [--device cpu|cuda] [--threads N] [--frames 0:240]
        [--video video_wolfgang] [--preset original] [--batch-size 16] [--encoder-preset medium]
        [--precision auto] [--paste auto] [--encoder auto] [--paste-workers 0,1,2]

Goal: ratio >= 0.5 on CPU with the 64 px `original` preset. The model has random weights
(speed does not depend on training). Faces come from an alignments file made once by extract
(cached in --work, not timed), hands included; a second figure finds faces (and hands) on the fly
instead. Each is also timed with ``--hands none``: what keeping hands in front costs, and the
alignments figure with ``--face-mesh none`` (no expression or shape kept). The random model runs
on every face, but its output is replaced by its input face: noise holds no face for the face
mesh, so a random drawing would skip the warp that a trained model's faces go through. Each
measurement is the best of --repeat runs, as the machine may be shared. ``--paste-workers 0,1,2``
times the alignments figure once per paste-worker count (0: pasted on the main thread), so the
counts compare within one run.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import tempfile
import time
from pathlib import Path


def best_seconds(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def alternating_best(configs: dict, run, repeat: int) -> dict[str, float]:
    """Best seconds of ``run(config)`` per label over ``repeat`` rounds, the order reversed every other
    round so that a busy neighbour does not favour whichever runs first."""
    times: dict[str, list[float]] = {label: [] for label in configs}
    for round_index in range(repeat):
        order = list(configs.items())
        for label, config in order if round_index % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            run(config)
            times[label].append(time.perf_counter() - started)
    return {label: min(values) for label, values in times.items()}


@contextlib.contextmanager
def model_draws_its_input():
    """While open, convert's model still runs but hands back the faces it was given (with its mask), so
    what follows it (face mesh, shape warp, colour, paste) works on real faces."""
    from faceswap.convert import pipeline

    load_model = pipeline.load_model

    def load_echoing(model_dir, device):
        model, *rest = load_model(model_dir, device)
        swap = model.swap

        def echo(faces, direction):
            drawn, masks = swap(faces, direction)
            return faces.to(drawn.dtype), masks

        model.swap = echo
        return (model, *rest)

    pipeline.load_model = load_echoing
    try:
        yield
    finally:
        pipeline.load_model = load_model


def random_model_dir(target: Path, preset: str) -> Path:
    """A model folder with untrained weights of ``preset`` and the default template."""
    import torch

    from faceswap.align.template import Template
    from faceswap.registry import get
    from faceswap.swap.model_dir import save_weights, write_model_json

    torch.manual_seed(0)
    model = get("swap_model", preset)()
    target.mkdir(parents=True, exist_ok=True)
    save_weights(target, model)
    write_model_json(target, preset, model, Template(), steps=0)
    return target


def alignments_for(video: Path, work: Path, device: str) -> Path:
    from faceswap.align.alignments import alignments_path, load
    from faceswap.extract import ExtractConfig, extract

    faces = work / f"faces_{video.stem}"
    if alignments_path(faces).is_file() and load(faces).complete and all(f.hands is not None for f in load(faces).frames):
        return faces
    extract(ExtractConfig(input=str(video), output_dir=str(faces), device=device, overwrite=True, progress=False))
    return faces


def plain_transcode(video: Path, output: Path, start: int, end: int | None, crf: int, preset: str) -> int:
    from faceswap.video import VideoWriter, open_reader

    with open_reader(video, start=start, end=end) as reader:
        info = reader.info
        frames = iter(reader)
        first = next(frames)
        with VideoWriter(output, info.width, info.height, info.fps, crf=crf, preset=preset,
                         audio_from=video if info.has_audio else None, audio_start=first.time) as writer:
            writer.write(first.image)
            count = 1
            for frame in frames:
                writer.write(frame.image)
                count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", default="video_wolfgang", help="asset name or video path")
    parser.add_argument("--frames", default="0:240", help="frame range START:END to time")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--preset", default="original", help="swap model preset (random weights)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--encoder-preset", default="medium")
    parser.add_argument("--encoder", default="auto", help="auto, x264, nvenc or nvenc_hevc (convert's --encoder)")
    parser.add_argument("--precision", default="auto", help="the model's precision: auto, fp32, bf16 or fp16")
    parser.add_argument("--paste", default="auto", help="auto, opencv or torch")
    parser.add_argument("--paste-workers", default="", help="comma-separated paste-worker counts to compare (default: convert's auto)")
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-on-the-fly", action="store_true", help="skip the figure with on-the-fly face finding")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "faceswap_bench_convert"))
    args = parser.parse_args()

    from faceswap import assets, runtime
    from faceswap.convert import ConvertConfig, convert
    from faceswap.convert.config import parse_frame_range

    runtime.set_threads(args.threads)
    video = Path(args.video) if Path(args.video).is_file() else assets.ensure(args.video)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    start, end = parse_frame_range(args.frames)
    faces = alignments_for(video, work, args.device)
    model_dir = random_model_dir(work / f"model_{args.preset}", args.preset)
    base = ConvertConfig(input=str(video), model_dir=str(model_dir), output=str(work / "converted.mp4"),
                         alignments=str(faces), frames=args.frames, batch_size=args.batch_size, device=args.device,
                         threads=args.threads, crf=args.crf, encoder_preset=args.encoder_preset, progress=False,
                         precision=args.precision, paste=args.paste, encoder=args.encoder,
                         mask="outline")  # an untrained learned mask is ~0.5 everywhere: blend every face anyway
    with model_draws_its_input():
        convert(dataclasses.replace(base, frames=f"{start}:{start + 8}"))  # warm-up: imports, model load, codec init

        frames = plain_transcode(video, work / "plain.mp4", start, end, args.crf, args.encoder_preset)
        plain = best_seconds(lambda: plain_transcode(video, work / "plain.mp4", start, end, args.crf, args.encoder_preset), args.repeat)
        counts = [int(n) for n in args.paste_workers.split(",") if n.strip()]
        runs = {f"alignments, {n} paste workers": dataclasses.replace(base, paste_workers=n) for n in counts} or {"alignments": base}
        runs["alignments, --hands none"] = dataclasses.replace(base, hands="none")  # what keeping stored hands in front costs
        runs["alignments, --face-mesh none"] = dataclasses.replace(base, face_mesh="none")  # what keeping the expression costs
        results = alternating_best(runs, convert, args.repeat)
        if not args.no_on_the_fly:
            results["on the fly"] = best_seconds(lambda: convert(dataclasses.replace(base, alignments=None)), args.repeat)
            results["on the fly, --hands none"] = best_seconds(lambda: convert(dataclasses.replace(base, alignments=None, hands="none")),
                                                               args.repeat)

    device = runtime.pick_device(args.device)
    name = str(video.name)
    print(f"video {name}, frames {args.frames} ({frames} frames), device {device}, threads {args.threads or 'default'}, "
          f"preset {args.preset}, batch {args.batch_size}, precision {args.precision}, paste {args.paste}, "
          f"encoder {args.encoder} ({args.encoder_preset} crf {args.crf}; the plain baseline uses x264)")
    print(f"plain decode+encode: {frames / plain:7.1f} frames/s")
    for label, seconds in results.items():
        print(f"convert ({label}): {frames / seconds:7.1f} frames/s  ratio {plain / seconds:.2f} (goal >= 0.5)")


if __name__ == "__main__":
    main()
