"""scripts/bench_gpu.py on the CPU: every path of the GPU check except CUDA itself is exercised here,
so that a lent GPU's minutes are never spent finding a bug in the script."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_bench_gpu_smoke_runs_on_the_cpu_and_writes_every_row(tmp_path):
    """scripts/bench_gpu.py --smoke: the GPU script's every path except CUDA itself, before a GPU run is spent on it."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "bench_gpu.py"
    result = subprocess.run([sys.executable, str(script), "--smoke", "--out", str(tmp_path)], capture_output=True, text=True,
                            timeout=150)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "bench_gpu.jsonl").read_text().splitlines()]
    kinds = {row["kind"] for row in rows}
    assert {"start", "detector", "extract_1080p", "convert_1080p", "throughput", "throughput_device_faces", "auto_batch",
            "largest_batch", "compile"} <= kinds
    assert next(row for row in rows if row["kind"] == "auto_batch")["auto_batch"] == 8  # the smoke cap: a tiny model fits
    assert not [row for row in rows if "error" in row and row["kind"] != "batch_probe"], rows
    assert (tmp_path / "bench_gpu.md").is_file()


def _bench_gpu():
    import importlib.util

    script = Path(__file__).resolve().parents[1] / "scripts" / "bench_gpu.py"
    spec = importlib.util.spec_from_file_location("bench_gpu", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_gpu_records_a_failed_row_and_goes_on(tmp_path):
    import time

    bench = _bench_gpu()
    results = bench.Results(tmp_path, time.monotonic(), budget_s=60)
    results.attempt("throughput", {"model": "a"}, lambda: 1 / 0)
    results.attempt("throughput", {"model": "b"}, lambda: {"examples_per_s": 2.0})
    late = bench.Results(tmp_path / "late", time.monotonic(), budget_s=0)
    late.attempt("throughput", {"model": "c"}, lambda: {"examples_per_s": 3.0})
    rows = [json.loads(line) for line in (tmp_path / "bench_gpu.jsonl").read_text().splitlines()]
    assert rows[0]["error"].startswith("ZeroDivisionError") and rows[1]["examples_per_s"] == 2.0
    assert "skipped" in json.loads((tmp_path / "late" / "bench_gpu.jsonl").read_text())


def test_bench_gpu_stops_before_any_work_when_an_asset_is_missing(monkeypatch):
    from faceswap import assets

    bench = _bench_gpu()
    monkeypatch.setattr(assets, "is_cached", lambda name: name != "centerface")
    with pytest.raises(SystemExit, match="faceswap assets fetch centerface"):
        bench.check_assets()
