"""Where metrics go: metrics.csv always, TensorBoard when installed, a tqdm progress bar."""
from __future__ import annotations

import csv
import io
import logging
import sys
import time
from pathlib import Path
from typing import Any

from faceswap.fileio import write_bytes_atomic

log = logging.getLogger("faceswap.engine")

FIRST_COLUMNS = ["step", "epoch", "time_s"]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


class MetricsCSV:
    """metrics.csv with one row per log or evaluation.

    On resume, rows newer than the checkpoint are dropped (they will be logged again), so the
    file never holds a step twice. A metric that appears later widens the header (file rewritten).
    """

    def __init__(self, path: str | Path, resume_step: int | None = None):
        self.path = Path(path)
        self.columns: list[str] = list(FIRST_COLUMNS)
        self.rows: list[dict[str, str]] = []
        if resume_step is not None and self.path.is_file():
            with open(self.path, newline="") as handle:
                reader = csv.DictReader(handle)
                self.columns = list(reader.fieldnames or FIRST_COLUMNS)
                self.rows = [row for row in reader if _step_of(row) <= resume_step]
        self._rewrite()

    def write(self, row: dict[str, Any]) -> None:
        cells = {key: _cell(value) for key, value in row.items()}
        self.rows.append(cells)
        new_columns = [key for key in cells if key not in self.columns]
        if new_columns:
            self.columns.extend(new_columns)
            self._rewrite()
            return
        with open(self.path, "a", newline="") as handle:
            csv.DictWriter(handle, self.columns).writerow(cells)

    def _rewrite(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, self.columns)
        writer.writeheader()
        writer.writerows(self.rows)
        write_bytes_atomic(self.path, buffer.getvalue().encode())


def _step_of(row: dict[str, str]) -> int:
    try:
        return int(row.get("step") or 0)
    except ValueError:
        return 0


class TensorBoardLog:
    """Scalars to TensorBoard if ``tensorboard`` is importable; otherwise does nothing."""

    def __init__(self, log_dir: str | Path, enabled: bool):
        self.writer = None
        if not enabled:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return
        self.writer = SummaryWriter(str(log_dir))

    def write(self, step: int, metrics: dict[str, Any]) -> None:
        if self.writer is None:
            return
        for key, value in metrics.items():
            if key not in FIRST_COLUMNS and isinstance(value, (int, float)):
                self.writer.add_scalar(key, value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class ProgressBar:
    """tqdm bar on a terminal showing the loss and examples/s; elsewhere (a log file, a
    container, CI) one plain line every ``LINE_EVERY_S`` seconds, so long runs still show life."""

    LINE_EVERY_S = 30.0

    def __init__(self, enabled: bool, total: int | None, initial: int):
        self.bar = None
        self.enabled = enabled
        self.total, self.step = total, initial
        self.examples_per_s = 0.0
        self.loss: float | None = None  # not read yet: the first log interval has not ended
        self._last = self._last_line = time.monotonic()
        if enabled and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True, mininterval=0.5)

    def show_loss(self, loss: float) -> None:
        """The loss shown from now on (the trainer reads it once per log interval)."""
        self.loss = loss

    def update(self, samples: int) -> None:
        if not self.enabled:
            return
        loss = self.loss
        now = time.monotonic()
        rate = samples / max(now - self._last, 1e-9)
        self._last = now
        self.step += 1
        # smoothed, so that the figure is readable while it changes
        self.examples_per_s = rate if not self.examples_per_s else 0.9 * self.examples_per_s + 0.1 * rate
        shown = {} if loss is None else {"loss": _cell(loss)}
        if self.bar is not None:
            self.bar.set_postfix({**shown, "ex/s": f"{self.examples_per_s:.0f}"}, refresh=False)
            self.bar.update(1)
        elif now - self._last_line >= self.LINE_EVERY_S:
            self._last_line = now
            of_total = f"/{self.total}" if self.total else ""
            loss_text = f"  loss {shown['loss']}" if shown else ""
            print(f"step {self.step}{of_total}{loss_text}  {self.examples_per_s:.0f} examples/s", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
