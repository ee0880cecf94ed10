"""One command at a time writes a faces folder: a lock file created with O_EXCL.

`extract` holds it for its whole run, `faces remove|restore` while they change the alignments
file and the trash. A second command on the same folder fails at once, naming the one that
holds the lock. A lock left behind by a process that
died (on this machine, POSIX) is noticed and taken over; otherwise the message says which file
to delete once no command is running.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Iterator

from faceswap.errors import UserError

LOCK_FILE = ".faces.lock"


@contextlib.contextmanager
def folder_lock(folder: str | Path, command: str) -> Iterator[None]:
    """Hold ``folder``'s lock while the block runs; ``command`` names the holder in a rival's error."""
    path = Path(folder) / LOCK_FILE
    holder = {"command": command, "pid": os.getpid(), "host": socket.gethostname(),
              "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    _acquire(path, holder)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _acquire(path: Path, holder: dict) -> None:
    for attempt in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            current = _holder(path)
            if attempt == 0 and (not path.exists() or (_died(current) and _take_over(path, current))):
                continue  # released meanwhile, or its holder died
            raise UserError(f"The folder '{path.parent}' is being changed by another command ({_describe(current)}); "
                            f"wait for it to finish, or delete '{path}' if it is no longer running.") from None
        except OSError as error:
            raise UserError(f"Cannot lock the folder '{path.parent}' ({error.strerror}); check that it is writable.") from None
        with os.fdopen(fd, "w") as handle:
            json.dump(holder, handle)
        return


def _holder(path: Path) -> dict:
    """What the lock file says about its holder ({} while it is being written, or if unreadable)."""
    try:
        holder = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _describe(holder: dict) -> str:
    if not holder:
        return "one that has just started"
    return f"{holder.get('command', 'a command')}, process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"


def _died(holder: dict) -> bool:
    """True only when the holder was a process on this machine that no longer runs (POSIX)."""
    pid = holder.get("pid")
    if os.name != "posix" or not isinstance(pid, int) or holder.get("host") != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it runs under another user
        return False
    return False


def _take_over(path: Path, dead: dict) -> bool:
    """Move the dead holder's lock aside (atomically: one taker wins); False if it was not that lock any more."""
    aside = path.with_name(f"{path.name}.{os.getpid()}")
    try:
        os.replace(path, aside)
    except OSError:
        return True  # another process moved it first: try to create ours
    if _holder(aside) == dead:
        aside.unlink(missing_ok=True)
        return True
    with contextlib.suppress(OSError):  # a live process's lock was moved: put it back
        os.link(aside, path)
    aside.unlink(missing_ok=True)
    return False
