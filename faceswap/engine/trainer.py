"""The training loop: fits any task (an nn.Module whose forward(batch) returns a dict with a
scalar "loss" and other scalar metrics) on any data.

One optimiser step = ``grad_accum`` batches. Order inside a step: forward/backward, NaN/Inf
check, optimiser step, log, evaluate (when due), checkpoint (when due). A checkpoint stores the
position in the epoch, so a resumed run sees exactly the batches the killed one had not.

A step never waits for the device: the NaN/Inf check is a device flag that a fused optimiser
obeys (a bad step changes nothing), and the step's metrics stay on the device. Once per log
interval (and before an evaluation, a checkpoint or a stop) the steps since the last read are
read with one sync; only then does the NaN guard hear of bad steps (it lowers the LR, counts,
restores), the metrics window fill and, under DDP, rank 0's clock decide a --max-minutes stop.
"""
from __future__ import annotations

import contextlib
import logging
import math
import time
from pathlib import Path
from typing import Any, Iterable

import torch
from torch import nn

from faceswap.config import write_resolved
from faceswap.engine import checkpoint as ckpt
from faceswap.engine.callbacks import Callback, CallbackList
from faceswap.engine.config import TrainConfig
from faceswap.engine.data import EpochLoader, batch_size_of, held_on_device, move_to_device
from faceswap.engine.distributed import (all_reduce_sum, barrier, destroy_process_group, device_for_rank,
                                         dist_info_from_env, gather_objects, init_process_group, rank0_decides, wrap)
from faceswap.engine.ema import WeightAverage
from faceswap.engine.guard import NonFiniteGuard
from faceswap.engine.logs import MetricsCSV, ProgressBar, TensorBoardLog
from faceswap.engine.metrics import MetricWindow, PendingSteps, scalar_metrics, stack_scalars
from faceswap.engine.optim import LRSchedule, build_optimizer, is_fused
from faceswap.engine.speed import compile_task, describe_run, to_channels_last
from faceswap.engine.precision import resolve_precision
from faceswap.engine.seeding import rng_state, seed_everything, set_deterministic, set_rng_state
from faceswap.errors import UserError
from faceswap.runtime import pick_device, set_threads

log = logging.getLogger("faceswap.engine")


