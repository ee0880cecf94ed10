"""A job's state file (JSON, written atomically) and the one line of its log that says why it failed."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from faceswap.fileio import write_json_atomic

TAIL_BYTES = 64 * 1024


def read_state(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def write_state(path: Path, state: dict[str, Any]) -> None:
    write_json_atomic(path, state)


def log_lines(log: Path, tail_bytes: int = TAIL_BYTES) -> list[str]:
    """The last lines of a log, progress-bar redraws (carriage returns) reduced to their last state."""
    try:
        with open(log, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - tail_bytes))
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return []
    lines = []
    for line in text.split("\n"):
        parts = [part for part in line.split("\r") if part.strip()]
        if parts:
            lines.append(parts[-1].rstrip())
    return lines


def error_line(log: Path) -> str:
    """The CLI's 'error: ...' sentence, else the last line (a traceback's exception), else a plain note."""
    lines = log_lines(log)
    for line in reversed(lines):
        if line.startswith("error: "):
            return line[len("error: "):]
    return lines[-1] if lines else "The command failed without output."


def progress_percent(log: Path) -> float | None:
    """The last tqdm percentage (extract, convert) or 'step N/TOTAL' (training off a terminal) the command printed."""
    for line in reversed(log_lines(log, 4096)):
        found = re.findall(r"(\d{1,3})%\|", line)
        if found:
            return float(found[-1])
        steps = re.match(r"step (\d+)/(\d+)\b", line)
        if steps:
            return round(100 * int(steps.group(1)) / max(1, int(steps.group(2))), 1)
    return None
