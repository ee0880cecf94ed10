"""Video I/O benchmark: our reader against bare PyAV, and our transcode against the ffmpeg
command line, on the same file in one run. Prints each figure as a ratio to its baseline.

    .venv/bin/python scripts/bench_video.py [--video PATH] [--threads N] [--preset medium] [--repeat 3]

Goals: reader >= 0.9 x bare PyAV decode (both to BGR numpy arrays, each kept until the next
exists, as a consumer keeps it; the figure for a loop that drops each array is printed too); decode + encode >= 0.7 x
`ffmpeg -i IN -c:v libx264 -crf C -preset P -pix_fmt yuv420p -c:a aac OUT`, using
imageio-ffmpeg's bundled binary (a dev/bench dependency: pip install imageio-ffmpeg==0.8.1).
Each figure is the best of a few rounds that alternate which side runs first, as the machine
may be shared.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cpu_seconds() -> float:
    """CPU time of this process's threads and of finished child processes (the ffmpeg CLI)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best_seconds(runs: dict, repeat: int) -> dict[str, tuple[float, float]]:
    """(wall, cpu) seconds of each run's fastest round over ``repeat`` rounds, reversing the
    order every other round so that a busy neighbour or a warm cache does not favour one side."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for round_index in range(repeat):
        order = list(runs.items())
        for name, run in order if round_index % 2 == 0 else order[::-1]:
            started, started_cpu = time.perf_counter(), cpu_seconds()
            run()
            times[name].append((time.perf_counter() - started, cpu_seconds() - started_cpu))
    return {name: min(values) for name, values in times.items()}


def bare_pyav_decode(path: Path, threads: int, keep: bool = True) -> int:
    """Plain PyAV decode to BGR arrays. ``keep``: hold each array until the next one exists, as
    any consumer does; dropping it at once lets malloc hand the same warm block back every
    frame (tens of thousands fewer page faults on this file), which no real consumer gets."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if threads:
            stream.codec_context.thread_count = threads
        count, image = 0, None
        for frame in container.decode(stream):
            image = frame.to_ndarray(format="bgr24") if keep else frame.to_ndarray(format="bgr24") is None
            count += 1
        return count


def our_decode(path: Path, threads: int) -> int:
    from faceswap.video import open_reader

    with open_reader(path, threads=threads) as reader:
        return sum(1 for _ in reader)


def our_transcode(path: Path, target: Path, threads: int, crf: int, preset: str) -> None:
    from faceswap.video import VideoWriter, open_reader

    with open_reader(path, threads=threads) as reader:
        info = reader.info
        with VideoWriter(target, info.width, info.height, info.fps, crf=crf, preset=preset, audio_from=path,
                         threads=threads) as writer:
            for frame in reader:
                writer.write(frame.image)


def ffmpeg_transcode(ffmpeg: str, path: Path, target: Path, threads: int, crf: int, preset: str) -> None:
    thread_args = ["-threads", str(threads)] if threads else []
    command = [ffmpeg, "-y", "-v", "error", *thread_args, "-i", str(path), "-c:v", "libx264", "-crf", str(crf),
               "-preset", preset, "-pix_fmt", "yuv420p", *thread_args, "-c:a", "aac", "-b:a", "192k", str(target)]
    subprocess.run(command, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", help="input video (default: the video_wolfgang sample asset)")
    parser.add_argument("--threads", type=int, default=0, help="decoder/encoder threads for both sides (0 = auto)")
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--repeat", type=int, default=3, help="decode rounds; the best counts")
    parser.add_argument("--transcode-repeat", type=int, default=1, help="transcode rounds; the best counts")
    args = parser.parse_args()
    try:
        import imageio_ffmpeg
    except ImportError:
        print("needs the ffmpeg baseline: .venv/bin/pip install imageio-ffmpeg==0.8.1", file=sys.stderr)
        return 2
    from faceswap import assets

    path = Path(args.video) if args.video else assets.ensure("video_wolfgang")
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    frames = bare_pyav_decode(path, args.threads)  # also warms the file cache
    print(f"{path.name}: {frames} frames, threads={args.threads or 'auto'}, crf={args.crf}, preset={args.preset}")

    seconds = best_seconds({"bare": lambda: bare_pyav_decode(path, args.threads),
                            "bare_drop": lambda: bare_pyav_decode(path, args.threads, keep=False),
                            "ours": lambda: our_decode(path, args.threads)}, args.repeat)
    (bare, _), (drop, _), (ours, _) = seconds["bare"], seconds["bare_drop"], seconds["ours"]
    print(f"decode to BGR  bare PyAV {frames / bare:7.1f} fps | ours {frames / ours:7.1f} fps | ratio {bare / ours:.2f} (goal >= 0.9)")
    print(f"               (bare PyAV dropping each array at once: {frames / drop:7.1f} fps, ratio {drop / ours:.2f})")

    with tempfile.TemporaryDirectory(prefix="bench_video_") as folder:
        ffmpeg_out, ours_out = Path(folder) / "ffmpeg.mp4", Path(folder) / "ours.mp4"
        seconds = best_seconds({"ffmpeg": lambda: ffmpeg_transcode(ffmpeg, path, ffmpeg_out, args.threads, args.crf, args.preset),
                                "ours": lambda: our_transcode(path, ours_out, args.threads, args.crf, args.preset)},
                               args.transcode_repeat)
        (cli, cli_cpu), (ours, ours_cpu) = seconds["ffmpeg"], seconds["ours"]
        sizes = f"sizes ffmpeg {ffmpeg_out.stat().st_size / 1e6:.2f} MB, ours {ours_out.stat().st_size / 1e6:.2f} MB"
    print(f"transcode+aac  ffmpeg CLI {frames / cli:7.1f} fps | ours {frames / ours:7.1f} fps | ratio {cli / ours:.2f} (goal >= 0.7); {sizes}")
    print(f"               (CPU seconds: ffmpeg {cli_cpu:.1f}, ours {ours_cpu:.1f}, ratio {cli_cpu / ours_cpu:.2f}; "
          f"on a busy machine the wall ratio also reflects how many threads each side keeps runnable)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
