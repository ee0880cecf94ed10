"""Atomic writes: a file appears complete under its final name, or not at all."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from faceswap.errors import UserError


@contextlib.contextmanager
def atomic_path(final_path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``final_path``; rename it into place on success.

    The temporary name keeps the final suffix so that writers that pick a format from the
    extension (OpenCV, PyAV) still do the right thing.
    """
    final_path = Path(final_path)
    try:
        final_path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{final_path.stem}.", suffix=suffix or final_path.suffix, dir=final_path.parent
        )
        os.close(handle)
        os.chmod(temp_name, 0o666 & ~_current_umask())  # mkstemp makes 0600; outputs get the usual mode
    except OSError as error:
        raise UserError(f"Cannot write to '{final_path.parent}' ({error.strerror}); choose a writable output location.") from error
    temp_path = Path(temp_name)
    try:
        yield temp_path
        os.replace(temp_path, final_path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise


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


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"The {what} '{path}' does not exist; check the path.")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"The {what} '{path}' is not valid JSON ({error}); re-create it.") from error


def write_weights_atomic(path: str | os.PathLike, module: Any, file_format: str) -> None:
    """A module's state_dict as safetensors (no pickle), on the CPU, written to a temp name and renamed."""
    from safetensors.torch import save_file

    state = {name: tensor.detach().to("cpu").contiguous() for name, tensor in module.state_dict().items()}
    with atomic_path(path) as temp_path:
        save_file(state, str(temp_path), metadata={"format": file_format})
