"""Mixed precision: which autocast dtype a run uses and whether it needs a gradient scaler."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from faceswap.errors import UserError

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Precision:
    name: str  # "fp32", "bf16" or "fp16"
    device_type: str

    @property
    def dtype(self) -> torch.dtype | None:
        return _DTYPES.get(self.name)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def make_scaler(self) -> torch.amp.GradScaler | None:
        """fp16 gradients underflow without loss scaling; bf16 and fp32 need none."""
        if self.name != "fp16":
            return None
        return torch.amp.GradScaler(self.device_type)


def resolve_precision(requested: str, device: torch.device) -> Precision:
    """'auto' is bf16 on CUDA GPUs that support it, else fp16 on CUDA, and fp32 elsewhere."""
    if requested == "auto":
        if device.type != "cuda":
            return Precision("fp32", device.type)
        return Precision("bf16" if torch.cuda.is_bf16_supported() else "fp16", device.type)
    if requested not in ("fp32", "bf16", "fp16"):
        raise UserError(f"Unknown precision '{requested}'; use auto, fp32, bf16 or fp16.")
    if requested == "fp16" and device.type == "mps":
        raise UserError("fp16 is not supported on MPS here; use --precision fp32.")
    return Precision(requested, device.type)
