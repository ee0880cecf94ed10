"""`faceswap demo`: the whole path on the sample media, into one folder.

extract both sample talking-head videos -> train the 128 px `lite128` preset (DEMO_PRESET) for a time budget
(a quarter of it fits the face segmenter that masks training and convert) -> convert the
WolfgangLanger video to the other face -> side-by-side video, last training
preview and the evaluate report, whose quality verdict (identity against B's faces, expression,
pose, sharpness) closes the demo's output. Each stage leaves its result on disk and is skipped when a
finished result is there, so an interrupted demo continues where it stopped.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from faceswap.errors import UserError
from faceswap.fileio import read_json, write_json_atomic

CPU_MINUTES, GPU_MINUTES = 10.0, 30.0
# In 10 CPU minutes lite128 (at 0.24x the steps of the 64 px `original`) still swaps better on
# every measure: identity 0.92 vs 0.90, 68-point error 0.061 vs 0.077, detail 18% vs 8%
# (scripts/bench_quality.py, 2026-12-02).
DEMO_PRESET = "lite128"
SIDE_A, SIDE_B = "video_wolfgang", "video_single_face"


@dataclass(frozen=True)
class DemoConfig:
    out: str = field(default="", metadata={"help": "folder for the demo's results", "cli": False})
    minutes: float | None = field(default=None, metadata={
        "help": f"training budget in minutes (default: {CPU_MINUTES:g} on CPU, {GPU_MINUTES:g} on a GPU)"})
    device: str = field(default="auto", metadata={"help": "auto, cpu, cuda or mps"})
    threads: int = field(default=0, metadata={"help": "CPU threads (0 = library default)"})
    batch_size: int | None = field(default=None, metadata={"help": "training batch size (default: the preset's)"})
    seed: int = field(default=0, metadata={"help": "random seed for training"})

    def __post_init__(self) -> None:  # checked before the extracts, not after them
        from faceswap.errors import UserError
        from faceswap.runtime import check_device_name

        if self.minutes is not None and not self.minutes > 0:
            raise UserError(f"--minutes must be positive, not {self.minutes}.")
        if self.batch_size is not None and self.batch_size < 1:
            raise UserError(f"--batch-size must be at least 1, not {self.batch_size}.")
        if self.threads < 0:
            raise UserError(f"--threads must be 0 (the libraries' default) or more, not {self.threads}.")
        check_device_name(self.device)


@dataclass
class DemoResult:
    swapped: Path
    side_by_side: Path
    training_preview: Path | None
    report_json: Path
    report_text: Path
    quality: tuple[str, ...] = ()  # the evaluate report's quality lines (verdict, then one per part)

    def describe(self) -> str:
        preview = self.training_preview or "(the trainer wrote no preview)"
        return "\n".join([
            "demo finished:",
            f"  swapped video:      {self.swapped}",
            f"  side by side:       {self.side_by_side}",
            f"  training preview:   {preview}",
            f"  evaluate report:    {self.report_text} (JSON: {self.report_json})",
            *self.quality,
        ])


def run_demo(config: DemoConfig, log=print) -> DemoResult:
    from faceswap import assets, runtime

    if not config.out:
        raise UserError("No output folder given; pass --out DIR.")
    out = Path(config.out)
    work = out / "work"
    try:
        work.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"Cannot create the demo folder '{out}' ({error.strerror}); choose a writable location.") from None
    device = runtime.pick_device(config.device)
    minutes = config.minutes if config.minutes is not None else (GPU_MINUTES if device.type == "cuda" else CPU_MINUTES)
    log(f"demo: results go to {out} (device {device}, {minutes:g} minutes of training)")
    videos = {side: Path(assets.ensure(name)) for side, name in (("a", SIDE_A), ("b", SIDE_B))}
    faces = {side: _extract(video, work / f"faces_{side}", config, log) for side, video in videos.items()}
    model_dir = _train(faces, work / "model", minutes, config, log)
    swapped, side_by_side = out / "swapped.mp4", out / "side_by_side.mp4"
    _convert(videos["a"], faces["a"], model_dir, swapped, side_by_side, config, log)
    preview = _copy_training_preview(model_dir, out / "training_preview.png")
    report_json, report_text = out / "report.json", out / "report.txt"
    quality = _evaluate(swapped, videos["a"], faces["b"], model_dir, report_json, report_text, config, log)
    return DemoResult(swapped, side_by_side, preview, report_json, report_text, quality)


def _extract(video: Path, faces_dir: Path, config: DemoConfig, log) -> Path:
    from faceswap.align.alignments import alignments_path, load
    from faceswap.extract import ExtractConfig, extract

    alignments = alignments_path(faces_dir)
    if alignments.is_file() and load(alignments).complete:
        log(f"extract {video.name}: done before, reusing {faces_dir}")
        return faces_dir
    resume = alignments.is_file()
    overwrite = not resume and faces_dir.is_dir() and any(faces_dir.iterdir())
    log(f"extract {video.name} -> {faces_dir}" + (" (resuming)" if resume else ""))
    summary = extract(ExtractConfig(input=str(video), output_dir=str(faces_dir), device=config.device,
                                    threads=config.threads, resume=resume, overwrite=overwrite))
    log(f"  {summary.faces} faces in {summary.frames} frames")
    return faces_dir


def _train(faces: dict[str, Path], model_dir: Path, minutes: float, config: DemoConfig, log) -> Path:
    from faceswap.swap import SwapTrainConfig, train_swap

    marker = model_dir.parent / "train_done.json"
    if marker.is_file() and (model_dir / "model.json").is_file() and read_json(marker).get("minutes", 0) >= minutes:
        log(f"train: done before ({read_json(marker)['minutes']:g} minutes), reusing {model_dir}")
        return model_dir
    resume = (model_dir / "model.json").is_file()
    log(f"train the face segmenter and the '{DEMO_PRESET}' preset for {minutes:g} minutes -> {model_dir}"
        + (" (resuming)" if resume else ""))
    options = {"batch_size": config.batch_size} if config.batch_size else {}
    started = time.perf_counter()
    train_swap(SwapTrainConfig(faces_a=str(faces["a"]), faces_b=str(faces["b"]), model_dir=str(model_dir),
                               preset=DEMO_PRESET, minutes=minutes, steps=None, seed=config.seed, device=config.device,
                               threads=config.threads, resume=resume, **options))
    write_json_atomic(marker, {"minutes": minutes, "seconds": time.perf_counter() - started})
    return model_dir


def _convert(video: Path, faces_dir: Path, model_dir: Path, swapped: Path, side_by_side: Path, config: DemoConfig, log) -> None:
    from faceswap.convert import ConvertConfig, convert

    if swapped.is_file() and side_by_side.is_file() and swapped.stat().st_mtime > (model_dir / "model.json").stat().st_mtime:
        log(f"convert: done before, reusing {swapped}")
        return
    log(f"convert {video.name} (A's face drawn as B) -> {swapped}")
    summary = convert(ConvertConfig(input=str(video), model_dir=str(model_dir), output=str(swapped), alignments=str(faces_dir),
                                    swap="a2b", side_by_side=str(side_by_side), device=config.device, threads=config.threads))
    log("  " + summary.describe().replace("\n", "\n  "))


def _copy_training_preview(model_dir: Path, target: Path) -> Path | None:
    """The newest preview PNG the trainer left in the model folder."""
    previews = sorted(model_dir.rglob("*preview*.png"), key=lambda p: p.stat().st_mtime)
    if not previews:
        return None
    from faceswap.fileio import write_bytes_atomic

    write_bytes_atomic(target, previews[-1].read_bytes())
    return target


def _evaluate(swapped: Path, reference: Path, faces_b: Path, model_dir: Path, report_json: Path, report_text: Path,
              config: DemoConfig, log) -> tuple[str, ...]:
    """Evaluate the swapped video (identity against B's faces when dlib is installed; the 68-point
    expression check only when its opt-in model was fetched) and return the quality lines."""
    from faceswap.evaluate.report import evaluate, write_report
    from faceswap.identity.dlib_support import INSTALL_HINT, is_available

    if report_json.is_file() and report_text.is_file() and report_json.stat().st_mtime >= swapped.stat().st_mtime:
        saved = read_json(report_json, "evaluate report").get("quality")
        if saved is not None:
            log(f"evaluate: done before, reusing {report_text}")
            return _quality_lines(saved)
    log(f"evaluate {swapped.name} against {reference.name}")
    if not is_available():
        log(f"  (identity and expression need dlib: {INSTALL_HINT})")
    segmenter = model_dir / "segmenter"  # the real face outline for the "just outside the face" band
    report = evaluate(str(swapped), reference=str(reference), device=config.device, threads=config.threads,
                      segmenter_dir=str(segmenter) if (segmenter / "segmenter.json").is_file() else None,
                      person_b=str(faces_b) if is_available() else None)
    write_report(report, json_path=report_json, text_path=report_text)
    log("  " + report.describe().replace("\n", "\n  "))
    return tuple(report.quality.describe()) if report.quality else ()


def _quality_lines(saved: dict) -> tuple[str, ...]:
    from faceswap.evaluate.quality import QualityReport

    try:
        return tuple(QualityReport(**saved).describe())
    except TypeError:  # a report from another version: its lines are in the text report
        return ()


__all__ = ["DemoConfig", "DemoResult", "run_demo"]
