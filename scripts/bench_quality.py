"""Swap quality per preset and loss: train each row for the same wall time on the sample videos,
swap the woman's video, and score it with `faceswap evaluate` (identity transfer, expression
landmark error, sharpness kept, change just outside the face), beside the row's examples/s.

    .venv/bin/python scripts/bench_quality.py --minutes 10 --work /tmp/bench_quality
    .venv/bin/python scripts/bench_quality.py --rows original,lite128+perceptual --minutes 3

Every row starts from the same extracted faces and the same segmenter (fitted once, with the
share of the time `faceswap train` would give it), so rows differ only in model and loss.
Rows run ``--parallel`` at a time with one thread each (a 2-core machine runs two side by side
at about the speed of one alone). The 68-point expression figure needs the opt-in landmark
asset (`faceswap assets fetch dlib_landmarks68`); without it that column is empty.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FACESWAP = [sys.executable, "-m", "faceswap"]
SEGMENTER_SHARE = 0.25  # what `faceswap train --minutes M` spends on the segmenter

# name -> extra `faceswap train` flags
ROWS: dict[str, list[str]] = {
    "original": ["--preset", "original", "--perceptual-weight", "0"],
    "original+perceptual": ["--preset", "original", "--perceptual-weight", "1"],
    "original+perceptual+gan": ["--preset", "original", "--perceptual-weight", "1", "--adversarial-weight", "0.1"],
    "lite128+perceptual": ["--preset", "lite128", "--perceptual-weight", "1"],
}


def run(command: list[str], log: Path) -> None:
    with open(log, "a") as handle:
        handle.write("$ " + " ".join(command) + "\n")
        handle.flush()
        result = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, cwd=REPO)
    if result.returncode:
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}; see {log}")


def prepare(work: Path, minutes: float) -> tuple[Path, Path, Path, Path]:
    """(video A, faces A, faces B, segmenter), extracted and fitted once per work folder."""
    from faceswap import assets

    video_a, video_b = Path(assets.ensure("video_wolfgang")), Path(assets.ensure("video_single_face"))
    faces = {}
    for side, video in (("a", video_a), ("b", video_b)):
        faces[side] = work / f"faces_{side}"
        if not (faces[side] / "alignments.json").is_file():
            run([*FACESWAP, "extract", "-i", str(video), "-o", str(faces[side])], work / "prepare.log")
    segmenter = work / "segmenter"
    if not (segmenter / "segmenter.json").is_file():
        run([*FACESWAP, "mask", "train", "-i", str(faces["a"]), str(faces["b"]), "-o", str(segmenter),
             "--minutes", f"{minutes * SEGMENTER_SHARE:g}"], work / "prepare.log")
    return video_a, faces["a"], faces["b"], segmenter


def examples_per_second(model_dir: Path) -> float | None:
    """Median of the training log's samples_per_s over the second half of the run."""
    with open(model_dir / "training" / "metrics.csv", newline="") as handle:
        rates = [float(row["samples_per_s"]) for row in csv.DictReader(handle) if row.get("samples_per_s")]
    rates = sorted(rates[len(rates) // 2:])
    return rates[len(rates) // 2] if rates else None


def run_row(name: str, flags: list[str], work: Path, minutes: float, inputs) -> dict:
    video_a, faces_a, faces_b, segmenter = inputs
    row_dir = work / name
    model_dir, swapped, report = row_dir / "model", row_dir / "swapped.mp4", row_dir / "report.json"
    row_dir.mkdir(parents=True, exist_ok=True)
    log = row_dir / "log.txt"
    if not (model_dir / "model.json").is_file():
        run([*FACESWAP, "train", "-A", str(faces_a), "-B", str(faces_b), "-m", str(model_dir), "--steps", "1000000",
             "--minutes", f"{minutes * (1 - SEGMENTER_SHARE):g}", "--segmenter", str(segmenter), "--threads", "1",
             "--no-progress", *flags], log)
    if not swapped.is_file():
        run([*FACESWAP, "convert", "-i", str(video_a), "-m", str(model_dir), "-o", str(swapped), "--alignments",
             str(faces_a), "--threads", "1"], log)
    if not report.is_file():
        run([*FACESWAP, "evaluate", str(swapped), "--reference", str(video_a), "--person-b", str(faces_b),
             "--segmenter", str(segmenter), "--threads", "1", "--json", str(report)], log)
    return {"row": name, "examples_per_s": examples_per_second(model_dir), **quality(json.loads(report.read_text()))}


def quality(report: dict) -> dict:
    """The four numbers of the issue from an evaluate report."""
    quality = report.get("quality") or {}
    return {
        "identity_transfer": (quality.get("identity") or {}).get("transfer"),
        "expression_error": (quality.get("expression") or {}).get("landmark_error"),
        "sharpness_kept": (quality.get("sharpness") or {}).get("kept"),
        "outside_changed": report.get("outside_band_changed_share"),
        "verdict": (report.get("quality") or {}).get("verdict"),
    }


def print_table(results: list[dict]) -> None:
    base = next((r["examples_per_s"] for r in results if r["row"] == "original"), None)
    print(f"{'row':26s} {'ex/s':>6s} {'ratio':>6s} {'identity':>9s} {'expr err':>9s} {'sharp':>6s} {'outside':>8s}  verdict")
    for r in results:
        ratio = r["examples_per_s"] / base if base and r["examples_per_s"] else None
        cells = [r["examples_per_s"], ratio, r["identity_transfer"], r["expression_error"], r["sharpness_kept"],
                 r["outside_changed"]]
        text = [f"{c:.3g}" if isinstance(c, float) else "-" for c in cells]
        print(f"{r['row']:26s} {text[0]:>6s} {text[1]:>6s} {text[2]:>9s} {text[3]:>9s} {text[4]:>6s} {text[5]:>8s}  {r['verdict']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="wall time per row, as `train --minutes` (default 10)")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated rows out of: {', '.join(ROWS)}")
    parser.add_argument("--work", default="bench_quality_work", help="folder for faces, models and reports (reused)")
    parser.add_argument("--parallel", type=int, default=max(1, (os.cpu_count() or 2) // 2), help="rows at a time")
    args = parser.parse_args()
    names = [n for n in args.rows.split(",") if n]
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        raise SystemExit(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    inputs = prepare(work, args.minutes)
    with ThreadPoolExecutor(args.parallel) as pool:
        results = list(pool.map(lambda n: run_row(n, ROWS[n], work, args.minutes, inputs), names))
    (work / "results.json").write_text(json.dumps(results, indent=1))
    print(f"{args.minutes:g} minutes per row ({SEGMENTER_SHARE:.0%} of it the shared segmenter), {args.parallel} rows "
          f"at a time, one thread each; total {(time.perf_counter() - started) / 60:.1f} min")
    print_table(results)


if __name__ == "__main__":
    main()
