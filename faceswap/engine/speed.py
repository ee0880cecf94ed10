"""Speed settings of a run: torch.compile, channels-last, and the one line that says what a run uses.

That line (device, precision, threads, batch, compile, channels-last) is logged when training
starts, so a run that silently fell back to the CPU or to fp32 is visible in its first lines.
"""
from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from faceswap.errors import UserError

if TYPE_CHECKING:
    from faceswap.engine.trainer import Trainer


def compile_task(task: nn.Module, device: torch.device) -> None:
    """torch.compile the task in place (its state_dict keys stay as they are).

    The compiler's own needs are checked first, so that a missing one is one sentence now and
    not a long traceback at the first step: inductor builds CPU kernels with a C++ compiler and
    GPU kernels with Triton. Parts of a task that cannot be traced (random augmentation with an
    explicit generator) should be marked ``torch.compiler.disable``; they then run eagerly.
    """
    if device.type == "cpu" and not any(shutil.which(name) for name in ("c++", "g++", "clang++")):
        raise UserError("--compile needs a C++ compiler (g++ or clang++) on the PATH for CPU training; "
                        "install one (e.g. apt-get install g++) or drop --compile.")
    if device.type == "cuda":
        try:
            import triton  # noqa: F401
        except ImportError as error:
            raise UserError("--compile on a GPU needs Triton (pip install triton); install it or drop --compile.") from error
    if device.type not in ("cpu", "cuda"):
        raise UserError(f"--compile is supported on the CPU and CUDA GPUs, not on '{device.type}'; drop --compile.")
    task.compile()


def to_channels_last(batch: Any) -> Any:
    """Every 4-D tensor of a batch (tuple, list or dict) in channels-last memory layout."""
    if isinstance(batch, torch.Tensor):
        return batch.contiguous(memory_format=torch.channels_last) if batch.dim() == 4 else batch
    if isinstance(batch, dict):
        return {key: to_channels_last(value) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_channels_last(value) for value in batch)
    return batch


def describe_run(trainer: "Trainer") -> str:
    """One line: where and how this run trains."""
    device = trainer.device
    where = str(device)
    if device.type == "cuda":
        where += f" ({torch.cuda.get_device_name(device)})"
    config = trainer.config
    precision = trainer.precision.name
    precision = "fp32" if precision == "fp32" else f"{precision} autocast"
    processes = f" x {trainer.world_size} processes" if trainer.world_size > 1 else ""
    accumulation = f", {config.grad_accum} batches per step" if config.grad_accum > 1 else ""
    fused = "fused" if trainer.optimizer.defaults.get("fused") else "foreach"
    return (f"Training on {where}, {precision}, {torch.get_num_threads()} CPU threads, batch {config.batch_size}"
            f"{processes}{accumulation}, {fused} {type(trainer.optimizer).__name__}, "
            f"compile {'on' if config.compile else 'off'}, channels-last {'on' if config.channels_last else 'off'}.")
