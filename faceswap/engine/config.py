"""TrainConfig: every engine setting, with its default and help text in one place.

Stage configs (swap, segment, classify) hold one TrainConfig (faceswap.config.nested) rather than copying
these fields; a stage may keep batch_size 0 or num_workers -1 there as "auto", which it resolves
to real values before it hands the config to the Trainer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from faceswap.errors import UserError


@dataclass(frozen=True)
class TrainConfig:
    out_dir: str = field(default="runs/train", metadata={"help": "folder for checkpoints, metrics.csv and config.json"})
    epochs: int | None = field(default=10, metadata={"help": "passes over the training data (None: no limit)"})
    max_steps: int | None = field(default=None, metadata={"help": "stop after this many optimiser steps"})
    max_minutes: float | None = field(default=None, metadata={"help": "stop after this many minutes of training"})
    batch_size: int = field(default=32, metadata={"help": "examples per batch and per process (0: auto, for a stage that picks it)"})
    num_workers: int = field(default=0, metadata={"help": "DataLoader worker processes (0: load in the main process; -1: auto, for a stage that picks it)"})
    shuffle: bool = field(default=True, metadata={"help": "shuffle the training data each epoch"})
    drop_last: bool = field(default=False, metadata={"help": "drop the last incomplete training batch of each epoch"})
    lr: float = field(default=1e-3, metadata={"help": "peak learning rate"})
    optimizer: Literal["adamw", "adam", "sgd"] = field(default="adamw", metadata={"help": "optimiser"})
    weight_decay: float = field(default=0.0, metadata={"help": "weight decay"})
    momentum: float = field(default=0.9, metadata={"help": "SGD momentum, or Adam beta1"})
    schedule: Literal["constant", "cosine", "step"] = field(default="constant", metadata={"help": "learning-rate schedule after warm-up"})
    warmup_steps: int = field(default=0, metadata={"help": "linear learning-rate warm-up steps"})
    lr_step_every: int = field(default=1000, metadata={"help": "'step' schedule: multiply the LR by lr_gamma every this many steps"})
    lr_gamma: float = field(default=0.1, metadata={"help": "'step' schedule: LR factor"})
    min_lr_ratio: float = field(default=0.0, metadata={"help": "'cosine' schedule: final LR as a fraction of the peak"})
    ema: float = field(default=0.0, metadata={"help": "decay of an exponential moving average of the weights kept "
                                              "beside them, which a stage may export instead of the last step's (0: none)"})
    grad_clip: float | None = field(default=None, metadata={"help": "clip the gradient norm to this value"})
    grad_accum: int = field(default=1, metadata={"help": "batches whose gradients are summed per optimiser step"})
    precision: Literal["auto", "fp32", "bf16", "fp16"] = field(default="auto", metadata={"help": "auto: bf16 (or fp16) on CUDA, fp32 elsewhere"})
    device: str = field(default="auto", metadata={"help": "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps"})
    threads: int = field(default=0, metadata={"help": "torch CPU threads (0: library default)"})
    compile: bool = field(default=False, metadata={"help": "torch.compile the task (model and loss) before training"})
    channels_last: bool = field(default=False, metadata={"help": "keep 4-D weights and batches in channels-last (NHWC) memory layout"})
    seed: int = field(default=0, metadata={"help": "seed for torch, numpy, random and the data order"})
    deterministic: bool = field(default=False, metadata={"help": "deterministic algorithms (slower; exact resume)"})
    log_every: int = field(default=50, metadata={"help": "write averaged training metrics every this many steps"})
    eval_every: int | None = field(default=None, metadata={"help": "validate every this many steps (None: each epoch)"})
    save_every: int | None = field(default=None, metadata={"help": "checkpoint every this many steps (None: each epoch, unless save_minutes is set)"})
    save_minutes: float | None = field(default=None, metadata={"help": "also checkpoint when this many minutes have passed since the last one"})
    keep_last: int = field(default=3, metadata={"help": "step checkpoints to keep (the best is kept apart)"})
    best_metric: str = field(default="val_loss", metadata={"help": "metric that picks the best checkpoint"})
    best_mode: Literal["min", "max"] = field(default="min", metadata={"help": "whether lower or higher best_metric is better"})
    resume: bool = field(default=False, metadata={"help": "continue from the latest checkpoint in out_dir"})
    progress: bool = field(default=True, metadata={"help": "show a progress bar (on a terminal)"})
    tensorboard: bool = field(default=True, metadata={"help": "also log to TensorBoard when it is installed"})
    nan_lr_factor: float = field(default=0.5, metadata={"help": "LR factor applied after a non-finite loss or gradient"})
    nan_max_bad_steps: int = field(default=5, metadata={"help": "consecutive non-finite steps before restoring the last good state"})
    snapshot_every: int = field(default=100, metadata={"help": "keep an in-memory copy of the last good state every this many steps"})
    find_unused_parameters: bool = field(default=False, metadata={"help": "DDP: allow parameters without gradient in a step"})

    def __post_init__(self) -> None:
        positive = {"grad_accum": self.grad_accum, "log_every": self.log_every,
                    "keep_last": self.keep_last, "nan_max_bad_steps": self.nan_max_bad_steps,
                    "snapshot_every": self.snapshot_every, "lr_step_every": self.lr_step_every}
        for name, value in positive.items():
            if value < 1:
                raise UserError(f"{name} must be at least 1, not {value}.")
        if self.batch_size < 0:
            raise UserError(f"batch_size must be at least 1 (or 0: auto), not {self.batch_size}.")
        for name in ("epochs", "max_steps", "eval_every", "save_every"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UserError(f"{name} must be at least 1 or unset, not {value}.")
        if self.epochs is None and self.max_steps is None and self.max_minutes is None:
            raise UserError("Training has no end; set epochs, max_steps or max_minutes.")
        if self.save_minutes is not None and self.save_minutes <= 0:
            raise UserError(f"save_minutes must be positive or unset, not {self.save_minutes}.")
        if self.lr <= 0:
            raise UserError(f"lr must be positive, not {self.lr}.")
        if not 0 <= self.ema < 1:
            raise UserError(f"ema must lie between 0 (none) and 1, not {self.ema}.")
        if not 0 < self.nan_lr_factor <= 1:
            raise UserError(f"nan_lr_factor must be in (0, 1], not {self.nan_lr_factor}.")
        if self.num_workers < -1:
            raise UserError(f"num_workers must be at least 0 (or -1: auto), not {self.num_workers}.")
        if self.warmup_steps < 0 or self.threads < 0:
            raise UserError("warmup_steps and threads must not be negative.")
