"""`train_swap(config)`: cache both people's faces, build the model, and fit it on the engine.

Faces are decoded once into MODEL_DIR/face_cache (face_cache.py; reused by later runs and
--resume) and training reads its batches from there, so memory does not grow with the face sets;
only the few held-out faces (validation, previews) are kept in memory.

The model folder describes itself (model.json) from the first moment; the weights in it, the
preview and the timelapse are refreshed at every checkpoint, including the one the engine
writes when training is interrupted with Ctrl-C.
"""
from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import torch
from torch.utils.data import TensorDataset

from faceswap.align.template import Template
from faceswap.config import write_resolved
from faceswap.errors import UserError
from faceswap.fileio import read_json
from faceswap.swap import model_dir as model_files
from faceswap.swap.config import SwapTrainConfig
from faceswap.swap.batch_size import resolve_batch_size, training_device
from faceswap.swap.balance import balanced_rows
from faceswap.swap.data import check_templates, held_out_indices, read_face_source, spread_sample
from faceswap.swap.device_faces import training_pairs
from faceswap.swap.face_cache import FaceCache, FaceReader, cache_dir, open_face_cache
from faceswap.swap.masks import apply_segmenter_to_cache, prepare_segmenter, remaining_minutes
from faceswap.swap.preview import render_preview, write_preview
from faceswap.swap.task import build_swap_task

log = logging.getLogger("faceswap.swap")
INIT_BYTES = 64 << 20  # faces per side whose mean starts each decoder: evenly spaced, at most this many bytes
CPU_SAVE_EVERY = 500  # steps between saves on the CPU when --save-every is unset
AUTO_GPU_WORKERS = 2  # DataLoader workers reading the face cache on a GPU when --num-workers is negative (auto)


def train_swap(config: SwapTrainConfig, callbacks: Iterable = ()) -> dict[str, float]:
    """Train (or with ``config.resume`` continue) a swap model in ``config.model_dir``; returns the final metrics.

    ``callbacks`` are extra engine callbacks (see faceswap.engine.Callback).
    """
    from faceswap.engine import Trainer, seed_everything
    from faceswap.registry import get

    model_dir = Path(config.model_dir)
    is_main = int(os.environ.get("RANK", "0")) == 0  # under torchrun only rank 0 checks and writes the folder
    _check_before_writing(config, model_dir)
    previous = _previous_model(model_dir, config, is_main)
    seed_everything(config.seed)  # same initial weights on every rank and every run
    if previous is None:
        model = get("swap_model", config.preset)(resolution=config.resolution, encoder_widths=config.encoder_widths,
                                                 bottleneck=config.bottleneck, decoder_widths=config.decoder_widths)
        preset = config.preset
    else:
        model, preset = model_files.build_model(previous), previous.preset
    sides, template, config = _face_caches(config, model_dir, model.resolution, previous, is_main)
    (reader_a, train_a, val_a), (reader_b, train_b, val_b) = (_split(sides[side], config, side) for side in "AB")
    log.info("Faces: A %d train + %d held out, B %d train + %d held out; model %s at %d px, %.2fM parameters.",
             len(train_a), len(val_a), len(train_b), len(val_b), preset, model.resolution,
             sum(p.numel() for p in model.parameters()) / 1e6)

    if previous is None and hasattr(model, "init_from_faces"):  # optional for third-party models
        model.init_from_faces(_init_sample(reader_a, train_a), _init_sample(reader_b, train_b))
    train_a, train_b = (balanced_rows(reader, rows, template, config.balance, config.seed, side)
                        for reader, rows, side in ((reader_a, train_a, "A"), (reader_b, train_b, "B")))
    task = build_swap_task(model, template, sides["A"].faces.shape[-1], config)
    device = training_device(config.device)
    train_data = training_pairs(config.faces_on_device, device, (sides["A"], sides["B"]), (reader_a, reader_b),
                                (train_a, train_b))
    config = replace(config, batch_size=resolve_batch_size(config, task, device, len(train_data)))
    config = replace(config, threads=_resolve_threads(config, task, device, train_data))
    if is_main:
        model_dir.mkdir(parents=True, exist_ok=True)
        if previous is None:
            model_files.write_model_json(model_dir, preset, model, template, steps=0)
        write_resolved(config, model_dir / model_files.TRAIN_CONFIG_FILE)
    preview_rows = min(config.preview_faces, len(val_a), len(val_b))
    exporter = ModelExporter(model_dir, preset, template, val_a[:preview_rows], val_b[:preview_rows], config.timelapse)
    trainer = Trainer(task, engine_config(config, model_dir, len(train_data)), callbacks=[exporter, *callbacks])
    return trainer.fit(train_data, paired(val_a, val_b))


