"""`faceswap batch`: convert many videos with one model, locally or on a Ray cluster.

Outputs are named after their inputs (``OUT_DIR/<input stem>.mp4``, always the ``mp4`` writer);
faces are found on the fly with the config's ``detector``. An output that exists is
complete (convert writes to a temporary name and renames), so a second run skips it. A file
that fails is reported with its reason and does not stop the others; a video in which no face
was swapped is written (a copy of the input) but reported as a warning, not as done.
"""
from __future__ import annotations

import contextlib
import dataclasses
import glob
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from faceswap.convert.config import ConvertConfig
from faceswap.errors import UserError

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts"}
LIST_SUFFIXES = {".txt", ".list", ".lst"}


@dataclass
class BatchItem:
    input: str
    output: str
    status: str = "pending"  # done | warning (written, but no face swapped) | skipped | failed
    reason: str = ""
    seconds: float = 0.0


@dataclass
class BatchSummary:
    items: list[BatchItem] = field(default_factory=list)

    def with_status(self, status: str) -> list[BatchItem]:
        return [item for item in self.items if item.status == status]

    @property
    def done(self) -> list[BatchItem]:
        return self.with_status("done")

    @property
    def warned(self) -> list[BatchItem]:
        return self.with_status("warning")

    @property
    def skipped(self) -> list[BatchItem]:
        return self.with_status("skipped")

    @property
    def failed(self) -> list[BatchItem]:
        return self.with_status("failed")

    def describe(self) -> str:
        lines = [f"batch: {len(self.done)} done, {len(self.skipped)} skipped, {len(self.failed)} failed"
                 + (f", {len(self.warned)} with no face swapped" if self.warned else "")]
        for item in self.items:
            detail = f" ({item.seconds:.1f} s)" if item.status in ("done", "warning") else ""
            detail += f": {item.reason}" if item.reason else ""
            lines.append(f"  {item.status:<7} {item.input} -> {item.output}{detail}")
        return "\n".join(lines)


def _natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", str(path))]


def collect_inputs(specs: list[str]) -> list[Path]:
    """Videos named by folders, glob patterns, list files (one path a line, '#' comments) or paths."""
    found: list[Path] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            videos = sorted((p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()), key=_natural_key)
            if not videos:
                raise UserError(f"The folder '{spec}' holds no videos ({', '.join(sorted(VIDEO_SUFFIXES))}); point at the videos.")
            found += videos
        elif path.suffix.lower() in LIST_SUFFIXES and path.is_file():
            lines = [line.strip() for line in path.read_text().splitlines()]
            found += [_listed_path(path, line) for line in lines if line and not line.startswith("#")]
        elif glob.has_magic(spec):
            matches = sorted((Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file()), key=_natural_key)
            if not matches:
                raise UserError(f"The pattern '{spec}' matches no files; check the pattern (quote it so the shell leaves it alone).")
            found += matches
        else:
            found.append(path)  # a missing file becomes a named failure, not a stop
    if not found:
        raise UserError("No input videos given; pass folders, glob patterns, list files or video paths.")
    return list(dict.fromkeys(found))


def _listed_path(list_file: Path, line: str) -> Path:
    """A relative path in a list file is taken from the list's folder (as playlists do), or else from the
    working directory where only that one exists (a list written with `ls videos/* > lists/all.txt`)."""
    beside_list = list_file.parent / line
    if Path(line).is_absolute() or beside_list.exists() or not Path(line).exists():
        return beside_list
    return Path(line)


def plan(inputs: list[Path], out_dir: Path, overwrite: bool = False) -> list[BatchItem]:
    """One item per input: its output path and whether it is already done or cannot run."""
    items, seen = [], set()
    for path in inputs:
        output = out_dir / f"{path.stem}.mp4"
        item = BatchItem(input=str(path), output=str(output))
        if output in seen:
            item.status, item.reason = "failed", f"another input is also named '{path.stem}'; rename one of them"
        elif not path.is_file():
            item.status, item.reason = "failed", "the file does not exist"
        elif output.exists() and not overwrite:
            item.status, item.reason = "skipped", "output exists"
        seen.add(output)
        items.append(item)
    return items


