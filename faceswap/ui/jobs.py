"""Background jobs: the real CLI in a process of its own, its state as JSON in WORKSPACE/.ui/jobs.

A job outlives the page and the server (the runner runs in a new session); a restarted server
reads the same files and finds it again. A job whose runner vanished without a word (killed) is
shown as lost.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from faceswap.errors import UserError
from faceswap.ui.jobstate import log_lines, progress_percent, read_state, write_state
from faceswap.ui.workspace import Workspace

ACTIVE = ("starting", "running")
# how each program is started with this Python
PROGRAMS = {"faceswap": ["-m", "faceswap"],
            "classify": ["-m", "classify"]}


class JobStore:
    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._children: dict[str, subprocess.Popen] = {}  # runners this server started (polled, so none stays a zombie)

    def start(self, kind: str, program: str, args: list[str], title: str, outputs: dict[str, str]) -> dict[str, Any]:
        """Run ``program args...`` (program: faceswap or classify) in the background."""
        argv = [sys.executable, *PROGRAMS[program], *args]
        job_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{kind}-{secrets.token_hex(3)}"
        path = self._path(job_id)
        state = {"id": job_id, "kind": kind, "title": title, "argv": argv, "command": " ".join([program, *args]), "cwd": str(self.workspace.root),
                 "log": str(path.with_suffix(".log")), "status": "starting", "started": time.time(), "ended": None,
                 "exit_code": None, "error": None, "pid": None, "runner_pid": None, "outputs": outputs,
                 "stop_requested": False}
        write_state(path, state)
        runner = subprocess.Popen([sys.executable, "-m", "faceswap.ui.runner", str(path)], cwd=self.workspace.root,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._children[job_id] = runner
        state = {**read_state(path), "runner_pid": runner.pid}
        write_state(path, state)
        return self.describe(state)

    def list(self) -> list[dict[str, Any]]:
        states = []
        for path in sorted(self.workspace.jobs_dir.glob("*.json"), reverse=True):
            try:
                states.append(self.describe(self._checked(read_state(path))))
            except (ValueError, KeyError, OSError):
                continue  # a state file being replaced or damaged by hand: skipped, not fatal to the page
        return states

    def get(self, job_id: str) -> dict[str, Any]:
        return self.describe(self._checked(read_state(self._existing(job_id))))

    def log(self, job_id: str, lines: int = 200) -> list[str]:
        state = read_state(self._existing(job_id))
        return log_lines(Path(state["log"]))[-lines:]

    def stop(self, job_id: str) -> dict[str, Any]:
        """Ask the job to stop as Ctrl-C would (training saves first); it keeps its state file."""
        path = self._existing(job_id)
        state = self._checked(read_state(path))
        if state["status"] not in ACTIVE:
            raise UserError(f"The job {job_id} is not running ({state['status']}); there is nothing to stop.")
        write_state(path, {**state, "stop_requested": True})
        try:
            os.killpg(state["runner_pid"], signal.SIGINT)
        except ProcessLookupError:
            pass
        return self.get(job_id)

    def active(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [job for job in self.list() if job["status"] in ACTIVE and (kind is None or job["kind"] == kind)]

    def describe(self, state: dict[str, Any]) -> dict[str, Any]:
        """What the page shows: the state without the machine's absolute paths, plus progress."""
        shown = {key: state[key] for key in ("id", "kind", "title", "command", "status", "started", "ended", "exit_code",
                                              "error", "outputs", "pid")}
        inside = f"{self.workspace.root}/"  # the page names workspace paths as it takes them: relative
        shown["command"] = shown["command"].replace(inside, "")
        shown["error"] = shown["error"] and shown["error"].replace(inside, "")
        shown["progress"] = progress_percent(Path(state["log"])) if state["status"] in ACTIVE else None
        return shown

    def _checked(self, state: dict[str, Any]) -> dict[str, Any]:
        """The state, with a vanished runner (killed, machine restarted) recorded as lost."""
        child = self._children.get(state["id"])
        if child is not None and child.poll() is not None:
            self._children.pop(state["id"], None)
            state = read_state(self._path(state["id"]))  # the runner's last word
        if state["status"] in ACTIVE and state.get("runner_pid") and not _alive(state["runner_pid"]):
            state = read_state(self._path(state["id"]))
            if state["status"] in ACTIVE:
                state.update(status="lost", ended=time.time(),
                             error="The job's process ended without reporting how (killed or the machine restarted).")
                write_state(self._path(state["id"]), state)
        return state

    def _path(self, job_id: str) -> Path:
        return self.workspace.jobs_dir / f"{job_id}.json"

    def _existing(self, job_id: str) -> Path:
        path = self._path(job_id)
        if not job_id.replace("-", "").isalnum() or not path.is_file():
            raise UserError(f"There is no job '{job_id}' in this workspace; reload the page.")
        return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
