"""Face segmentation as an engine task: augment and occlude on the device, predict, and score.

Training batches get a random affine (image, label and inside-frame mask alike), a colour
change, and synthetic occluders pasted over a share of the faces, whose pixels leave the label.
Validation pastes occluders too, from a fixed seed, so ``iou`` measures exactly what convert
needs: the visible face, not the face behind a hand.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from faceswap import augment as shared
from faceswap.segment.occluders import paste_occluders


@dataclass(frozen=True)
class SegmentAugment:
    rotation: float = 12.0  # degrees, +-
    zoom: float = 0.08  # +- fraction
    shift: float = 0.06  # +- fraction of the size
    flip: float = 0.5
    colour: float = 0.25  # brightness / contrast / saturation, +- fraction
    occlusion: float = 0.6  # share of faces with a pasted occluder
    noise: float = 0.02  # std of added pixel noise


class SegmentTask(nn.Module):
    """forward(batch) -> {"loss", "iou", "occluded_iou"}; batch = (crops, labels, inside), uint8 NCHW."""

    def __init__(self, model: nn.Module, occluders_uint8: torch.Tensor, settings: SegmentAugment = SegmentAugment(),
                 seed: int = 0, dice_weight: float = 1.0):
        super().__init__()
        self.model, self.settings, self.seed, self.dice_weight = model, settings, seed, dice_weight
        self.register_buffer("occluders", occluders_uint8, persistent=False)
        self.register_buffer("augment_calls", torch.zeros((), dtype=torch.int64))

    def _generator(self, device: torch.device) -> torch.Generator:
        """Training: seeded by (seed, rank, call count) so a resumed run replays the same draws; eval: fixed."""
        generator = torch.Generator(device=device)
        if not self.training:
            generator.manual_seed(self.seed + 12_345)
            return generator
        rank = torch.distributed.get_rank() if torch.distributed.is_available() and torch.distributed.is_initialized() else 0
        generator.manual_seed((self.seed * 1_000_003 + rank * 7_919 + int(self.augment_calls)) % 2**63)
        self.augment_calls += 1
        return generator

    def prepare(self, crops: torch.Tensor, labels: torch.Tensor, inside: torch.Tensor):
        """(images N3HW, labels N1HW, inside N1HW, occluder alpha N1HW) at the model's resolution."""
        generator = self._generator(crops.device)
        settings, count, size = self.settings, len(crops), self.model.resolution
        stacked = torch.cat([crops, labels, inside], dim=1).float() / 255
        if self.training:
            theta = shared.random_affine(count, settings.rotation, settings.zoom, settings.shift, settings.flip,
                                         generator, crops.device)
        else:
            theta = torch.eye(2, 3, device=crops.device).expand(count, 2, 3)
        grid = F.affine_grid(theta, [count, 5, size, size], align_corners=False)
        stacked = F.grid_sample(stacked, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        images, labels, inside = stacked[:, :3], stacked[:, 3:4], stacked[:, 4:5]
        images, labels, alpha = paste_occluders(images, labels, self.occluders, settings.occlusion, generator)
        if self.training:
            images = shared.colour_jitter([images], settings.colour, generator)[0]
            noise = torch.randn(images.shape, generator=generator, device=images.device) * settings.noise
            images = (images + noise).clamp(0, 1)
        return images, labels, inside, alpha

    def forward(self, batch) -> dict[str, torch.Tensor]:
        crops, labels, inside = batch
        images, targets, inside, alpha = self.prepare(crops, labels, inside)
        logits = self.model(images)
        with torch.autocast(device_type=logits.device.type, enabled=False):
            logits = logits.float()
            # Pixels from outside the frame are known background; the border of the affine is not.
            weights = (inside > 0.5).float() + (1 - inside) * 0.25
            bce = (F.binary_cross_entropy_with_logits(logits, targets, reduction="none") * weights).sum() / weights.sum()
            probabilities = torch.sigmoid(logits)
            overlap = (probabilities * targets).sum((1, 2, 3))
            dice = 1 - (2 * overlap + 1) / (probabilities.sum((1, 2, 3)) + targets.sum((1, 2, 3)) + 1)
            loss = bce + self.dice_weight * dice.mean()
            with torch.no_grad():
                iou = _iou(probabilities > 0.5, targets > 0.5)
                occluded = alpha.flatten(1).amax(1) > 0.5
                occluded_iou = iou[occluded].mean() if bool(occluded.any()) else iou.mean()
        return {"loss": loss, "iou": iou.mean(), "occluded_iou": occluded_iou}


def _iou(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image intersection over union of two boolean N1HW masks."""
    intersection = (predicted & target).flatten(1).sum(1).float()
    union = (predicted | target).flatten(1).sum(1).float()
    return torch.where(union > 0, intersection / union.clamp_min(1), torch.ones_like(union))
