"""The torch side of ``classify.train``: build the classifier, run the engine, save the run."""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import TensorDataset

from classify.data import LoadedImages
from classify.network import Classifier, ModelSpec, accepted_options, build_classifier
from classify.progress import EpochReport
from classify.rundir import TRAIN_CONFIG_FILE, save_run
from classify.samples import ImageFileSamples, ImageSamples, build_augmentation, to_tensor_NCHW
from classify.settings import TrainClassifierConfig
from classify.streaming import StreamedImages
from classify.task import ClassificationTask
from faceswap import registry
from faceswap.config import write_resolved
from faceswap.runtime import pick_device, set_threads


def _spec(config: TrainClassifierConfig, factory: Any, prepared, normalisation) -> ModelSpec:
    head_factory = registry.get("classifier_head", config.head)
    mean, std = normalisation
    return ModelSpec(
        model=config.model, head=config.head, classes=tuple(prepared.train.classes), img_size=prepared.img_size,
        channels=prepared.channels, mean=mean, std=std, crop_ratio=prepared.crop_ratio,
        model_options=accepted_options(factory, config.model_options),
        head_options=accepted_options(head_factory, config.head_options),
        pretrained=config.pretrained, transfer=config.transfer,
    )


def _decoded_batches(images: LoadedImages | StreamedImages, batch_size: int):
    for start in range(0, len(images), batch_size):
        stop = min(start + batch_size, len(images))
        if isinstance(images, StreamedImages):
            yield np.stack([images.read(i) for i in range(start, stop)])
        else:
            yield images.images_NHWC_uint8[start:stop]


@torch.no_grad()
def backbone_features(classifier: Classifier, images: LoadedImages | StreamedImages, device: torch.device,
                      batch_size: int = 64) -> torch.Tensor:
    """Features (N, F) of the backbone in eval mode, computed once: the --freeze cache."""
    classifier.eval().to(device)
    chunks = [classifier.features(to_tensor_NCHW(batch).to(device)).float().cpu()
              for batch in _decoded_batches(images, batch_size)]
    return torch.cat(chunks)


def _image_datasets(train, val, augmentation):
    """(train, val) torch datasets: decoded arrays in memory, or files read per access when streamed."""
    if isinstance(train, StreamedImages):
        return ImageFileSamples(train, augmentation), None if val is None else ImageFileSamples(val)
    labels = torch.from_numpy(train.labels)
    train_data = (ImageSamples(train.images_NHWC_uint8, train.labels, augmentation) if augmentation is not None
                  else TensorDataset(to_tensor_NCHW(train.images_NHWC_uint8), labels))
    val_data = None if val is None else TensorDataset(to_tensor_NCHW(val.images_NHWC_uint8), torch.from_numpy(val.labels))
    return train_data, val_data


def _datasets(config: TrainClassifierConfig, classifier: Classifier, prepared, device: torch.device):
    """(task, train data, val data, param groups) for the chosen kind of training."""
    train, val = prepared.train, prepared.val
    if config.freeze:
        classifier.backbone.requires_grad_(False)
        train_data = TensorDataset(backbone_features(classifier, train, device, config.batch_size),
                                   torch.from_numpy(train.labels))
        val_data = None
        if val is not None:
            val_data = TensorDataset(backbone_features(classifier, val, device, config.batch_size),
                                     torch.from_numpy(val.labels))
        return ClassificationTask(classifier.head, config.label_smoothing), train_data, val_data, None
    train_data, val_data = _image_datasets(train, val, build_augmentation(config.augment, config.seed))
    param_groups = None
    if config.pretrained:
        param_groups = [{"params": list(classifier.backbone.parameters()), "lr_scale": config.backbone_lr_scale},
                        {"params": list(classifier.head.parameters())}]
    return ClassificationTask(classifier, config.label_smoothing), train_data, val_data, param_groups


def _save_every(config: TrainClassifierConfig, train_size: int) -> int:
    """Checkpoint about four times a run, and at most once an epoch: short epochs (cached
    features, small data) would otherwise spend more time writing files than training."""
    steps_per_epoch = math.ceil(train_size / config.batch_size)
    return max(steps_per_epoch, math.ceil(steps_per_epoch * config.epochs / 4))


def _engine_config(config: TrainClassifierConfig, has_val: bool, train_size: int):
    """The nested engine settings with the run folder, the best-checkpoint metric and the save interval filled in."""
    return replace(config.engine, out_dir=config.out, best_metric="val_accuracy" if has_val else "val_loss",
                   best_mode="max" if has_val else "min", save_every=_save_every(config, train_size))


class _ShowRun:
    """Prints the engine's one-line account of the run (device, precision, threads, batch, compile,
    channels-last) when training starts, so that a silent CPU or fp32 fallback is seen."""

    def on_train_start(self, trainer) -> None:
        from faceswap.engine.speed import describe_run

        if trainer.is_main_process:
            print(describe_run(trainer), flush=True)


def fit(config: TrainClassifierConfig, factory: Any, prepared, normalisation):
    from classify.training import TrainResult
    from faceswap.engine import Trainer
    from faceswap.engine.checkpoint import best_model_path, latest_model_path, load_model_weights

    set_threads(config.threads)
    torch.manual_seed(config.seed)  # the same initial weights for the same seed
    spec = _spec(config, factory, prepared, normalisation)
    classifier = build_classifier(spec)
    if config.pretrained:
        classifier.backbone.load_pretrained(config.pretrained)
    device = pick_device(config.device)
    task, train_data, val_data, param_groups = _datasets(config, classifier, prepared, device)
    trainer = Trainer(task, _engine_config(config, val_data is not None, len(train_data)), param_groups=param_groups,
                      callbacks=[_ShowRun(), EpochReport(config.epochs)])
    metrics = trainer.fit(train_data, val_data)
    result = TrainResult(Path(config.out), list(spec.classes), {k: float(v) for k, v in metrics.items()},
                         len(prepared.train), len(prepared.val) if prepared.val is not None else 0,
                         "best" if val_data is not None else "latest", prepared.skipped,
                         streamed=isinstance(prepared.train, StreamedImages))
    if not trainer.is_main_process:
        return result
    weights = best_model_path(config.out) if val_data is not None else latest_model_path(config.out)
    load_model_weights(trainer.task, weights)
    classifier.cpu()
    write_resolved(config, Path(config.out) / TRAIN_CONFIG_FILE)
    save_run(config.out, classifier, spec, {"metrics": result.metrics, "weights_from": result.weights_from,
                                            "train_images": result.train_images, "val_images": result.val_images,
                                            "skipped": [list(s) for s in prepared.skipped]})
    return result
