"""``classify.train``: fit a registered model + head on an ImageFolder with the shared engine.

From scratch or ``--finetune`` the task is the whole classifier on (augmented) images. With
``--freeze`` the pretrained backbone runs once per image (no augmentation) and the head is
trained on those cached features, so every epoch after that costs only the head. Data whose
decoded images would exceed ``--max-memory-mb`` is streamed from disk (``classify.streaming``).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classify import data as image_data
from classify.pretrained import check_pretrained, pretrained_normalisation
from classify.rundir import MODEL_JSON
from classify.settings import TrainClassifierConfig
from classify.streaming import StreamedImages, decoded_megabytes, sample_images
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
    streamed: bool = False  # the data was read from disk per image (larger than --max-memory-mb decoded)


@dataclass
class _Prepared:
    train: image_data.LoadedImages | StreamedImages
    val: image_data.LoadedImages | StreamedImages | None
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
    count = len(folder.paths) + (len(val_folder.paths) if val_folder is not None else 0)
    if decoded_megabytes(count, img_size, channels) > config.max_memory_mb:
        return _prepare_streamed(config, folder, val_folder, img_size, channels, crop_ratio)
    loaded = image_data.load(folder, img_size, channels, crop_ratio)
    skipped = list(loaded.skipped)
    if val_folder is not None:
        val = image_data.load(val_folder, img_size, channels, crop_ratio, require_every_class=False)
        skipped += val.skipped
        return _Prepared(loaded, val, img_size, channels, crop_ratio, skipped)
    train_indices, val_indices = image_data.split(loaded.labels, config.val_fraction, config.seed)
    val = loaded.subset(val_indices) if len(val_indices) else None
    return _Prepared(loaded.subset(train_indices), val, img_size, channels, crop_ratio, skipped)


def _prepare_streamed(config: TrainClassifierConfig, folder: image_data.ImageFolder,
                      val_folder: image_data.ImageFolder | None, img_size: int, channels: int, crop_ratio: float) -> _Prepared:
    """Paths and labels only: every image is decoded when training reads it."""
    shape = (img_size, channels, crop_ratio)
    streamed = StreamedImages(folder.classes, folder.paths, folder.labels, *shape)
    if val_folder is not None:
        val = StreamedImages(val_folder.classes, val_folder.paths, val_folder.labels, *shape)
        return _Prepared(streamed, val, img_size, channels, crop_ratio, [])
    train_indices, val_indices = image_data.split(folder.labels, config.val_fraction, config.seed)
    val = streamed.subset(val_indices) if len(val_indices) else None
    return _Prepared(streamed.subset(train_indices), val, img_size, channels, crop_ratio, [])


def _check_run_folder(config: TrainClassifierConfig) -> None:
    out = Path(config.out)
    if config.resume:
        if not (out / "checkpoints").is_dir():
            raise UserError(f"Nothing to resume in '{out}' (no checkpoints); drop --resume to start a new run there.")
    elif (out / MODEL_JSON).exists() or (out / "checkpoints").exists():
        raise UserError(f"'{out}' already holds a run; pass --resume to continue it or choose another --out.")


def _normalisation(config: TrainClassifierConfig, factory: Any, train_images: np.ndarray) -> tuple[tuple, tuple]:
    if config.pretrained:
        stats = pretrained_normalisation(factory, config.pretrained)
        if stats:
            return tuple(stats["mean"]), tuple(stats["std"])
    sample = train_images[np.linspace(0, len(train_images) - 1, min(len(train_images), 2000)).astype(int)]
    return image_data.channel_stats(sample)


def train(config: TrainClassifierConfig) -> TrainResult:
    """Train, then write the run folder (model.json, model.safetensors, train_config.json)."""
    _check_run_folder(config)
    folders = _scan(config)  # bad data is reported before torch and the plugins load
    from faceswap import registry

    factory = registry.get("classifier_model", config.model)
    registry.get("classifier_head", config.head)
    if config.pretrained:
        check_pretrained(config.model, factory, config.pretrained)
    prepared = _prepare_data(config, *folders, getattr(factory, "min_img_size", 1))
    if prepared.skipped:
        listed = "; ".join(f"{path} ({reason})" for path, reason in prepared.skipped[:10])
        more = f" and {len(prepared.skipped) - 10} more" if len(prepared.skipped) > 10 else ""
        print(f"skipped {len(prepared.skipped)} unreadable image(s): {listed}{more}", file=sys.stderr)
    from classify.fitting import fit

    train = prepared.train
    sample = sample_images(train) if isinstance(train, StreamedImages) else train.images_NHWC_uint8
    return fit(config, factory, prepared, _normalisation(config, factory, sample))
