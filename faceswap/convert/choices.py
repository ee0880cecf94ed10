"""Convert's hardware choices, made once at start and printed in one line: the model's precision,
what pastes faces into frames (OpenCV or torch), how many paste workers, and the video encoder.

Each ``auto`` resolves from the device alone, so the choice is a pure function a CPU test can check
for a CUDA device too.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from faceswap.errors import UserError

MAX_AUTO_PASTE_WORKERS = 4  # past this the paste is not the slow stage (the model or the encoder is)
PASTE_KINDS = ("opencv", "torch")
ENCODERS = ("x264", "nvenc", "nvenc_hevc")


@dataclass(frozen=True)
class ConvertChoices:
    device: str  # e.g. "cuda:0 (NVIDIA H200)" or "cpu"
    precision: str  # fp32, bf16 or fp16 (autocast)
    threads: int  # torch's CPU threads
    paste: str  # opencv or torch
    paste_workers: int  # 0: pasted on the main thread
    encoder: str  # what the output writer actually opened, e.g. "libx264 (medium, crf 18)"

    def describe(self) -> str:
        precision = "fp32" if self.precision == "fp32" else f"{self.precision} autocast"
        workers = f"{self.paste_workers} paste worker{'s' if self.paste_workers != 1 else ''}" if self.paste_workers else "pasting inline"
        threads = f"{self.threads} CPU thread{'s' if self.threads != 1 else ''}"
        return (f"Converting on {self.device}, {precision}, {threads}, paste: {self.paste} "
                f"({workers}), encoder: {self.encoder}.")


def choose_paste(requested: str, device_type: str, seamless: bool = False) -> str:
    """'auto' is torch (grid_sample where the model runs) on CUDA, OpenCV elsewhere: on the CPU OpenCV's
    fixed-point warp is the faster of the two, and --seamless (Poisson blending) exists only in OpenCV."""
    if requested == "auto":
        return "torch" if device_type == "cuda" and not seamless else "opencv"
    if requested not in PASTE_KINDS:
        raise UserError(f"Unknown --paste '{requested}'; use auto, {', '.join(PASTE_KINDS)}.")
    if requested == "torch" and seamless:
        raise UserError("--seamless (OpenCV's Poisson blend) cannot run with --paste torch; use --paste opencv or drop --seamless.")
    return requested


def choose_paste_workers(requested: int, cpu_count: int | None = None) -> int:
    """'0' (auto) is one worker per two cores, at most MAX_AUTO_PASTE_WORKERS, and none on a 2-core machine
    (measured with scripts/bench_convert.py: there, a worker thread only competes with the encoder)."""
    if requested > 0:
        return requested
    cores = cpu_count if cpu_count is not None else _usable_cores()
    workers = min(MAX_AUTO_PASTE_WORKERS, cores // 2)
    return workers if workers >= 2 else 0


def _usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def choose_encoder(requested: str, device_type: str) -> str:
    """'auto' prefers NVENC on a CUDA machine (the writer falls back to x264 if it cannot open), x264 elsewhere."""
    if requested == "auto":
        return "nvenc" if device_type == "cuda" else "x264"
    if requested not in ENCODERS:
        raise UserError(f"Unknown --encoder '{requested}'; use auto, {', '.join(ENCODERS)}.")
    return requested


def device_name(device) -> str:
    """The device with the GPU's name, so a silent fallback to the CPU shows in the first line."""
    import torch

    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def plan_choices(config, probe_size: tuple[int, int] = (1920, 1080)) -> tuple[ConvertChoices, list[str]]:
    """The choices ``config`` leads to on this machine, before any video is opened (for `faceswap batch`,
    whose videos are converted in other processes): (choices, warnings). The encoder is tried at
    ``probe_size``."""
    from fractions import Fraction

    import torch

    from faceswap import runtime
    from faceswap.engine.precision import resolve_precision
    from faceswap.video.encoders import choose_encoder as open_encoder

    runtime.set_threads(config.threads)
    device = runtime.pick_device(config.device)
    encoder = open_encoder(choose_encoder(config.encoder, device.type), *probe_size, Fraction(30), config.crf,
                           config.encoder_preset)
    choices = ConvertChoices(device_name(device), resolve_precision(config.precision, device).name, torch.get_num_threads(),
                             choose_paste(config.paste, device.type, config.seamless), choose_paste_workers(config.paste_workers),
                             encoder.describe())
    return choices, [encoder.warning] if encoder.warning else []
