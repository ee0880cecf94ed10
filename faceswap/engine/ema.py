"""An exponential moving average (EMA) of a task's trainable weights, kept beside them.

A constant learning rate leaves the weights jittering around a good point from step to step; their
running average sits nearer it, so a stage can export the average instead of the last step's
weights. The decay warms up as ``min(decay, (1 + n) / (10 + n))`` after n updates, so that a short
run's average does not drag along its random start.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn

from faceswap.errors import UserError

UPDATES_KEY = "updates"


class WeightAverage:
    """``update()`` after each optimiser step; ``with average.applied():`` puts the averaged weights into
    the module and the trained ones back after."""

    def __init__(self, module: nn.Module, decay: float):
        self.decay = decay
        named = [(name, param) for name, param in module.named_parameters() if param.requires_grad]
        self.names = [name for name, _ in named]
        self.params = [param for _, param in named]
        self.shadow = [param.detach().clone() for param in self.params]
        self.updates = 0

    def current_decay(self) -> float:
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        torch._foreach_lerp_(self.shadow, [param.detach() for param in self.params], 1.0 - self.current_decay())

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        with torch.no_grad():
            trained = [param.detach().clone() for param in self.params]
            torch._foreach_copy_(self.params, self.shadow)
        try:
            yield
        finally:
            with torch.no_grad():
                torch._foreach_copy_(self.params, trained)

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = {name: shadow.detach().cpu() for name, shadow in zip(self.names, self.shadow)}
        state[UPDATES_KEY] = torch.tensor(self.updates)
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        missing = [name for name in self.names if name not in state]
        if missing:
            raise UserError(f"The checkpoint's weight average lacks '{missing[0]}' ({len(missing)} weights in all); "
                            "resume with the settings the run was trained with.")
        with torch.no_grad():
            for name, shadow in zip(self.names, self.shadow):
                shadow.copy_(state[name])
        self.updates = int(state[UPDATES_KEY]) if UPDATES_KEY in state else 0
