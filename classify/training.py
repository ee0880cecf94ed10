"""``classify.train``: fit a registered model + head on an ImageFolder with the shared engine.

From scratch or ``--finetune`` the task is the whole classifier on (augmented) images. With
``--freeze`` the pretrained backbone runs once per image (no augmentation) and the head is
trained on those cached features, so every epoch after that costs only the head.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classify import data as image_data
from classify.rundir import MODEL_JSON
from classify.settings import TrainClassifierConfig
from faceswap.errors import UserError


@dataclass
class TrainResult:
    run_dir: Path
    classes: list[str]
    metrics: dict[str, float]
    train_images: int
    val_images: int
    weights_from: str  # "best" or "latest"
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Prepared:
    train: image_data.LoadedImages
    val: image_data.LoadedImages | None
    img_size: int
    channels: int
    crop_ratio: float
    skipped: list[tuple[str, str]]


def _scan(config: TrainClassifierConfig) -> tuple[image_data.ImageFolder, image_data.ImageFolder | None]:
    folder = image_data.scan(config.data)
    val_folder = image_data.scan(config.val_data, folder.classes, "validation folder") if config.val_data else None
    return folder, val_folder


def _prepare_data(config: TrainClassifierConfig, folder: image_data.ImageFolder,
                  val_folder: image_data.ImageFolder | None, min_img_size: int) -> _Prepared:
    channels = 3 if config.pretrained or image_data.is_colour(folder) else 1
    img_size = config.img_size or (224 if config.pretrained else max(image_data.native_size(folder), min_img_size))
    crop_ratio = config.crop_ratio or (0.875 if config.pretrained else 1.0)
    loaded = image_data.load(folder, img_size, channels, crop_ratio)
    skipped = list(loaded.skipped)
    if val_folder is not None:
        val = image_data.load(val_folder, img_size, channels, crop_ratio, require_every_class=False)
        skipped += val.skipped
        return _Prepared(loaded, val, img_size, channels, crop_ratio, skipped)
    train_indices, val_indices = image_data.split(loaded.labels, config.val_fraction, config.seed)
    val = loaded.subset(val_indices) if len(val_indices) else None
    return _Prepared(loaded.subset(train_indices), val, img_size, channels, crop_ratio, skipped)


def _check_run_folder(config: TrainClassifierConfig) -> None:
    out = Path(config.out)
    if config.resume:
        if not (out / "checkpoints").is_dir():
            raise UserError(f"Nothing to resume in '{out}' (no checkpoints); drop --resume to start a new run there.")
    elif (out / MODEL_JSON).exists() or (out / "checkpoints").exists():
        raise UserError(f"'{out}' already holds a run; pass --resume to continue it or choose another --out.")


def _normalisation(config: TrainClassifierConfig, factory: Any, train_images: np.ndarray) -> tuple[tuple, tuple]:
    if config.pretrained:
        stats = getattr(factory, "pretrained_normalisation", {}).get(config.pretrained)
        if stats:
            return tuple(stats["mean"]), tuple(stats["std"])
    sample = train_images[np.linspace(0, len(train_images) - 1, min(len(train_images), 2000)).astype(int)]
    return image_data.channel_stats(sample)


def _check_pretrained(config: TrainClassifierConfig, factory: Any) -> None:
    available = tuple(getattr(factory, "pretrained_weights", ()))
    if config.pretrained and config.pretrained not in available:
        offer = f"it offers {', '.join(available)}" if available else "it has no pretrained weights (mobilenet_v2 has imagenet)"
        raise UserError(f"Model '{config.model}' has no pretrained weights '{config.pretrained}'; {offer}.")


def train(config: TrainClassifierConfig) -> TrainResult:
    """Train, then write the run folder (model.json, model.safetensors, train_config.json)."""
    _check_run_folder(config)
    folders = _scan(config)  # bad data is reported before torch and the plugins load
    from faceswap import registry

    factory = registry.get("classifier_model", config.model)
    registry.get("classifier_head", config.head)
    _check_pretrained(config, factory)
    prepared = _prepare_data(config, *folders, getattr(factory, "min_img_size", 1))
    if prepared.skipped:
        listed = "; ".join(f"{path} ({reason})" for path, reason in prepared.skipped[:10])
        more = f" and {len(prepared.skipped) - 10} more" if len(prepared.skipped) > 10 else ""
        print(f"skipped {len(prepared.skipped)} unreadable image(s): {listed}{more}", file=sys.stderr)
    from classify.fitting import fit

    return fit(config, factory, prepared, _normalisation(config, factory, prepared.train.images_NHWC_uint8))
