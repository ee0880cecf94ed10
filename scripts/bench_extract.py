"""Extract speed against a bare decode + detect loop, measured in the same run.

    .venv/bin/python scripts/bench_extract.py [--video PATH] [--repeat 3] [--every 2 3 4] [--memory] [--png] [--device auto]

Prints, for the default plugins on WolfgangLanger_Pexels.mp4 (472 frames, 640x360):
  * extract fps / bare-loop fps (goal >= 0.9), where the bare loop decodes every frame and runs
    the same detector on it in batches of the same size, nothing else; both timed end to end
    (model load included); each extract run is compared with the mean of the bare runs just
    before and after it, and the median of the --repeat ratios is reported;
  * CPU ms per frame of the bare loop and of extract (all threads): the work each does, which
    on a machine shared with other jobs says more than the wall-clock ratio;
  * the same pipeline without writing files (FaceFinder only) / bare loop, which shows what
    writing the crops and masks (warp, mask, PNG encoding) costs;
  * extract with --hands none / bare loop, and what the hand finder adds per frame (ms);
  * --every N: speed-up over an --every 1 run made just before it and what it costs in accuracy (landmark error against the
    every-frame run, in % of the eye distance, and frames whose face was lost);
  * 1 vs 2 threads;
  * with --memory: peak RSS for the video repeated 4 times / a single pass (goal <= 1.1);
  * with --png: CPU time and size per crop and mask for the JPEG and PNG settings extract uses
    and the ones they were chosen over (thread CPU time, so a busy machine changes the figures little).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def bare_loop_fps(video: str, config) -> float:
    from faceswap.extract.detectors import DetectorSettings, load_detector
    from faceswap.video import open_reader

    started, frames, batch = time.perf_counter(), 0, []  # end to end, like extract's own timing
    detector = load_detector(config.detector, DetectorSettings.from_config(config))
    with open_reader(video) as reader:
        for frame in reader:
            batch.append(frame.image)
            if len(batch) == config.batch_size:
                detector.detect(batch)
                frames, batch = frames + len(batch), []
    detector.detect(batch)
    return (frames + len(batch)) / (time.perf_counter() - started)


def with_cpu(cpu_seconds: list, function, *args, **kwargs):
    """``function(*args, **kwargs)``, appending the CPU seconds this process spent in it (all threads)
    to ``cpu_seconds``: the work done, which a busy machine changes much less than the wall time."""
    def used() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    started = used()
    result = function(*args, **kwargs)
    cpu_seconds.append(used() - started)
    return result


def finder_only_fps(video: str, config) -> float:
    """The same pipeline without writing files (detect, track, smooth, align): where the time goes."""
    from faceswap.extract import FaceFinder
    from faceswap.video import open_reader

    started, frames = time.perf_counter(), 0
    finder = FaceFinder(config)
    with open_reader(video) as reader:
        for _ in finder.find(reader):
            frames += 1
    return frames / (time.perf_counter() - started)


def describe(config) -> str:
    """The detector, its onnxruntime provider and threads, as extract would run it."""
    from faceswap.extract.detectors import DetectorSettings, describe_detector, load_detector

    return describe_detector(config.detector, load_detector(config.detector, DetectorSettings.from_config(config)))


def run_extract(video: str, out: Path, **settings):
    from faceswap.extract import ExtractConfig, extract
    from faceswap.align.alignments import load

    summary = extract(ExtractConfig(input=video, output_dir=str(out), progress=False, overwrite=True, **settings))
    return summary, load(out)


def accuracy_cost(reference, candidate) -> tuple[float, int]:
    """Mean landmark error (% of eye distance) over frames where both found a face, and frames lost."""
    errors, lost = [], 0
    ref_frames, cand_frames = reference.by_frame_index(), candidate.by_frame_index()
    for index, ref_frame in ref_frames.items():
        if not ref_frame.faces:
            continue
        cand_faces = cand_frames[index].faces if index in cand_frames else []
        if not cand_faces:
            lost += 1
            continue
        ref_points, cand_points = ref_frame.faces[0].landmarks_array(), cand_faces[0].landmarks_array()
        eye_distance = np.linalg.norm(ref_points[1] - ref_points[0])
        errors.append(np.linalg.norm(ref_points - cand_points, axis=1).mean() / eye_distance)
    return 100 * float(np.mean(errors)), lost


def peak_memory_mb(video: str, out: Path) -> float:
    code = ("import resource, sys; from faceswap.extract import ExtractConfig, extract; "
            "extract(ExtractConfig(input=sys.argv[1], output_dir=sys.argv[2], progress=False, overwrite=True)); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    result = subprocess.run([sys.executable, "-c", code, video, str(out)], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def repeated_video(video: str, times: int, path: Path) -> str:
    from faceswap.video import VideoWriter, open_reader

    with open_reader(video) as reader:
        info = reader.info
    with VideoWriter(path, info.width, info.height, info.fps, preset="ultrafast") as writer:
        for _ in range(times):
            with open_reader(video) as reader:
                for frame in reader:
                    writer.write(frame.image)
    return str(path)


def png_costs(video: str, config, frames: int = 120) -> dict:
    """Per crop and per mask: encode CPU ms and KiB for extract's PNG settings and the alternatives."""
    import cv2

    from faceswap.extract import FaceFinder
    from faceswap.extract.writer.output import FACES, MASKS, encode_settings
    from faceswap.video import open_reader

    finder, images = FaceFinder(config), {FACES: [], MASKS: []}
    with open_reader(video) as reader:
        for frame, faces in finder.find(frame for frame, _ in zip(reader, range(frames))):
            for face in faces:
                crop = finder.crop(frame.image, face)
                images[FACES].append(crop)
                images[MASKS].append(finder.mask(face, crop))
    fast_filters = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FAST_FILTERS]
    up_filter = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP]
    extract_png, extract_jpg = encode_settings()["png"][1], encode_settings()["jpg"][1]
    candidates = {"extract jpg (default)": (".jpg", extract_jpg, extract_jpg), "extract png": (".png", extract_png, encode_settings()[MASKS][1]),
                  "png level 1, fast filter set (before)": (".png", fast_filters, fast_filters), "png level 1, Up filter": (".png", up_filter, up_filter),
                  "png level 3": (".png", [cv2.IMWRITE_PNG_COMPRESSION, 3], [cv2.IMWRITE_PNG_COMPRESSION, 3])}
    results = {}
    for label, (suffix, face_params, mask_params) in candidates.items():
        for kind, pictures in images.items():
            if kind == MASKS and suffix != ".png":
                continue  # masks are always PNG
            started, size = time.thread_time(), 0
            for picture in pictures:
                size += len(cv2.imencode(suffix, picture, face_params if kind == FACES else mask_params)[1])
            results[f"{kind}: {label}"] = {"cpu_ms": round(1000 * (time.thread_time() - started) / len(pictures), 2),
                                           "kib": round(size / len(pictures) / 1024, 1)}
    return results