def convert_one(input_path: str, output_path: str, config_values: dict[str, Any]) -> dict[str, Any]:
    """Convert one video; never raises, so a failure is a result like any other (also runs as a Ray task)."""
    from faceswap.convert.pipeline import convert

    started = time.perf_counter()
    try:
        config = ConvertConfig(**{**config_values, "input": input_path, "output": output_path})
        with _quiet_start_lines():
            summary = convert(config)
        skipped = [str(index) for index, _ in summary.skipped_frames]
        reasons = [f"{len(skipped)} corrupt frame(s) replaced by their predecessor: {', '.join(skipped)}"] if skipped else []
        return {"status": "warning" if summary.warnings else "done", "reason": "; ".join(summary.warnings + reasons),
                "seconds": time.perf_counter() - started}
    except UserError as error:
        return {"status": "failed", "reason": str(error), "seconds": time.perf_counter() - started}
    except Exception as error:  # a bad file must not stop the batch; name what happened
        return {"status": "failed", "reason": f"{type(error).__name__}: {error}", "seconds": time.perf_counter() - started}


@contextlib.contextmanager
def _quiet_start_lines() -> Iterator[None]:
    """Convert's start line and encoder warning are the batch's to print once (`faceswap batch` does), not per video."""
    logger, quiet = logging.getLogger("faceswap.convert"), logging.NullHandler()
    logger.addHandler(quiet)  # a handler, so logging's last-resort printer stays out
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(quiet)
        logger.propagate = propagate


def run_batch(inputs: list[str], model_dir: str, out_dir: str, config: ConvertConfig | None = None,
              backend: str = "local", workers: int = 1, address: str | None = None, overwrite: bool = False) -> BatchSummary:
    """Convert every input video into ``out_dir``; returns what was done, skipped and failed (with reasons)."""
    from faceswap.convert.pipeline import check_plugins
    from faceswap.extract.reference import check_reference_photos

    base = dataclasses.replace(config or ConvertConfig(), model_dir=str(model_dir), alignments=None,
                               side_by_side=None, preview=0, progress=False, writer="mp4")
    if not (Path(model_dir) / "model.json").is_file():
        raise UserError(f"'{model_dir}' is not a trained model folder (no model.json); train one with `faceswap train`.")
    check_plugins(base)  # an unknown --detector or --color stops the batch once, not once per file
    check_reference_photos(base.reference)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"Cannot create the output folder '{out_dir}' ({error.strerror}); choose a writable location.") from None
    summary = BatchSummary(plan(collect_inputs(inputs), out, overwrite))
    todo = [item for item in summary.items if item.status == "pending"]
    values = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)}
    if backend == "local":
        results = _run_local(todo, values, workers)
    elif backend == "ray":
        from faceswap.convert.batch_ray import run_on_ray

        results = run_on_ray(todo, values, address)
    else:
        raise UserError(f"Unknown batch backend '{backend}'; use local or ray.")
    for item, result in zip(todo, results):
        item.status, item.reason, item.seconds = result["status"], result["reason"], result["seconds"]
    return summary


def _run_local(items: list[BatchItem], values: dict[str, Any], workers: int) -> list[dict[str, Any]]:
    if workers < 1:
        raise UserError(f"--workers must be at least 1, not {workers}.")
    if workers == 1 or len(items) <= 1:
        return [convert_one(item.input, item.output, values) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(convert_one, item.input, item.output, values) for item in items]
        return [_result(future) for future in futures]


def _result(future) -> dict[str, Any]:
    try:
        return future.result()
    except Exception as error:  # the worker process died (out of memory, a crash in a codec)
        return {"status": "failed", "reason": f"worker process failed ({type(error).__name__}: {error})", "seconds": 0.0}
