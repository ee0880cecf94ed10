"""SegmentTrainConfig: every setting of the segmenter's training, with its default and help."""
from __future__ import annotations

from dataclasses import dataclass, field

from faceswap.config import Shown, flat_settings, nested
from faceswap.engine.config import TrainConfig
from faceswap.errors import UserError

# The engine settings `faceswap mask train` shows, under the segmenter's names, defaults and help where
# they differ from the engine's (TrainConfig declares them once); `hidden` fixes the ones it does not show.
ENGINE_SETTINGS = {
    "max_steps": Shown("steps", 3000, "stop after this many steps in all"),
    "max_minutes": Shown("minutes", None, "stop after this many minutes of this run"),
    "batch_size": Shown(default=16, help="crops per step"),
    "lr": Shown(default=5e-3, help="learning rate (cosine schedule after a short warm-up)"),
    "device": Shown(help="auto, cpu, cuda, cuda:N or mps"),
    "threads": Shown(help="torch CPU threads (0: auto: on the CPU the faster of half and all the cores, timed at the start)"),
    "seed": Shown(help="seed for weights, data order, occluders and augmentation"),
    "resume": Shown(help="continue the training in out_dir"),
    "eval_every": Shown(default=250, help="validate every this many steps"),
    "save_every": Shown(default=500, help="save the weights and preview every this many steps"),
    "progress": Shown(),
}
HIDDEN_ENGINE_SETTINGS = {"epochs": None, "optimizer": "adamw", "weight_decay": 1e-4, "min_lr_ratio": 0.05,
                          "log_every": 50, "keep_last": 2, "best_metric": "val_iou", "best_mode": "max"}


@flat_settings
@dataclass(frozen=True)
class SegmentTrainConfig:
    """Segmenter training settings; the engine's are in ``engine`` and also read and set flat
    (``config.steps``, ``SegmentTrainConfig(..., steps=500)``)."""
    faces: tuple[str, ...] = field(default=(), metadata={"help": "faces folders written by `faceswap extract`", "cli": False})
    out_dir: str = field(default="", metadata={"help": "segmenter folder to write", "cli": False})
    preset: str = field(default="tiramisu", metadata={"help": "segmenter preset (see `faceswap plugins`)"})
    resolution: int = field(default=0, metadata={"help": "input size in pixels (0: the preset's)"})
    engine: TrainConfig = nested(TrainConfig, ENGINE_SETTINGS, hidden=HIDDEN_ENGINE_SETTINGS)
    occlusion: float = field(default=0.6, metadata={"help": "share of training faces with a synthetic occluder pasted over them"})
    occluders: int = field(default=400, metadata={"help": "synthetic occluders (hands, objects, face pieces) to draw"})
    max_faces: int = field(default=600, metadata={"help": "at most this many evenly spaced faces per folder"})
    val_fraction: float = field(default=0.1, metadata={"help": "share of the faces held out for validation and the preview"})

    def __post_init__(self) -> None:
        if not self.faces:
            raise UserError("The segmenter needs at least one faces folder; pass the folders written by `faceswap extract`.")
        if not self.out_dir:
            raise UserError("No segmenter folder given; pass one with -o.")
        if self.steps is not None and self.steps < 1:
            raise UserError(f"--steps must be at least 1, not {self.steps}.")
        if self.minutes is not None and self.minutes <= 0:
            raise UserError(f"--minutes must be positive, not {self.minutes}.")
        if self.batch_size < 2 or self.max_faces < 4 or self.occluders < 1:
            raise UserError("--batch-size must be at least 2, --max-faces at least 4 and --occluders at least 1.")
        if not 0 <= self.occlusion <= 1:
            raise UserError(f"--occlusion is a share between 0 and 1, not {self.occlusion}.")
        if not 0 < self.val_fraction < 0.5:
            raise UserError(f"--val-fraction must be between 0 and 0.5, not {self.val_fraction}.")