def _check_before_writing(config: SwapTrainConfig, model_dir: Path) -> None:
    """Refuse, before anything is written, what would fail later or train the wrong thing."""
    from faceswap.runtime import pick_device

    if Path(config.faces_a).resolve() == Path(config.faces_b).resolve():
        raise UserError(f"-A and -B both name the faces folder '{config.faces_a}'; pass the faces of two different people.")
    if model_dir.exists() and not model_dir.is_dir():
        raise UserError(f"The --model-dir '{model_dir}' is a file, not a folder; choose a new or existing folder for the model.")
    pick_device(config.device)  # a missing GPU is named now, not after the face caches and model.json are written


def _previous_model(model_dir: Path, config: SwapTrainConfig, is_main: bool = True):
    """The ModelInfo to continue from (resume), None for a new model; refuses to overwrite a model.

    Only saved weights make a model: a folder that an earlier run left before its first save
    (model.json, the face cache) is trained into afresh, reusing its face cache."""
    trained = model_files.holds_weights(model_dir)
    if not config.resume:
        if not is_main:
            return None  # rank 0 checks (and may already have written model.json)
        if trained:
            raise UserError(f"The folder '{model_dir}' already holds a swap model; pass --resume to continue training it "
                            "or choose another --model-dir.")
        if (model_dir / model_files.MODEL_JSON).is_file():
            log.info("'%s' holds no saved weights (an earlier run stopped before its first save); starting a new model there.",
                     model_dir)
        return None
    if not trained:
        log.info("No model in %s yet; starting a new one.", model_dir)
        return None
    info = model_files.read_info(model_dir)
    if config.preset != info.preset and config.preset != "original":
        raise UserError(f"'{model_dir}' holds a '{info.preset}' model, not '{config.preset}'; drop --preset when resuming.")
    _check_same_sides(model_dir, config)
    return info


def _check_same_sides(model_dir: Path, config: SwapTrainConfig) -> None:
    """Refuse a resume with -A and -B swapped: each decoder would start learning the other person's face."""
    settings_path = model_dir / model_files.TRAIN_CONFIG_FILE
    if not settings_path.is_file():
        return
    before = read_json(settings_path, "training settings")
    if not before.get("faces_a") or not before.get("faces_b"):
        return
    folder = {side: Path(value).resolve() for side, value in (("A", before["faces_a"]), ("B", before["faces_b"]))}
    if Path(config.faces_a).resolve() == folder["B"] and Path(config.faces_b).resolve() == folder["A"]:
        raise UserError(f"The model in '{model_dir}' was trained with -A '{before['faces_a']}' -B '{before['faces_b']}'; "
                        "pass them in that order to resume (these are swapped).")


def _face_caches(config: SwapTrainConfig, model_dir: Path, resolution: int, previous, is_main: bool):
    """({"A": FaceCache, "B": FaceCache} with the training masks in them, the template, the config with
    the time the segmenter took off --minutes). Faces folders are checked before anything is written."""
    sources = {side: read_face_source(folder, config.min_faces, f"faces folder of {side}")
               for side, folder in (("A", config.faces_a), ("B", config.faces_b))}
    template = sources["A"].template
    check_templates(template, sources["B"].template)
    if previous is not None and not previous.template.fits(template):
        raise UserError(f"The model in '{model_dir}' was trained on faces aligned as {previous.template.as_dict()}, "
                        f"these are {template.as_dict()}; extract with the model's settings or train a new model.")
    # Kept at twice the model size (at most the crop size) so that augmentation resamples from detail.
    stored_size = min(template.size, 2 * resolution)
    sides = {side: open_face_cache(source, cache_dir(model_dir), side.lower(), stored_size,
                                   extract_masks=config.segmenter == "none") for side, source in sources.items()}
    segmenter, spent = prepare_segmenter(config, model_dir, is_main)
    if segmenter is not None:
        sides = {side: apply_segmenter_to_cache(segmenter, cache, config.device) for side, cache in sides.items()}
        log.info("Training masks: the segmenter's in %s.", segmenter)
    return sides, template, remaining_minutes(config, spent)


def _split(cache: FaceCache, config: SwapTrainConfig, side: str) -> tuple[FaceReader, list[int], torch.Tensor]:
    """(a reader of the cache, the rows it trains on, the held-out faces read into memory: they are few).

    A side too small to spare the held-out faces (fewer than 4: at least 2 are held out) trains on
    all of them and validates on them too: whoever lowered --min-faces that far asked to train on
    these few faces, and training on none of them, or refusing, would not be what they asked for."""
    train, held_out = held_out_indices(cache.count, config.val_fraction, config.max_val_faces)
    if len(train) < len(held_out):
        log.warning("The faces of %s are too few (%d) to hold some out: all of them train, and validation and previews "
                    "show training faces (extract more for held-out figures).", side, cache.count)
        train = held_out = list(range(cache.count))
    reader = FaceReader(cache)
    return reader, train, torch.from_numpy(reader.read(held_out))


