"""The torch side of ``classify.train``: build the classifier, run the engine, save the run."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import TensorDataset

from classify.network import Classifier, ModelSpec, accepted_options, build_classifier
from classify.rundir import TRAIN_CONFIG_FILE, save_run
from classify.samples import ImageSamples, build_augmentation, to_tensor_NCHW
from classify.settings import TrainClassifierConfig
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


@torch.no_grad()
def backbone_features(classifier: Classifier, images_NHWC_uint8, device: torch.device, batch_size: int = 64) -> torch.Tensor:
    """Features (N, F) of the backbone in eval mode, computed once: the --freeze cache."""
    classifier.eval().to(device)
    chunks = []
    for start in range(0, len(images_NHWC_uint8), batch_size):
        batch = to_tensor_NCHW(images_NHWC_uint8[start:start + batch_size]).to(device)
        chunks.append(classifier.features(batch).float().cpu())
    return torch.cat(chunks)


def _datasets(config: TrainClassifierConfig, classifier: Classifier, prepared, device: torch.device):
    """(task, train data, val data, param groups) for the chosen kind of training."""
    train, val = prepared.train, prepared.val
    labels = torch.from_numpy(train.labels)
    if config.freeze:
        classifier.backbone.requires_grad_(False)
        train_data = TensorDataset(backbone_features(classifier, train.images_NHWC_uint8, device, config.batch_size), labels)
        val_data = None
        if val is not None:
            val_data = TensorDataset(backbone_features(classifier, val.images_NHWC_uint8, device, config.batch_size),
                                     torch.from_numpy(val.labels))
        return ClassificationTask(classifier.head, config.label_smoothing), train_data, val_data, None
    augmentation = build_augmentation(config.augment, config.seed)
    train_data = (ImageSamples(train.images_NHWC_uint8, train.labels, augmentation) if augmentation is not None
                  else TensorDataset(to_tensor_NCHW(train.images_NHWC_uint8), labels))
    val_data = None if val is None else TensorDataset(to_tensor_NCHW(val.images_NHWC_uint8), torch.from_numpy(val.labels))
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
    from faceswap.engine import TrainConfig

    return TrainConfig(
        out_dir=config.out, epochs=config.epochs, max_minutes=config.max_minutes, batch_size=config.batch_size,
        num_workers=config.num_workers, lr=config.lr, optimizer="adamw", weight_decay=config.weight_decay,
        schedule=config.schedule, device=config.device, threads=config.threads, seed=config.seed,
        compile=config.compile, channels_last=config.channels_last,
        deterministic=config.deterministic, best_metric="val_accuracy" if has_val else "val_loss",
        best_mode="max" if has_val else "min", resume=config.resume, progress=config.progress,
        keep_last=2, save_every=_save_every(config, train_size),
    )


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
                      callbacks=[_ShowRun()])
    metrics = trainer.fit(train_data, val_data)
    result = TrainResult(Path(config.out), list(spec.classes), {k: float(v) for k, v in metrics.items()},
                         len(prepared.train), len(prepared.val) if prepared.val is not None else 0,
                         "best" if val_data is not None else "latest", prepared.skipped)
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
