"""Settings of ``classify train``: one frozen dataclass is the source of defaults and flags."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from faceswap.config import Shown, flat_settings, nested
from faceswap.engine.config import TrainConfig
from faceswap.errors import UserError

Activation = Literal["sigmoid", "tanh", "relu", "leaky_relu", "elu"]

# The engine settings `classify train` shows, under classify's names, defaults and help where they
# differ from the engine's (TrainConfig declares them once).
ENGINE_SETTINGS = {
    "epochs": Shown(help="passes over the training data"),
    "batch_size": Shown(default=64, help="images per batch"),
    "lr": Shown(help="peak learning rate (AdamW)"),
    "weight_decay": Shown(help="AdamW weight decay"),
    "schedule": Shown(default="cosine", help="learning-rate schedule"),
    "precision": Shown(),
    "grad_clip": Shown(),
    "warmup_steps": Shown("warmup"),
    "resume": Shown(help="continue the run in --out from its latest checkpoint"),
    "max_minutes": Shown(help="stop training after this many minutes"),
    "num_workers": Shown(help="data-loading worker processes"),
    "device": Shown(help="auto, cpu, cuda, cuda:N or mps"),
    "threads": Shown(help="CPU threads (0: library default; 1 is often fastest on small machines)"),
    "compile": Shown(help="torch.compile the model and loss (the first steps are slow while it compiles; needs g++ "
                     "on the CPU, Triton on a GPU)"),
    "channels_last": Shown(help="channels-last (NHWC) weights and images: faster convolutions on recent GPUs with "
                           "bf16/fp16"),
    "seed": Shown(help="seed for the split, initialisation, data order and augmentation"),
    "deterministic": Shown(help="deterministic algorithms (slower)"),
    "progress": Shown(help="show a progress bar on a terminal"),
}


@flat_settings
@dataclass(frozen=True)
class TrainClassifierConfig:
    """``classify train`` settings; the engine's are in ``engine`` and also read and set flat
    (``config.lr``, ``TrainClassifierConfig(..., epochs=3)``)."""
    data: str | None = field(default=None, metadata={"help": "ImageFolder: one sub-folder of images per class (required)"})
    model: str | None = field(default=None, metadata={"help": "registered classifier model, see `classify models` (required)"})
    out: str | None = field(default=None, metadata={"help": "run folder for model.json, weights, checkpoints and metrics (required)"})
    head: str = field(default="linear", metadata={"help": "registered classifier head put on the model's features"})
    val_data: str | None = field(default=None, metadata={"help": "validation ImageFolder (default: a seeded split of --data)"})
    val_fraction: float = field(default=0.1, metadata={"help": "share of each class held out for validation when there is no --val-data (0: none)"})
    pretrained: str | None = field(default=None, metadata={"help": "start from pretrained backbone weights: imagenet (mobilenet_v2), or a torchvision weights file (alexnet, vgg11, vgg16); fine-tunes unless --freeze"})
    freeze: bool = field(default=False, metadata={"help": "keep the pretrained features fixed and train a new head on cached features"})
    finetune: bool = field(default=False, metadata={"help": "train all layers, the pretrained backbone at --backbone-lr-scale times the LR"})
    backbone_lr_scale: float = field(default=0.1, metadata={"help": "--finetune: backbone learning rate as a fraction of --lr"})
    img_size: int | None = field(default=None, metadata={"help": "square input side in pixels (default: 224 with --pretrained, else the data's own size)"})
    crop_ratio: float | None = field(default=None, metadata={"help": "centre crop as a share of the resized short side (default: 0.875 with --pretrained, else 1)"})
    augment: Literal["none", "light", "flip"] = field(default="light", metadata={"help": "per-image augmentation: none, light (shift, scale, rotate, brightness), flip (light + mirror); --freeze caches features of unaugmented images"})
    hidden_sizes: tuple[int, ...] = field(default=(256, 128), metadata={"help": "hidden layer sizes of models that have them (mlp)"})
    activation: Activation = field(default="relu", metadata={"help": "activation of models and heads that take one"})
    head_hidden: int = field(default=256, metadata={"help": "hidden units of heads that have them (mlp head)"})
    dropout: float = field(default=0.0, metadata={"help": "dropout before the head's last layer, and in the fully connected layers of alexnet and vgg models"})
    label_smoothing: float = field(default=0.0, metadata={"help": "cross-entropy label smoothing"})
    max_memory_mb: float = field(default=4096.0, metadata={"help": "decode the data into memory when it takes at most this many MB there; larger data is streamed from disk image by image"})
    engine: TrainConfig = nested(TrainConfig, ENGINE_SETTINGS, hidden={"keep_last": 2})

    def __post_init__(self) -> None:
        for name in ("data", "model", "out"):
            if not getattr(self, name):
                raise UserError(f"classify train needs --{name}; see `classify train --help`.")
        if self.freeze and self.finetune:
            raise UserError("--freeze and --finetune exclude each other; choose one.")
        if (self.freeze or self.finetune) and not self.pretrained:
            raise UserError("--freeze and --finetune need pretrained weights; add --pretrained imagenet.")
        if self.epochs is None or self.batch_size < 1:  # the engine allows them unset and auto; classify needs them
            raise UserError("--epochs and --batch-size must be at least 1.")
        if self.num_workers < 0:
            raise UserError(f"--num-workers must not be negative, not {self.num_workers}.")
        if self.grad_clip is not None and self.grad_clip <= 0:  # a negative --warmup: TrainConfig refuses it
            raise UserError("--grad-clip must be positive.")
        if self.img_size is not None and self.img_size < 1:
            raise UserError(f"--img-size must be positive, not {self.img_size}.")
        if self.crop_ratio is not None and not 0 < self.crop_ratio <= 1:
            raise UserError(f"--crop-ratio must be in (0, 1], not {self.crop_ratio}.")

    @property
    def transfer(self) -> str:
        if self.freeze:
            return "freeze"
        if self.finetune or self.pretrained:
            return "finetune"
        return "scratch"

    @property
    def model_options(self) -> dict:
        return {"hidden_sizes": list(self.hidden_sizes), "activation": self.activation, "dropout": self.dropout}

    @property
    def head_options(self) -> dict:
        return {"hidden": self.head_hidden, "activation": self.activation, "dropout": self.dropout}
