"""Atomic writes: a file appears complete under its final name, or not at all."""
from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Any, Iterator

from faceswap.errors import UserError


@contextlib.contextmanager
def atomic_path(final_path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``final_path``; rename it into place on success.

    The temporary name keeps the final suffix so that writers that pick a format from the
    extension (OpenCV, PyAV) still do the right thing. It names this host and process, so the
    temporary file of a run that was killed (``kill -9``, a power cut) is removed by the next
    write to the same path.
    """
    final_path = Path(final_path)
    suffix = suffix or final_path.suffix
    try:
        final_path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(final_path, suffix)
        handle, temp_name = tempfile.mkstemp(prefix=f"{_temp_prefix(final_path)}{_HOST}-{os.getpid()}-", suffix=suffix,
                                             dir=final_path.parent)
        os.close(handle)
        os.chmod(temp_name, 0o666 & ~_current_umask())  # mkstemp makes 0600; outputs get the usual mode
    except OSError as error:
        raise UserError(f"Cannot write to '{final_path.parent}' ({error.strerror}); choose a writable output location.") from error
    temp_path = Path(temp_name)
    try:
        with os_errors_named(final_path):
            yield temp_path
            os.replace(temp_path, final_path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise


_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16] or "host"


def _temp_prefix(final_path: Path) -> str:
    return f".{final_path.stem}."


def remove_stale_temporaries(final_path: Path, suffix: str) -> list[Path]:
    """Delete the temporary files of ``final_path`` left by processes of this host that no longer run."""
    pattern = re.compile(re.escape(_temp_prefix(final_path)) + re.escape(_HOST) + r"-(\d+)-[A-Za-z0-9_]+" + re.escape(suffix) + "$")
    removed = []
    for candidate in final_path.parent.glob(f"{_temp_prefix(final_path)}*{suffix}"):
        match = pattern.match(candidate.name)
        if match and not _process_runs(int(match.group(1))):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def _process_runs(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it runs, under another user
        return True
    return True


@contextlib.contextmanager
def os_errors_named(path: str | os.PathLike) -> Iterator[None]:
    """Let a failed write (full disk, read-only folder) leave as an OSError that names ``path``.

    An OSError raised by ``write()`` carries no file name, and safetensors reports the same
    failure as a SafetensorError "... (os error 28)": both become ``OSError(errno, ..., path)``,
    which the CLI turns into one sentence (faceswap/cli/main.py).
    """
    try:
        yield
    except OSError as error:
        if error.filename is None:
            error.filename = os.fspath(path)
        raise
    except Exception as error:
        found = re.search(r"\(os error (\d+)\)", str(error))
        if found is None:
            raise
        number = int(found.group(1))
        raise OSError(number, os.strerror(number), os.fspath(path)) from error


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as temp_path:
        with open(temp_path, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    write_bytes_atomic(path, json.dumps(obj, indent=1, default=_json_default).encode())


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def read_json(path: str | os.PathLike, what: str = "file", fix: str = "re-create it", object_only: bool = True) -> Any:
    """The JSON in ``path``; with ``object_only`` (every file this project writes) anything but an object is refused."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"The {what} '{path}' does not exist; check the path.")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"The {what} '{path}' is not valid JSON ({error}); {fix}.") from error
    if object_only and not isinstance(data, dict):
        raise UserError(f"The {what} '{path}' holds a JSON {_json_kind(data)}, not an object of named values; {fix}.")
    return data


def _json_kind(data: Any) -> str:
    if isinstance(data, bool):
        return "true/false value"
    if isinstance(data, (int, float)):
        return "number"
    return {list: "list", str: "string", type(None): "null"}.get(type(data), type(data).__name__)


class _RecordingWriter:
    """A file for torch.save that keeps what stopped a write: an OSError, or a KeyboardInterrupt (Ctrl-C, a
    stop button) that arrived mid-write. torch.save turns either into "unexpected pos"; the caller raises
    the original, so an interrupted save still ends in the trainer's save-and-stop path."""

    def __init__(self, handle):
        self.handle, self.error = handle, None

    def write(self, data) -> int:
        try:
            return self.handle.write(data)
        except (OSError, KeyboardInterrupt) as error:
            self.error = error
            raise

    def flush(self) -> None:
        self.handle.flush()


def save_torch(obj: Any, path: str | os.PathLike) -> None:
    """torch.save of plain tensors and dicts (read back with weights_only=True), flushed to disk;
    a full disk ends in the OSError it is and Ctrl-C in a KeyboardInterrupt (torch.save's own error
    says only "unexpected pos")."""
    import torch

    with open(path, "wb") as handle:
        writer = _RecordingWriter(handle)
        try:
            torch.save(obj, writer)
        except RuntimeError as error:
            if writer.error is not None:
                raise writer.error from error
            raise
        handle.flush()
        os.fsync(handle.fileno())


def write_weights_atomic(path: str | os.PathLike, module: Any, file_format: str) -> None:
    """A module's state_dict as safetensors (no pickle), on the CPU, written to a temp name and renamed."""
    from safetensors.torch import save_file

    state = {name: tensor.detach().to("cpu").contiguous() for name, tensor in module.state_dict().items()}
    with atomic_path(path) as temp_path:
        save_file(state, str(temp_path), metadata={"format": file_format})
