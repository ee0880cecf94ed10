"""Device choice and thread count, shared by every stage."""
from __future__ import annotations

import os

from faceswap.errors import UserError


def pick_device(requested: str = "auto") -> "torch.device":  # noqa: F821
    """'auto' picks CUDA, then Apple MPS, then the CPU; anything else is taken as given."""
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as error:
        raise UserError(f"Unknown device '{requested}'; use {DEVICE_NAMES}.") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"Device '{requested}' was asked for but no CUDA GPU is visible; use --device cpu.")
    return device


DEVICE_NAMES = "auto, cpu, cuda, cuda:N or mps"


def check_device_name(requested: str) -> None:
    """Refuse a device no command can use, before any work (whether it is present is checked when it is picked)."""
    kind, _, number = requested.partition(":")
    if kind not in ("auto", "cpu", "cuda", "mps") or (number and not (kind == "cuda" and number.isdigit())):
        raise UserError(f"Unknown device '{requested}'; use {DEVICE_NAMES}.")


def set_threads(threads: int) -> None:
    """Set torch, OpenCV and ONNX intra-op threads. 0 keeps the libraries' own defaults.

    On small machines one thread is often faster than two for small models, so this is a
    setting rather than a guess (see the benchmarks).
    """
    if threads < 0:
        raise UserError(f"--threads must be 0 (library default) or a positive number, not {threads}.")
    keep_freed_memory()
    if threads == 0:
        return
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)


_allocator_tuned = False


def keep_freed_memory() -> None:
    """Ask glibc's malloc to keep large freed blocks instead of returning them to the system.

    CPU convolutions free and re-allocate the same large activation buffers every call; with
    glibc's defaults each round trip goes through mmap/munmap and page faults, which cost a
    quarter to a third of a small model's time on the CPU (measured on the segmenter). The
    process keeps at most about the peak it already reached. A no-op off glibc.
    """
    global _allocator_tuned
    if _allocator_tuned:
        return
    _allocator_tuned = True
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = getattr(libc, "mallopt", None)
    except OSError:
        return
    if mallopt is not None:
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        mallopt(M_MMAP_THRESHOLD, 256 << 20)
        mallopt(M_TRIM_THRESHOLD, 1 << 30)