def paired(faces_a: torch.Tensor, faces_b: torch.Tensor) -> TensorDataset:
    """Pairs (A face, B face) of faces in memory (the held-out ones); the shorter side repeats so that
    an epoch covers the longer one. Training pairs come from the face cache (CachedPairs), alike.

    A TensorDataset, so the engine gathers whole batches at once rather than item by item.
    """
    length = max(len(faces_a), len(faces_b))
    index = torch.arange(length)
    return TensorDataset(faces_a[index % len(faces_a)], faces_b[index % len(faces_b)])


def engine_config(config: SwapTrainConfig, model_dir: Path, pairs: int):
    """The nested engine settings with swap's auto values resolved and the run folder filled in."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    return replace(config.engine, out_dir=str(model_dir / model_files.TRAINING_DIR), num_workers=_num_workers(config),
                   drop_last=pairs >= config.batch_size * world_size, threads=_threads(config, world_size),
                   save_every=_save_every(config))


def _save_every(config: SwapTrainConfig) -> int | None:
    """Unset: every CPU_SAVE_EVERY steps on the CPU; on a GPU, whose steps are many and short, by --save-minutes alone."""
    if config.save_every is not None:
        return config.save_every
    return CPU_SAVE_EVERY if training_device(config.device).type == "cpu" else None


def _resolve_threads(config: SwapTrainConfig, task, device: torch.device, train_data) -> int:
    """``config.threads``, or for auto (0) on the CPU the faster of half and all the cores, timed on a
    real batch (``engine.thread_count``); elsewhere 0 keeps the library default."""
    if config.threads or device.type != "cpu":
        return config.threads
    from faceswap.engine.thread_count import auto_cpu_threads

    batch = train_data.read_batch(range(min(config.batch_size, len(train_data))))
    return auto_cpu_threads(task, batch, int(os.environ.get("WORLD_SIZE", "1")))


def _threads(config: SwapTrainConfig, world_size: int) -> int:
    """Threads still 0 (auto) when nothing timed them (under torchrun, or a benchmark's config): on the
    CPU half the logical cores per process, since a thread team that waits for a core another
    process holds makes every step pay for it (16x slower seen on a busy 2-core machine); on a
    GPU the library default is kept.
    """
    from faceswap.runtime import pick_device

    if config.threads or pick_device(config.device).type != "cpu":
        return config.threads
    return max(1, (os.cpu_count() or 2) // (2 * world_size))


def _init_sample(reader: FaceReader, rows: list[int]) -> torch.Tensor:
    """(K, 4, S, S) uint8 RGB + mask: evenly spaced training faces (all of a small set) for init_from_faces."""
    return torch.from_numpy(reader.read(spread_sample(rows, INIT_BYTES // reader.cache.face_bytes)))[:, :4]


def _num_workers(config: SwapTrainConfig) -> int:
    """A negative --num-workers means auto: none on the CPU, 2 on a GPU.

    Reading a batch from the face cache takes about a millisecond on the CPU (some 10,000 faces/s
    at 256 px), a CPU training step a hundred or more, and a worker process takes a core the step
    wants (measured in scripts/bench_data.py). A GPU step can be shorter than reading and pinning
    a large batch, so there two workers read ahead.
    """
    from faceswap.runtime import pick_device

    if config.num_workers >= 0:
        return config.num_workers
    return 0 if pick_device(config.device).type == "cpu" else AUTO_GPU_WORKERS


class ModelExporter:
    """Engine callback: at every checkpoint, refresh the model folder's weights, model.json and preview."""

    def __init__(self, model_dir: Path, preset: str, template: Template, preview_a: torch.Tensor,
                 preview_b: torch.Tensor, timelapse: str | None):
        self.model_dir, self.preset, self.template = model_dir, preset, template
        self.preview_a, self.preview_b, self.timelapse = preview_a, preview_b, timelapse

    def on_checkpoint(self, trainer, step: int, path: Path) -> None:
        from faceswap.engine.checkpoint import MODEL_FILE

        model = trainer.task.model
        if trainer.ema is None:
            model_files.export_weights(self.model_dir, trainer.task, path / MODEL_FILE)
            self._write_description_and_preview(model, step)
            return
        with trainer.ema.applied():  # convert and the preview get the averaged weights; the checkpoint keeps the trained ones
            model_files.save_weights(self.model_dir, model)
            self._write_description_and_preview(model, step)

    def _write_description_and_preview(self, model, step: int) -> None:
        model_files.write_model_json(self.model_dir, self.preset, model, self.template, steps=step)
        image = render_preview(model, self.preview_a, self.preview_b)
        write_preview(image, self.model_dir / model_files.PREVIEW_FILE, self.timelapse, step)

    def on_eval(self, trainer, step: int, metrics: dict[str, float]) -> None:
        if trainer.is_main_process:
            log.info("step %d validation: A->A SSIM %.3f L1 %.4f | B->B SSIM %.3f L1 %.4f | %.1f examples/s", step,
                     metrics.get("val_ssim_a", float("nan")), metrics.get("val_l1_a", float("nan")),
                     metrics.get("val_ssim_b", float("nan")), metrics.get("val_l1_b", float("nan")),
                     trainer.last_metrics.get("samples_per_s", float("nan")))
