"""One line per epoch on stdout: train loss, val loss, val accuracy and seconds (Keras/fastai style).

The engine's bar shows progress inside an epoch on a terminal; this callback says how each
epoch ended. Step losses are summed on the device and read once per epoch, so it adds no
device synchronisation per step.
"""
from __future__ import annotations

import sys
import time


def _write(line: str) -> None:
    """Print above the engine's tqdm bar when one is drawn, plainly otherwise."""
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        tqdm.write(line, file=sys.stdout)
    else:
        print(line, flush=True)


def epoch_line(epoch: int, epochs: int | None, train_loss: float | None, val: dict[str, float], seconds: float) -> str:
    parts = [f"epoch {epoch}/{epochs}" if epochs else f"epoch {epoch}"]
    if train_loss is not None:
        parts.append(f"train loss {train_loss:.4f}")
    if "val_loss" in val:
        parts.append(f"val loss {val['val_loss']:.4f}")
    if "val_accuracy" in val:
        parts.append(f"val accuracy {val['val_accuracy']:.4f}")
    parts.append(f"{seconds:.1f} s")
    return "  ".join(parts)


class EpochReport:
    """Engine callback: prints ``epoch_line`` after each epoch (after its validation, if any)."""

    def __init__(self, epochs: int | None, write=_write):
        self.epochs, self.write = epochs, write
        self.lines: list[str] = []

    def on_train_start(self, trainer) -> None:
        self._reset(trainer.epoch)

    def _reset(self, epoch: int) -> None:
        self.epoch, self.loss_sum, self.steps, self.started = epoch, None, 0, time.monotonic()

    def on_step_end(self, trainer, step: int, metrics: dict) -> None:
        if trainer.epoch != self.epoch:  # no validation: the previous epoch ended at the last step
            self._emit(trainer, {}, self.epoch + 1)
            self._reset(trainer.epoch)
        loss = metrics["loss"].detach().float()
        self.loss_sum = loss if self.loss_sum is None else self.loss_sum + loss
        self.steps += 1

    def on_eval(self, trainer, step: int, metrics: dict[str, float]) -> None:
        self._emit(trainer, metrics, trainer.epoch if trainer.batch_in_epoch == 0 else trainer.epoch + 1)
        self._reset(trainer.epoch)

    def on_train_end(self, trainer, metrics: dict[str, float]) -> None:
        if self.steps:  # the last epoch of a run without validation
            self._emit(trainer, {}, trainer.epoch if trainer.batch_in_epoch == 0 else trainer.epoch + 1)

    def _emit(self, trainer, val: dict[str, float], epoch: int) -> None:
        if not trainer.is_main_process or (not self.steps and not val):
            return
        train_loss = float(self.loss_sum) / self.steps if self.steps else None
        line = epoch_line(epoch, self.epochs, train_loss, val, time.monotonic() - self.started)
        self.lines.append(line)
        self.write(line)
        self.steps = 0
