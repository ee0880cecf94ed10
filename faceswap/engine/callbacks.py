"""Callbacks: hooks into the training loop for previews, evaluation and custom logging."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    from faceswap.engine.trainer import Trainer


class Callback:
    """Override any of these; all are no-ops by default. Every process calls them (check
    ``trainer.is_main_process`` before writing files).

    ``on_step_end``'s metrics hold the task's scalars and ``grad_norm`` as 0-dim device tensors
    and ``lr`` as a float: reading a tensor (``float(v)``) waits for the device, so do it only
    every so often; averaged floats come once per log interval in ``trainer.last_metrics``."""

    def on_train_start(self, trainer: "Trainer") -> None: ...

    def on_step_end(self, trainer: "Trainer", step: int, metrics: dict[str, float]) -> None: ...

    def on_eval(self, trainer: "Trainer", step: int, metrics: dict[str, float]) -> None: ...

    def on_checkpoint(self, trainer: "Trainer", step: int, path: Path) -> None: ...

    def on_train_end(self, trainer: "Trainer", metrics: dict[str, float]) -> None: ...


class EveryNSteps(Callback):
    """Call ``function(trainer, step)`` every ``every`` steps (e.g. write preview images)."""

    def __init__(self, every: int, function: Callable[["Trainer", int], Any], main_process_only: bool = True):
        self.every = every
        self.function = function
        self.main_process_only = main_process_only

    def on_step_end(self, trainer: "Trainer", step: int, metrics: dict[str, float]) -> None:
        if step % self.every == 0 and (trainer.is_main_process or not self.main_process_only):
            self.function(trainer, step)


class CallbackList:
    def __init__(self, callbacks: Iterable[Callback]):
        self.callbacks = list(callbacks)

    def __getattr__(self, name: str) -> Callable[..., None]:
        if not name.startswith("on_"):
            raise AttributeError(name)

        def call_all(*args: Any) -> None:
            for callback in self.callbacks:
                method = getattr(callback, name, None)
                if method is not None:
                    method(*args)

        return call_all
