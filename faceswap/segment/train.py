"""`train_segmenter(config)`: pseudo-labels and occluders from faces folders, then the engine.

The segmenter folder describes itself (segmenter.json) from the first save; weights and the
preview are refreshed at every checkpoint, including the one written on Ctrl-C.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from faceswap.config import write_resolved
from faceswap.errors import UserError
from faceswap.segment import folder as files
from faceswap.segment.config import SegmentTrainConfig
from faceswap.segment.data import SegmentSamples, load_samples
from faceswap.segment.occluders import make_occluders
from faceswap.segment.task import SegmentAugment, SegmentTask

log = logging.getLogger("faceswap.segment")
PREVIEW_ROWS = 6


def train_segmenter(config: SegmentTrainConfig) -> dict[str, float]:
    """Train (or with ``config.resume`` continue) a segmenter in ``config.out_dir``; returns the final metrics."""
    from faceswap.engine import Trainer, seed_everything
    from faceswap.registry import get

    out = Path(config.out_dir)
    previous = _previous(out, config)
    seed_everything(config.seed)
    model = files.build_model(previous) if previous else get("segmenter", config.preset)(resolution=config.resolution)
    samples = load_samples(list(config.faces), min(2 * model.resolution, 256), config.max_faces, workers=2)
    if previous and not previous.template.fits(samples.template):
        raise UserError(f"The segmenter in '{out}' was trained on faces aligned as {previous.template.as_dict()}, these are "
                        f"{samples.template.as_dict()}; extract with the same settings or train a new segmenter.")
    train, held_out = _split(samples, config.val_fraction)
    occluders = _occluders(train, config)
    task = SegmentTask(model, occluders, SegmentAugment(occlusion=config.occlusion), seed=config.seed)
    config = replace(config, threads=_resolve_threads(config, task, _dataset(train)))
    out.mkdir(parents=True, exist_ok=True)
    write_resolved(config, out / "segment_config.json")
    log.info("Segmenter: %s at %d px (%.2fM parameters), %d faces + %d held out, %d occluders.", previous.preset if previous
             else config.preset, model.resolution, sum(p.numel() for p in model.parameters()) / 1e6, len(train),
             len(held_out), len(occluders))
    exporter = SegmenterExporter(out, previous.preset if previous else config.preset, samples.template, held_out)
    trainer = Trainer(task, _engine_config(config, out, len(train)), callbacks=[exporter])
    metrics = trainer.fit(_dataset(train), _dataset(held_out))
    if trainer.is_main_process:
        exporter.on_checkpoint(trainer, trainer.step, out, finished=True)
    return metrics


def _previous(out: Path, config: SegmentTrainConfig):
    has_one = (out / files.INFO_FILE).is_file()
    if not config.resume:
        if has_one or (out / files.TRAINING_DIR).exists():
            raise UserError(f"The folder '{out}' already holds a segmenter; pass --resume to continue it or choose another folder.")
        return None
    return files.read_info(out) if has_one else None


def _split(samples: SegmentSamples, fraction: float) -> tuple[SegmentSamples, SegmentSamples]:
    count = len(samples)
    held = max(2, round(count * fraction))
    held_out = sorted({int(i) for i in np.linspace(0, count - 1, held).round()})
    chosen = set(held_out)
    return samples.subset([i for i in range(count) if i not in chosen]), samples.subset(held_out)


def _occluders(samples: SegmentSamples, config: SegmentTrainConfig) -> torch.Tensor:
    crops_bgr = [crop.permute(1, 2, 0).numpy()[..., ::-1].copy() for crop in samples.crops]
    labels = [label[0].numpy() for label in samples.labels]
    return torch.from_numpy(make_occluders(crops_bgr, labels, config.occluders, samples.crops.shape[-1], config.seed))


def _dataset(samples: SegmentSamples) -> TensorDataset:
    return TensorDataset(samples.crops, samples.labels, samples.inside)


def _resolve_threads(config: SegmentTrainConfig, task, data: TensorDataset) -> int:
    """``config.threads``, or for auto (0) on the CPU the faster of half and all the cores, timed on a
    real batch (``engine.thread_count``); elsewhere 0 keeps the library default."""
    from faceswap.runtime import pick_device

    if config.threads or pick_device(config.device).type != "cpu":
        return config.threads
    from faceswap.engine.thread_count import auto_cpu_threads

    return auto_cpu_threads(task, data[:config.batch_size])


def _engine_config(config: SegmentTrainConfig, out: Path, count: int):
    """The nested engine settings with the run folder and the schedule filled in (threads are resolved before)."""
    steps = config.steps
    return replace(config.engine, out_dir=str(out / files.TRAINING_DIR), drop_last=count >= config.batch_size,
                   schedule="cosine" if steps else "constant", warmup_steps=min(100, (steps or 1000) // 10))


class SegmenterExporter:
    """Engine callback: at every checkpoint, refresh the folder's weights, segmenter.json and preview."""

    def __init__(self, out: Path, preset: str, template, held_out: SegmentSamples):
        self.out, self.preset, self.template = out, preset, template
        rows = min(PREVIEW_ROWS, len(held_out))
        self.preview = (held_out.crops[:rows], held_out.labels[:rows], held_out.inside[:rows])

    def on_checkpoint(self, trainer, step: int, path: Path, finished: bool = False) -> None:
        from faceswap.segment.preview import render_preview
        from faceswap.grid import write_image

        model = trainer.task.model
        files.save_weights(self.out, model)
        metrics = {key: round(float(value), 4) for key, value in trainer.last_metrics.items() if key.startswith("val_")}
        files.write_info(self.out, self.preset, model, self.template, step, metrics=metrics, finished=finished)
        write_image(render_preview(trainer.task, *self.preview), self.out / files.PREVIEW_FILE)

    def on_eval(self, trainer, step: int, metrics: dict[str, float]) -> None:
        if trainer.is_main_process:
            log.info("segmenter step %d validation: IoU %.3f (occluded faces %.3f)", step,
                     metrics.get("val_iou", float("nan")), metrics.get("val_occluded_iou", float("nan")))
