"""The face-swap objective as an engine task: one forward through the shared encoder and both
decoders (so DDP sees every parameter), returning the loss and per-person metrics.

Training batches are augmented here, on the device the engine moved them to. The augmentation's
random numbers come from a generator seeded by (seed, rank, call count); the call count is a
buffer in the task's state, so a resumed run draws exactly the warps the uninterrupted one would.

With an ``adversarial`` loss the task also holds the discriminator (its weights are then in the
task's checkpoints, not in the swap model); it plays only while training, so validation losses
stay comparable between runs with and without it.
"""
from __future__ import annotations

import torch
from torch import nn

from faceswap.align.template import Template
from faceswap.swap.adversarial import AdversarialLoss
from faceswap.swap.augment import AugmentSettings, augment, plain
from faceswap.swap.blink import eye_centres
from faceswap.swap.config import SwapTrainConfig
from faceswap.swap.loss import SwapLoss


class SwapTask(nn.Module):
    def __init__(self, model: nn.Module, template: Template, stored_size: int, augment_settings: AugmentSettings,
                 loss: SwapLoss, eyes_weight: float, mouth_weight: float, seed: int = 0,
                 adversarial: AdversarialLoss | None = None):
        super().__init__()
        self.model = model
        self.loss = loss
        self.adversarial = adversarial
        self.augment_settings = augment_settings
        self.seed = seed
        weights = torch.from_numpy(template.region_weights(stored_size, eyes=eyes_weight, mouth=mouth_weight))
        self.register_buffer("region_weights", weights.view(1, 1, stored_size, stored_size), persistent=False)
        self.register_buffer("eye_centres", eye_centres(template), persistent=False)
        self.register_buffer("augment_calls", torch.zeros((), dtype=torch.int64))
        self._calls: int | None = None  # the buffer's value on the host, read once after a load

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._calls = None  # a checkpoint or the NaN guard's snapshot brought another count

    def _generator(self, device: torch.device) -> tuple[torch.Generator, int]:
        """A generator for this call's augmentation, and the call's number (counted in the state).

        The count is kept on the host as well, so a step reads the buffer only after a load."""
        rank = torch.distributed.get_rank() if torch.distributed.is_available() and torch.distributed.is_initialized() else 0
        if self._calls is None:
            self._calls = int(self.augment_calls)
        calls = self._calls
        generator = torch.Generator(device=device)
        generator.manual_seed((self.seed * 1_000_003 + rank * 7_919 + calls) % 2**63)
        self._calls += 1
        self.augment_calls += 1
        return generator, calls

    def prepare(self, faces_uint8: torch.Tensor, generator: torch.Generator | None, calls: int = 0):
        size = self.model.resolution
        if generator is None:
            return plain(faces_uint8, self.region_weights, size)
        return augment(faces_uint8, self.region_weights, size, self.augment_settings.at(calls), generator, self.eye_centres)

    @torch.compiler.disable
    def _prepare_pair(self, faces_a: torch.Tensor, faces_b: torch.Tensor):
        """Both sides augmented with this call's generator (or plain in eval mode). Run eagerly under
        --compile: the call count and generator are host state a compiled graph would guard on."""
        generator, calls = self._generator(faces_a.device) if self.training else (None, 0)
        return self.prepare(faces_a, generator, calls), self.prepare(faces_b, generator, calls)

    def forward(self, batch) -> dict[str, torch.Tensor]:
        """batch: (faces A, faces B) or {"a": ..., "b": ...}, each (N, 4, S, S) uint8 RGB + mask."""
        faces_a, faces_b = (batch["a"], batch["b"]) if isinstance(batch, dict) else batch
        side_a, side_b = self._prepare_pair(faces_a, faces_b)
        faces_a, masks_a, faces_b, masks_b = self.model(side_a.inputs, side_b.inputs)
        result_a = self.loss(faces_a, masks_a, side_a)
        result_b = self.loss(faces_b, masks_b, side_b)
        metrics = {f"{name}_a": value.detach() for name, value in result_a.items()}
        metrics.update({f"{name}_b": value.detach() for name, value in result_b.items()})
        loss = result_a["loss"] + result_b["loss"]
        if self.adversarial is not None and self.training:
            adversarial = self.adversarial(torch.cat([faces_a, faces_b]), torch.cat([side_a.targets, side_b.targets]),
                                           torch.cat([side_a.masks, side_b.masks]))
            loss = loss + adversarial.pop("loss")
            metrics.update(adversarial)
        return {"loss": loss, **metrics}


def build_swap_task(model: nn.Module, template: Template, stored_size: int, config: SwapTrainConfig) -> SwapTask:
    """The task ``faceswap train`` fits: augmentation, loss and optional discriminator from a SwapTrainConfig."""
    augment_settings = AugmentSettings(warp=config.warp, warp_grid=config.warp_grid, rotation=config.rotation,
                                       zoom=config.zoom, shift=config.shift, flip=config.flip, colour=config.colour,
                                       ramp_calls=config.augment_ramp, blink=config.blink)
    loss = SwapLoss(config.ssim_weight, config.l1_weight, config.mask_weight, config.background_weight,
                    config.perceptual_weight)
    adversarial = AdversarialLoss(config.adversarial_weight) if config.adversarial_weight > 0 else None
    return SwapTask(model, template, stored_size, augment_settings, loss, config.eyes_weight, config.mouth_weight,
                    config.seed, adversarial)
