"""SwapTrainConfig: every face-swap training setting with its default and help text."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from faceswap.config import Shown, flat_settings, nested
from faceswap.engine.config import TrainConfig
from faceswap.errors import UserError

# The engine settings `faceswap train` shows, under swap's names, defaults and help where they differ
# from the engine's (TrainConfig declares them once); the stage resolves the auto values (batch size
# 0, workers -1, threads 0, save_every unset) before training.
ENGINE_SETTINGS = {
    "max_steps": Shown("steps", 100_000, "stop after this many steps in all (counting earlier runs when resuming)"),
    "max_minutes": Shown("minutes", None, "stop after this many minutes of this run"),
    "batch_size": Shown(default=0, help="face pairs (one of A, one of B) per step and per process; auto (or 0): 8 on "
                        "the CPU, on a GPU the largest power of two whose training step fits in memory (found by "
                        "doubling); a resumed run keeps its batch size"),
    "lr": Shown(default=5e-4, help="learning rate"),
    "schedule": Shown(help="learning-rate schedule"),
    "warmup_steps": Shown(),
    "grad_clip": Shown(),
    "ema": Shown(help="export an exponential moving average of the weights with this decay (0.99: about the last 100 steps; "
                 "0: the last step's weights). Off by default: on the demo it made the swap more clearly B and drew her "
                 "closed eyes more often, but moved the 68-point landmarks further from hers (see the README)"),
    "precision": Shown(help="auto: bf16/fp16 on CUDA, fp32 elsewhere"),
    "device": Shown(help="auto, cpu, cuda, cuda:N or mps"),
    "threads": Shown(help="torch CPU threads (0: auto: on the CPU the faster of half and all the cores, timed on a few "
                     "real steps at the start, since more threads help only while no other work holds the cores)"),
    "compile": Shown(help="torch.compile the model and loss (the first steps are slow while it compiles; needs g++ "
                     "on the CPU, Triton on a GPU)"),
    "channels_last": Shown(help="channels-last (NHWC) weights and activations: faster convolutions on recent GPUs "
                           "with bf16/fp16"),
    "num_workers": Shown(default=-1, help="DataLoader worker processes reading faces from the face cache (-1: auto, "
                         "0 on the CPU, 2 on a GPU)"),
    "seed": Shown(help="seed for weights, data order and augmentation"),
    "deterministic": Shown(help="deterministic kernels (slower; exact resume)"),
    "resume": Shown(help="continue the training in model_dir"),
    "log_every": Shown(help="log training metrics every this many steps"),
    "eval_every": Shown(default=250, help="validate on the held-out faces every this many steps"),
    "save_every": Shown(help="save the model, a checkpoint and a preview every this many steps (default: 500 on the "
                        "CPU; on a GPU by --save-minutes alone)"),
    "save_minutes": Shown(default=10.0, help="also save when this many minutes have passed since the last save"),
    "keep_last": Shown(help="step checkpoints to keep"),
    "progress": Shown(),
}


@flat_settings
@dataclass(frozen=True)
class SwapTrainConfig:
    """Face-swap training settings; the engine's are in ``engine`` and also read and set flat
    (``config.batch_size``, ``SwapTrainConfig(..., batch_size=8)``)."""
    faces_a: str = field(default="", metadata={"help": "faces folder of person A (the output of `faceswap extract`)"})
    faces_b: str = field(default="", metadata={"help": "faces folder of person B"})
    model_dir: str = field(default="", metadata={"help": "folder for the model, its checkpoints and previews"})
    preset: str = field(default="original", metadata={"help": "swap model preset (see `faceswap models`)"})
    resolution: int = field(default=0, metadata={"help": "model input/output size in pixels (0: the preset's)"})
    encoder_widths: tuple[int, ...] = field(default=(), metadata={"help": "encoder channel widths (empty: the preset's)"})
    bottleneck: int = field(default=0, metadata={"help": "dense bottleneck size (0: the preset's)"})
    decoder_widths: tuple[int, ...] = field(default=(), metadata={"help": "decoder channel widths, one fewer than the encoder's (empty: the preset's)"})
    engine: TrainConfig = nested(TrainConfig, ENGINE_SETTINGS, hidden={"epochs": None, "optimizer": "adam"})
    faces_on_device: Literal["auto", "on", "off"] = field(default="auto", metadata={"help": "keep the training faces on "
                                 "the training device as uint8 and index batches there: auto does on a GPU when they fit in "
                                 "30%% of its free memory (else DataLoader workers read ahead into pinned memory)"})
    timelapse: str | None = field(default=None, metadata={"help": "also keep every preview in this folder, named by step"})
    preview_faces: int = field(default=4, metadata={"help": "rows of the preview grid (held-out faces per person)"})
    # Data
    min_faces: int = field(default=20, metadata={"help": "refuse a side with fewer faces than this"})
    balance: float = field(default=0.0, metadata={"help": "0..1: how far sampling evens out the faces' eye and mouth "
                           "looks (k-means clusters of those regions), so that rare ones such as closed eyes train as "
                           "often as common ones (0: every face equally often)"})
    val_fraction: float = field(default=0.1, metadata={"help": "share of each side's faces held out for validation and previews"})
    max_val_faces: int = field(default=64, metadata={"help": "at most this many held-out faces per side"})
    # Masks
    segmenter: str = field(default="train", metadata={"help": "face masks to train with and for convert: train (fit a "
                           "Tiramisu segmenter into MODEL_DIR/segmenter first; reused on --resume), none (extract's "
                           "landmark masks), or the folder of a trained segmenter to use"})
    segmenter_minutes: float | None = field(default=None, metadata={"help": "time for fitting the segmenter (default: 25%% of "
                                            "--minutes when that is set, else --segmenter-steps steps)"})
    segmenter_steps: int = field(default=3000, metadata={"help": "at most this many segmenter training steps"})
    # Loss
    ssim_weight: float = field(default=1.0, metadata={"help": "weight of (1 - SSIM) inside the face mask"})
    l1_weight: float = field(default=1.0, metadata={"help": "weight of the L1 error inside the face mask"})
    mask_weight: float = field(default=0.5, metadata={"help": "weight of the learned-mask loss"})
    # 6 and 4 (from 3 and 2) lowered the demo's 68-point error from 0.075 to 0.067 and from 0.073 to 0.069
    # (seeds 0 and 1, 1359 steps) at the same identity, detail and speed.
    eyes_weight: float = field(default=6.0, metadata={"help": "reconstruction weight around the eyes"})
    mouth_weight: float = field(default=4.0, metadata={"help": "reconstruction weight around the mouth"})
    background_weight: float = field(default=0.1, metadata={"help": "reconstruction weight outside the face mask"})
    perceptual_weight: float = field(default=1.0, metadata={"help": "weight of the perceptual loss (ImageNet MobileNetV2 "
                                     "features inside the face mask): sharper faces for ~0.65x the steps per second "
                                     "on a CPU (0: off, and the network is never loaded)"})
    adversarial_weight: float = field(default=0.0, metadata={"help": "weight of the adversarial loss (a PatchGAN "
                                      "discriminator trained alongside; sharper but noisier swaps in short runs; 0: off)"})
    # Augmentation (training input only gets the warp; everything else goes to input and target alike)
    warp: float = field(default=0.03, metadata={"help": "random-warp strength (std of the coarse grid offsets, in half-widths; 0: off)"})
    warp_grid: int = field(default=5, metadata={"help": "random-warp grid points per side (more: finer, more local distortions)"})
    rotation: float = field(default=10.0, metadata={"help": "random rotation range in degrees (+-)"})
    zoom: float = field(default=0.05, metadata={"help": "random zoom range (+- fraction)"})
    shift: float = field(default=0.05, metadata={"help": "random shift range (+- fraction of the size)"})
    flip: float = field(default=0.5, metadata={"help": "probability of a horizontal flip"})
    colour: float = field(default=0.1, metadata={"help": "colour jitter strength (brightness, contrast, saturation)"})
    blink: float = field(default=0.0, metadata={"help": "share of training faces (both people) whose eyes a warp closes, "
                         "input and target alike, so that B's decoder learns closed eyes B's footage lacks (0: off; 0.25 "
                         "closed the swap's eyes in a third of the demo's closed-eye frames, but also half-closed open "
                         "ones in 10-minute runs)"})
    augment_ramp: int = field(default=3000, metadata={"help": "steps over which rotation/zoom/shift/flip/colour grow from 0 to the ranges above (0: full from the start; the warp is always full)"})

    def __post_init__(self) -> None:
        for name in ("faces_a", "faces_b", "model_dir"):
            if not getattr(self, name):
                flag = {"faces_a": "-A FACES_A", "faces_b": "-B FACES_B", "model_dir": "-m MODEL_DIR"}[name]
                raise UserError(f"Training needs the {name.replace('_', ' ')} folder; pass {flag}.")
        if self.minutes is not None and self.minutes <= 0:
            raise UserError(f"--minutes must be positive, not {self.minutes}.")
        if self.preview_faces < 1 or self.min_faces < 2:  # batch size, save_every and the like: TrainConfig checks
            raise UserError("--preview-faces must be at least 1 and --min-faces at least 2.")
        if not 0 < self.val_fraction < 0.5:
            raise UserError(f"--val-fraction must be between 0 and 0.5, not {self.val_fraction}.")
        if self.segmenter_steps < 1 or (self.segmenter_minutes is not None and self.segmenter_minutes <= 0):
            raise UserError("--segmenter-steps must be at least 1 and --segmenter-minutes positive.")
        for name in ("flip", "blink", "balance"):
            if not 0 <= getattr(self, name) <= 1:
                raise UserError(f"--{name} must lie between 0 and 1, not {getattr(self, name)}.")
        if self.warp_grid < 2:
            raise UserError(f"--warp-grid must be at least 2, not {self.warp_grid}.")
        negative = [n for n in ("ssim_weight", "l1_weight", "mask_weight", "eyes_weight", "mouth_weight",
                                "background_weight", "perceptual_weight", "adversarial_weight", "warp", "rotation",
                                "zoom", "shift", "colour", "augment_ramp")
                    if getattr(self, n) < 0]
        if negative:
            raise UserError(f"{', '.join(negative)} must not be negative.")