def main() -> None:
    from faceswap import assets
    from faceswap.extract import ExtractConfig
    from faceswap.runtime import set_threads

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", default=None, help="default: the video_wolfgang asset")
    parser.add_argument("--every", type=int, nargs="*", default=[2, 3, 4])
    parser.add_argument("--repeat", type=int, default=3, help="extract runs, each between two bare-loop runs (the median ratio is reported)")
    parser.add_argument("--memory", action="store_true", help="also compare peak memory for the video repeated 4 times")
    parser.add_argument("--png", action="store_true", help="also compare PNG settings for crops and masks: CPU time and size")
    parser.add_argument("--device", default="auto", help="extract's --device (the detector's onnxruntime provider follows it)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    video = args.video or str(assets.ensure("video_wolfgang"))
    defaults = ExtractConfig(device=args.device)
    results: dict = {"video": Path(video).name, "detector": describe(defaults), "detect_size": defaults.detect_size,
                     "batch_size": defaults.batch_size}
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        tmp = Path(tmp)
        bare_runs, extract_runs, finder_runs, cpu = [], [], [], {"bare": [], "extract": []}
        bare_runs.append(with_cpu(cpu["bare"], bare_loop_fps, video, defaults))
        for _ in range(args.repeat):  # each extract run sits between two bare runs, so a load that drifts hits both sides alike
            summary, reference = with_cpu(cpu["extract"], run_extract, video, tmp / "every1", device=args.device)
            extract_runs.append(summary.fps)
            finder_runs.append(finder_only_fps(video, defaults))
            bare_runs.append(with_cpu(cpu["bare"], bare_loop_fps, video, defaults))
        bare_around = (np.array(bare_runs[:-1]) + np.array(bare_runs[1:])) / 2
        ratios = np.array(extract_runs) / bare_around
        frames = summary.frames
        results.update(bare_loop_fps=[round(x, 2) for x in bare_runs], extract_fps=[round(x, 2) for x in extract_runs],
                       ratios=[round(float(x), 3) for x in ratios], ratio=round(float(np.median(ratios)), 3),
                       finder_only_fps=[round(x, 2) for x in finder_runs],
                       finder_only_ratio=round(float(np.median(np.array(finder_runs) / bare_around)), 3),
                       cpu_ms_per_frame={name: round(1000 * float(np.median(seconds)) / frames, 2) for name, seconds in cpu.items()})
        # The hand finder (default on) against the same extract without it, in the same run.
        without_hands = [run_extract(video, tmp / "no_hands", device=args.device, hands="none")[0].fps for _ in range(args.repeat)]
        results.update(hands_none_fps=[round(x, 2) for x in without_hands],
                       hands_none_ratio=round(float(np.median(np.array(without_hands) / bare_around)), 3),
                       hands_ms_per_frame=round(1000 / float(np.median(extract_runs)) - 1000 / float(np.median(without_hands)), 2))
        for every in args.every:
            every1_summary, _ = run_extract(video, tmp / "every1", device=args.device)  # its own baseline, run just before
            every_summary, found = run_extract(video, tmp / f"every{every}", device=args.device, every=every)
            error, lost = accuracy_cost(reference, found)
            results[f"every{every}"] = {"fps": round(every_summary.fps, 2), "speedup": round(every_summary.fps / every1_summary.fps, 2),
                                        "landmark_error_pct_eye_distance": round(error, 2), "frames_lost": lost}
        for threads in (1, 2):
            set_threads(threads)
            threaded, _ = run_extract(video, tmp / f"threads{threads}", device=args.device, threads=threads)
            results[f"threads{threads}_fps"] = round(threaded.fps, 2)
        if args.memory:
            single = peak_memory_mb(video, tmp / "mem1")
            repeated = peak_memory_mb(repeated_video(video, 4, tmp / "x4.mp4"), tmp / "mem4")
            results.update(peak_rss_mb_single=round(single, 1), peak_rss_mb_x4=round(repeated, 1), memory_ratio=round(repeated / single, 3))
    if args.png:
        results["png"] = png_costs(video, defaults)
    print(json.dumps(results, indent=1))
    print(f"extract / bare decode+detect: {results['ratio']:.2f} (median of {args.repeat}), "
          f"{results['hands_none_ratio']:.2f} with --hands none (goal >= 0.9); "
          f"the hand finder costs {results['hands_ms_per_frame']:.1f} ms per frame")


if __name__ == "__main__":
    main()
