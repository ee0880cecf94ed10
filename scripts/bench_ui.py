"""Benchmark of `faceswap ui`: the page's time to first render, and training started from the page
against the CLI (examples/s, same settings, alternating runs in the same invocation; goal >= 0.95).

    python scripts/bench_ui.py [--faces-a DIR --faces-b DIR] [--steps 150] [--rounds 2] [--out results/]

Without faces folders it extracts the two sample videos first. Needs the ui extra, selenium and
Debian's chromium + chromedriver (scripts/setup.sh installs them).
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRAIN_FLAGS = ["--segmenter", "none", "--perceptual-weight", "0", "--log-every", "10", "--save-every", "100000"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces-a", help="faces folder of A (default: extracted from the sample video of her)")
    parser.add_argument("--faces-b", help="faces folder of B (default: extracted from the sample video of him)")
    parser.add_argument("--steps", type=int, default=150, help="training steps per run (default: 150)")
    parser.add_argument("--rounds", type=int, default=2, help="CLI/page run pairs, alternating (default: 2)")
    parser.add_argument("--loads", type=int, default=5, help="page loads for the render time (default: 5)")
    parser.add_argument("--out", help="folder for bench_ui.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_ui_"))
    workspace = root / "workspace"
    faces = prepare_faces(args, workspace / "faces")
    server, url = start_server(workspace)
    driver = open_browser()
    try:
        render = render_times(driver, url, args.loads)
        print(f"first render: median {render['ready_ms']:.0f} ms to the listed workspace "
              f"(first contentful paint {render['fcp_ms']:.0f} ms) over {args.loads} loads", flush=True)
        cli_rates, page_rates = [], []
        for round_index in range(args.rounds):
            cli_rates.append(train_from_cli(workspace, faces, f"models/cli_{round_index}", args.steps))
            page_rates.append(train_from_page(driver, url, workspace, f"models/page_{round_index}", args.steps))
            print(f"round {round_index + 1}: CLI {cli_rates[-1]:.1f} examples/s, page {page_rates[-1]:.1f} examples/s", flush=True)
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=20)
    ratio = statistics.mean(page_rates) / statistics.mean(cli_rates)
    result = {"render": render, "cli_examples_per_s": cli_rates, "page_examples_per_s": page_rates,
              "page_over_cli": ratio, "steps": args.steps, "goal": 0.95}
    print(f"training from the page / from the CLI: {ratio:.3f} examples/s ratio (goal >= 0.95)")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "bench_ui.json").write_text(json.dumps(result, indent=1))
    shutil.rmtree(root, ignore_errors=True)
    return 0


def prepare_faces(args, target: Path) -> dict[str, str]:
    """Faces folders inside the workspace (the page reaches only those): copied, or extracted from the samples."""
    from faceswap import assets

    faces = {}
    for side, given, sample in (("a", args.faces_a, "video_wolfgang"), ("b", args.faces_b, "video_single_face")):
        folder = target / side
        if given:
            shutil.copytree(given, folder)
        else:
            run([sys.executable, "-m", "faceswap", "extract", "-i", str(assets.ensure(sample)), "-o", str(folder)])
        faces[side] = f"faces/{side}"
    return faces


def start_server(workspace: Path):
    server = subprocess.Popen([sys.executable, "-m", "faceswap", "ui", str(workspace), "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return server, server.stdout.readline().split()[2]


def open_browser():
    import os

    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    os.environ["SE_OFFLINE"] = "true"
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=shutil.which("chromedriver")))


def render_times(driver, url: str, loads: int) -> dict[str, float]:
    ready, paint = [], []
    for _ in range(loads):
        driver.get("about:blank")
        driver.get(url)
        wait_for(lambda: driver.execute_script("return document.body.dataset.ready") == "1", 30)
        ready.append(driver.execute_script("return performance.getEntriesByName('faceswap-ready')[0].startTime"))
        paint.append(driver.execute_script(
            "const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : 0"))
    return {"ready_ms": statistics.median(ready), "fcp_ms": statistics.median(paint), "loads_ready_ms": ready}


def train_from_cli(workspace: Path, faces: dict[str, str], model: str, steps: int) -> float:
    run([sys.executable, "-m", "faceswap", "train", "-A", str(workspace / faces["a"]), "-B", str(workspace / faces["b"]),
         "-m", str(workspace / model), "--steps", str(steps), *TRAIN_FLAGS])
    return examples_per_s(workspace / model)


def train_from_page(driver, url: str, workspace: Path, model: str, steps: int) -> float:
    """Fill the Train form and press Start, as a user would; wait for the job to finish."""
    from selenium.webdriver.common.by import By

    driver.get("about:blank")
    driver.get(url + "#train")
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready") == "1", 30)
    for field, value in (("train-a", "faces/a"), ("train-b", "faces/b"), ("train-model", model), ("train-steps", str(steps)),
                         ("train-save-every", "100000")):
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "#train-segmenter option[value=none]").click()
    driver.find_element(By.ID, "train-perceptual").click()
    driver.find_element(By.ID, "train-start").click()

    def finished() -> bool:
        status = driver.execute_script(  # the row of this model's training (earlier rounds' rows stay in the table)
            "const row = [...document.querySelectorAll('#jobs tr.job[data-kind=train]')]"
            ".find((r) => r.cells[0].textContent === 'train ' + arguments[0]); return row && row.dataset.status;", model)
        if status in ("failed", "lost"):
            raise SystemExit(f"the page's training failed; see the job's log in {workspace / '.ui/jobs'}")
        return status == "done" and (workspace / model / "training" / "metrics.csv").is_file()
    wait_for(finished, 3600)
    return examples_per_s(workspace / model)


def examples_per_s(model_dir: Path) -> float:
    """Mean samples_per_s of the logged intervals, the first (warm-up) left out."""
    with open(model_dir / "training" / "metrics.csv", newline="") as handle:
        rates = [float(row["samples_per_s"]) for row in csv.DictReader(handle) if row.get("samples_per_s")]
    return statistics.mean(rates[1:] or rates)


def run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(condition, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("timed out")
        time.sleep(0.2)


if __name__ == "__main__":
    raise SystemExit(main())
