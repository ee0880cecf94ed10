"""``python -m faceswap.ui.runner JOB.json``: run one job's command and record how it ended.

The server starts this in a session of its own, so the job outlives the page and the server.
It runs the command with its output in the job's log, records the pid, then the exit code and
the one-line error in the job's JSON (atomically). SIGINT/SIGTERM to the session reach the
command (training saves on Ctrl-C); this process only waits for it.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from faceswap.ui.jobstate import error_line, read_state, write_state


def main(state_path: str) -> int:
    path = Path(state_path)
    state = read_state(path)
    signal.signal(signal.SIGINT, lambda *_: None)  # the command gets it too (same process group) and decides
    signal.signal(signal.SIGTERM, lambda *_: None)
    with open(state["log"], "ab", buffering=0) as log:
        try:
            child = subprocess.Popen(state["argv"], cwd=state["cwd"], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     env=None)
        except OSError as error:
            state.update(status="failed", exit_code=127, error=f"Cannot start {state['argv'][0]}: {error.strerror}.",
                         ended=time.time())
            write_state(path, state)
            return 127
        write_state(path, {**read_state(path), "status": "running", "pid": child.pid})
        code = child.wait()
    state = read_state(path)
    failed = code != 0
    status = "stopped" if state.get("stop_requested") and code in (0, 130, -2, -15) else ("failed" if failed else "done")
    state.update(status=status, exit_code=code, ended=time.time(),
                 error=error_line(Path(state["log"])) if status == "failed" else None)
    write_state(path, state)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