class Trainer:
    """``Trainer(task, config, callbacks=(), param_groups=None).fit(train_data, val_data=None)``.

    Public attributes: ``task`` (the unwrapped module), ``model`` (the DDP wrapper under torchrun,
    else ``task``), ``device``, ``step``, ``epoch``, ``rank``, ``world_size``, ``is_main_process``,
    ``optimizer``, ``schedule``, ``guard``, ``best_value``, ``last_metrics``, ``out_dir``, ``lr``, ``ema`` (the
    weight average when ``config.ema`` is set, else None).
    Under torchrun the process group that the Trainer starts is closed at the end of ``fit``, so a
    Trainer fits once there.
    """

    def __init__(self, task: nn.Module, config: TrainConfig, callbacks: Iterable[Callback] = (),
                 param_groups: list[dict[str, Any]] | None = None):
        self.config = config
        self.dist = dist_info_from_env()
        set_threads(config.threads)
        set_deterministic(config.deterministic)
        seed_everything(config.seed + self.dist.rank)
        self.device = device_for_rank(pick_device(config.device), self.dist)
        self._owns_process_group = init_process_group(self.dist, self.device)
        self.is_main_process = self.dist.is_main
        self.rank, self.world_size = self.dist.rank, self.dist.world_size
        self.precision = resolve_precision(config.precision, self.device)
        self.task = task.to(self.device)
        if config.channels_last:
            self.task.to(memory_format=torch.channels_last)
        self.optimizer = build_optimizer(self.task, config, param_groups)
        if config.compile:
            compile_task(self.task, self.device)
        self.model = wrap(self.task, self.dist, self.device, config.find_unused_parameters)
        self.ema = WeightAverage(self.task, config.ema) if config.ema else None
        self.scaler = self.precision.make_scaler()
        self.guard = NonFiniteGuard(config.nan_max_bad_steps, config.nan_lr_factor, config.snapshot_every)
        self.callbacks = CallbackList(callbacks)
        self.out_dir = Path(config.out_dir)
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0  # batches of the current epoch used by completed steps
        self.best_value: float | None = None
        self.last_metrics: dict[str, float] = {}
        self.window = MetricWindow()
        self.pending = PendingSteps()
        self.schedule: LRSchedule | None = None
        self._elapsed_before = 0.0  # training seconds of earlier (resumed) sessions
        self._last_eval_step = self._last_save_step = -1
        self._best_step = -1  # the step whose weights checkpoints/best holds, written in this session

    # ----------------------------------------------------------------------------- fit
    def fit(self, train_data: Any, val_data: Any = None) -> dict[str, float]:
        """Train until epochs, max_steps or max_minutes; returns the final metrics."""
        config = self.config
        train = self._loader(train_data, config.shuffle, config.drop_last, persistent=not config.deterministic)
        val = None if val_data is None else self._loader(val_data, False, False, persistent=False)
        self.steps_per_epoch = _steps_per_epoch(train, config.grad_accum)
        self.total_steps = _total_steps(config, self.steps_per_epoch)
        self.schedule = LRSchedule(self.optimizer, config, self.total_steps)
        resumed = self._start_run()
        self.guard.take_snapshot(self.task, self.optimizer, self.step)
        self._csv = MetricsCSV(self.out_dir / "metrics.csv", self.step if resumed else None) if self.is_main_process else None
        self._tensorboard = TensorBoardLog(self.out_dir / "tensorboard", config.tensorboard and self.is_main_process)
        self._bar = ProgressBar(config.progress and self.is_main_process, self.total_steps, self.step)
        self._session_start = self._last_save_time = time.monotonic()
        if self.is_main_process:
            log.info(describe_run(self))
        self.callbacks.on_train_start(self)
        try:
            self._train_loop(train, val)
            self._finish(val)
        except KeyboardInterrupt:
            log.warning("Interrupted at step %d; saving a checkpoint before stopping.", self.step)
            self._read_pending()
            if self.is_main_process:
                self._write_checkpoint([rng_state()])
            raise
        finally:
            self._bar.close()
            self._tensorboard.close()
        self.callbacks.on_train_end(self, self.last_metrics)
        if self._owns_process_group:  # under DDP a Trainer fits once
            barrier(self.dist)
            destroy_process_group()
            self._owns_process_group = False
        return dict(self.last_metrics)

    def _loader(self, data: Any, shuffle: bool, drop_last: bool, persistent: bool) -> EpochLoader:
        """Workers read ahead into pinned memory for a GPU, unless the data already lives on the
        device (``data.device``): its batches are indexed there, by the main process."""
        config = self.config
        on_device = held_on_device(data)
        workers = 0 if on_device else config.num_workers
        pin = self.device.type == "cuda" and not on_device
        return EpochLoader(data, config.batch_size, self.dist, shuffle, config.seed, drop_last, workers, pin, persistent)

    def _start_run(self) -> bool:
        """Resume from the latest checkpoint, or check that out_dir holds no other run."""
        if self.is_main_process:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            ckpt.remove_leftovers(self.out_dir)
        barrier(self.dist)
        latest = ckpt.find_latest_checkpoint(self.out_dir)
        if latest is not None and not self.config.resume:
            raise UserError(f"The folder '{self.out_dir}' already holds a training run; pass --resume to continue it "
                            "or choose another output folder.")
        if self.is_main_process:
            write_resolved(self.config, self.out_dir / "config.json")
        if latest is None:
            if self.config.resume:
                log.info("No checkpoint in %s; starting from scratch.", self.out_dir)
            return False
        self._load_checkpoint(latest)
        if self.is_main_process:
            ckpt.discard_newer(self.out_dir, self.step)
        log.info("Resumed from %s (step %d, epoch %d).", latest, self.step, self.epoch)
        return True

    def _train_loop(self, train: EpochLoader, val: EpochLoader | None) -> None:
        if self._should_stop():  # a resumed run that had already finished
            return
        while self.config.epochs is None or self.epoch < self.config.epochs:
            if self._run_epoch(train, val):
                return
            self.epoch += 1
            self.batch_in_epoch = 0
            if val is not None and self.config.eval_every is None:
                self._evaluate_and_track(val)
            if self.config.save_every is None and self.config.save_minutes is None:
                self.save_checkpoint()

    def _run_epoch(self, train: EpochLoader, val: EpochLoader | None) -> bool:
        """One (rest of an) epoch; True when a stop condition ended training inside it."""
        accum = self.config.grad_accum
        pending: list[dict[str, Any]] = []
        samples = 0
        fresh_epoch = self.batch_in_epoch == 0
        for batch, is_last in train.epoch_flagging_last(self.epoch, self.batch_in_epoch):
            fresh_epoch = False
            batch = move_to_device(batch, self.device, non_blocking=self.device.type == "cuda")
            if self.config.channels_last:
                batch = to_channels_last(batch)
            samples += batch_size_of(batch)
            # DDP averages gradients only on the last batch of an accumulation (or of the epoch)
            pending.append(self._forward_backward(batch, sync=is_last or len(pending) + 1 == accum))
            if len(pending) == accum:
                if self._after_batches(pending, samples, val):
                    return True
                pending, samples = [], 0
        if fresh_epoch:
            raise UserError("The training data gave no batches; check that the dataset is not empty and that "
                            "batch_size is not larger than it when drop_last is set.")
        if pending:  # the last, short accumulation of the epoch still makes a step
            return self._after_batches(pending, samples, val)
        return self._should_stop()

    def _after_batches(self, outputs: list[dict[str, Any]], samples: int, val: EpochLoader | None) -> bool:
        metrics = self._optimizer_step(outputs, samples)
        self.batch_in_epoch += len(outputs)
        self._bar.update(samples)
        log_due = self.step % self.config.log_every == 0
        if log_due:
            self._read_pending()
        self.callbacks.on_step_end(self, self.step, metrics)
        if log_due:
            self._log_train()
        if val is not None and self.config.eval_every and self.step % self.config.eval_every == 0:
            self._evaluate_and_track(val)
        if self._save_due(interval_end=log_due):
            self.save_checkpoint()
        return self._should_stop(interval_end=log_due)

    def _save_due(self, interval_end: bool) -> bool:
        """Every save_every steps, and save_minutes after the last checkpoint: by this process's
        clock, or under DDP by rank 0's at the end of a log interval (all ranks save together)."""
        config = self.config
        if config.save_every and self.step % config.save_every == 0:
            return True
        if config.save_minutes is None:
            return False
        due = time.monotonic() - self._last_save_time >= config.save_minutes * 60
        if not self.dist.enabled:
            return due
        return interval_end and rank0_decides(due, self.dist, self.device)

    def _should_stop(self, interval_end: bool = True) -> bool:
        """Steps: on the host. Minutes: by this process's clock alone, or under DDP by rank 0's,
        shared at the end of a log interval (all ranks are then at the same step)."""
        config = self.config
        if config.max_steps is not None and self.step >= config.max_steps:
            return True
        if config.max_minutes is None:
            return False
        out_of_time = time.monotonic() - self._session_start >= config.max_minutes * 60
        if not self.dist.enabled:
            return out_of_time
        return interval_end and rank0_decides(out_of_time, self.dist, self.device)

    def _finish(self, val: EpochLoader | None) -> None:
        self._read_pending()
        if self.window.steps:
            self._log_train()
        if val is not None and self._last_eval_step != self.step:
            self._evaluate_and_track(val)
        if self._last_save_step != self.step:
            self.save_checkpoint()

    # ------------------------------------------------------------------------- one step
    def _forward_backward(self, batch: Any, sync: bool) -> dict[str, Any]:
        no_sync = self.model.no_sync() if (self.dist.enabled and not sync) else contextlib.nullcontext()
        with no_sync:
            with self.precision.autocast():
                outputs = self.model(batch)
            if not isinstance(outputs, dict) or not isinstance(outputs.get("loss"), torch.Tensor) \
                    or outputs["loss"].numel() != 1:
                raise TypeError("A task's forward(batch) must return a dict with a scalar tensor 'loss'.")
            loss = outputs["loss"].float() / self.config.grad_accum
            (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
        # keep the scalars only: other outputs (images for previews...) are freed now
        return {key: value.detach() if isinstance(value, torch.Tensor) else value for key, value in outputs.items()
                if not isinstance(value, torch.Tensor) or value.numel() == 1}

    def _optimizer_step(self, outputs: list[dict[str, Any]], samples: int) -> dict[str, Any]:
        """The step's metrics: the task's scalars and grad_norm as 0-dim device tensors (read
        them in a callback only when needed: each read waits for the device), lr a float."""
        lr = self.schedule.apply(self.step)
        keys, values, numbers = stack_scalars(outputs)
        loss = values[keys.index("loss")]
        if self.scaler is not None:
            self.scaler.unscale_(self.optimizer)
        grad_norm = self._grad_norm().detach().float().reshape(()).to(loss.device)
        checks = torch.stack([torch.isfinite(loss), torch.isfinite(grad_norm)]).float()
        if self.dist.enabled:  # every rank must take the same decision
            checks = all_reduce_sum(checks, self.dist) / self.world_size
        # Under fp16 an overflowing gradient is the scaler's business: it skips the step and rescales.
        good = checks[0] == 1.0 if self.scaler is not None else (checks == 1.0).all()
        self._step_unless_bad(good)
        self.optimizer.zero_grad(set_to_none=True)
        if self.ema is not None:
            self.ema.update()
        self.step += 1
        self.pending.add(self.step, good, grad_norm, keys, values, numbers, lr, samples)
        metrics: dict[str, Any] = dict(zip(keys, values.unbind())) if keys else {}
        metrics.update(numbers, lr=lr, grad_norm=grad_norm)
        return metrics

    def _step_unless_bad(self, good: torch.Tensor) -> None:
        """The optimiser step, skipped when ``good`` is false - on the device where it can be."""
        if self.scaler is not None:  # fused: the scaler skips on the device; else it syncs itself
            self.scaler.step(self.optimizer)
            self.scaler.update()
        elif is_fused(self.optimizer):
            self.optimizer.found_inf = (~good).float()
            self.optimizer.step()
        elif bool(good):  # an optimiser without a fused kernel here: this reads the flag each step
            self.optimizer.step()

    def _read_pending(self) -> None:
        """Read the steps since the last read (one device sync) and tell the guard and the window."""
        steps = self.pending.read()
        any_bad = False
        for step, good, metrics, samples in steps:
            self._bar.show_loss(metrics.get("loss", float("nan")))
            if good:
                self.guard.good_step()
                self.window.add(metrics, samples)
            else:
                any_bad = True
                self.guard.bad_step(self.task, self.optimizer, self.schedule, step)
        if steps and not any_bad:
            self.guard.snapshot_if_due(self.task, self.optimizer, self.step)

    def _grad_norm(self) -> torch.Tensor:
        params = [p for group in self.optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not params:
            return torch.zeros((), device=self.device)
        if self.config.grad_clip:
            return torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip, foreach=True)
        norms = torch._foreach_norm([p.grad for p in params])
        return torch.linalg.vector_norm(torch.stack([n.to(self.device) for n in norms]))

    # ---------------------------------------------------------------------- evaluation
    @torch.no_grad()
    def evaluate(self, val_data: Any) -> dict[str, float]:
        """Batch-size-weighted means of the task's scalar outputs over ``val_data``, prefixed "val_"."""
        loader = val_data if isinstance(val_data, EpochLoader) else EpochLoader(
            val_data, self.config.batch_size, self.dist, False, self.config.seed, False, self.config.num_workers,
            self.device.type == "cuda", persistent=False)
        was_training = self.task.training
        self.task.eval()
        sums: dict[str, float] = {}
        count = 0
        try:
            for batch in loader.epoch(0):
                batch = move_to_device(batch, self.device)
                with self.precision.autocast():
                    outputs = self.task(batch)
                size = batch_size_of(batch) or 1
                count += size
                for key, value in scalar_metrics([outputs]).items():
                    sums[key] = sums.get(key, 0.0) + value * size
        finally:
            self.task.train(was_training)
        keys = sorted(sums)
        totals = torch.tensor([float(count)] + [sums[k] for k in keys], dtype=torch.float64)
        if self.dist.enabled:
            totals = all_reduce_sum(totals.to(self.device), self.dist).cpu()
        total_count = max(totals[0].item(), 1.0)
        return {f"val_{key}": totals[i + 1].item() / total_count for i, key in enumerate(keys)}

    def _evaluate_and_track(self, val: EpochLoader) -> None:
        metrics = self.evaluate(val)
        self._last_eval_step = self.step
        self.last_metrics.update(metrics)
        self._write_row(metrics)
        self.callbacks.on_eval(self, self.step, metrics)
        value = metrics.get(self.config.best_metric)
        if value is None or not math.isfinite(value):
            return
        better = self.best_value is None or (value < self.best_value if self.config.best_mode == "min" else value > self.best_value)
        if better:
            self.best_value = value
            if self.is_main_process:
                ckpt.save_best(self.out_dir, self.task, self._state_json())
            self._best_step = self.step  # a checkpoint of this step links these weights instead of writing them again

    # --------------------------------------------------------------------------- logging
    def _log_train(self) -> None:
        metrics = self.window.averages()
        self.window = MetricWindow()
        metrics["skipped_steps"] = self.guard.skipped_steps
        self.last_metrics.update(metrics)
        self._write_row(metrics)

    def _write_row(self, metrics: dict[str, float]) -> None:
        if not self.is_main_process:
            return
        row = {"step": self.step, "epoch": self.epoch, "time_s": round(self.elapsed_seconds, 3), **metrics}
        self._csv.write(row)
        self._tensorboard.write(self.step, metrics)
        log.info("step %d %s", self.step, " ".join(f"{k}={v:.4g}" for k, v in metrics.items()))

    @property
    def elapsed_seconds(self) -> float:
        return self._elapsed_before + time.monotonic() - getattr(self, "_session_start", time.monotonic())

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"] / self.optimizer.param_groups[0].get("lr_scale", 1.0)

    # ------------------------------------------------------------------------ checkpoints
    def save_checkpoint(self) -> Path | None:
        """Write a checkpoint of the current step (rank 0 writes; every rank must call it)."""
        self._read_pending()
        rng_states = gather_objects(rng_state(), self.dist)
        path = self._write_checkpoint(rng_states) if self.is_main_process else None
        self._last_save_step = self.step
        self._last_save_time = time.monotonic()
        barrier(self.dist)
        return path

    def _write_checkpoint(self, rng_states: list[dict[str, Any]]) -> Path:
        trainer_state = {
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "guard": self.guard.state_dict(),
            "rng": rng_states,
        }
        if self.ema is not None:
            trainer_state["ema"] = self.ema.state_dict()
        path = ckpt.save_checkpoint(self.out_dir, self.step, self.task, self._state_json(), trainer_state,
                                    self.config.keep_last,
                                    same_weights=ckpt.best_weights_path(self.out_dir) if self._best_step == self.step else None)
        self.callbacks.on_checkpoint(self, self.step, path)
        return path

    def _state_json(self) -> dict[str, Any]:
        from faceswap.config import to_dict

        return {"step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
                "elapsed_s": self.elapsed_seconds, "best_value": self.best_value,
                "best_metric": self.config.best_metric, "metrics": self.last_metrics,
                "window": self.window.state_dict(), "world_size": self.world_size,
                "config": to_dict(self.config)}

    def _load_checkpoint(self, folder: Path) -> None:
        state, trainer_state = ckpt.read_checkpoint(folder)
        ckpt.load_model_weights(self.task, folder / ckpt.MODEL_FILE)
        self.optimizer.load_state_dict(trainer_state["optimizer"])
        self.schedule.load_state_dict(trainer_state["schedule"])
        if self.scaler is not None and trainer_state["scaler"]:
            self.scaler.load_state_dict(trainer_state["scaler"])
        self.guard.load_state_dict(trainer_state["guard"])
        if self.ema is not None:  # a run that kept no average starts one from the weights it resumes with
            self.ema = WeightAverage(self.task, self.config.ema)
            if "ema" in trainer_state:
                self.ema.load_state_dict(trainer_state["ema"])
        rng_states = trainer_state["rng"]
        set_rng_state(rng_states[self.rank] if self.rank < len(rng_states) else rng_states[0])
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.best_value = state.get("best_value")
        self.last_metrics = dict(state.get("metrics") or {})
        self.window = MetricWindow.from_state(state.get("window") or {})
        self._elapsed_before = float(state.get("elapsed_s", 0.0))
        self._last_eval_step = self._last_save_step = self.step


def _steps_per_epoch(train: EpochLoader, grad_accum: int) -> int | None:
    try:
        return math.ceil(len(train) / grad_accum)
    except TypeError:
        return None


def _total_steps(config: TrainConfig, steps_per_epoch: int | None) -> int | None:
    candidates = [config.max_steps]
    if config.epochs is not None and steps_per_epoch is not None:
        candidates.append(config.epochs * steps_per_epoch)
    known = [c for c in candidates if c is not None]
    return min(known) if known else None
