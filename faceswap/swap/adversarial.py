"""Optional adversarial loss: a PatchGAN discriminator (pix2pix; as faceswap-GAN used it) that
tells drawn faces from real ones patch by patch, so the decoders are pushed towards the real
faces' texture rather than towards the blur that SSIM and L1 tolerate.

It works inside the engine's one-optimiser step: ``forward`` returns one loss that is the sum of
two terms whose gradients reach disjoint parameters.

- discriminator term: real targets vs *detached* drawn faces, so it trains the discriminator only;
- generator term: the drawn faces through the discriminator called with *detached* copies of its
  parameters (``torch.func.functional_call``), so it trains the swap model only.

Least-squares GAN losses (Mao et al., 2017): bounded gradients, no saturating sigmoid. One
discriminator serves both people (it judges texture, not identity). It sees faces times the
target's face mask, so the background (not drawn for real by the decoders) is no clue.
Its weights live in the task's state (checkpoints, resume), never in the exported swap model.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call


class PatchDiscriminator(nn.Module):
    """Stride-2 4x4 convolutions with LeakyReLU, then a 3x3 conv to one logit per patch.

    No normalisation layers: batch statistics would mix real and fake batches, and the
    generator's call with detached parameters must compute exactly what the discriminator's does.
    """

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64), in_channels: int = 3):
        super().__init__()
        layers: list[nn.Module] = []
        for width in widths:
            layers += [nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            in_channels = width
        layers.append(nn.Conv2d(in_channels, 1, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        """N3HW faces in [0, 1] -> N1hw patch logits (h = H / 2**len(widths))."""
        return self.body(faces * 2 - 1)


class AdversarialLoss(nn.Module):
    """``forward(drawn, targets, masks) -> {"loss", "adv_g", "adv_d"}``; loss = weight * G term + D term."""

    def __init__(self, weight: float, widths: tuple[int, ...] = (16, 32, 64)):
        super().__init__()
        self.weight = weight
        self.discriminator = PatchDiscriminator(widths)

    def forward(self, drawn: torch.Tensor, targets: torch.Tensor, masks: torch.Tensor) -> dict[str, torch.Tensor]:
        """drawn: N3HW the model's faces; targets: N3HW the real faces; masks: N1HW target face masks."""
        fake, real = drawn * masks, targets * masks
        scores = self.discriminator(torch.cat([real, fake.detach()])).float()
        real_scores, fake_scores = scores.split([len(real), len(fake)])
        d_loss = 0.5 * ((real_scores - 1).pow(2).mean() + fake_scores.pow(2).mean())
        frozen = {name: param.detach() for name, param in self.discriminator.named_parameters()}
        g_scores = functional_call(self.discriminator, frozen, (fake,)).float()
        g_loss = 0.5 * (g_scores - 1).pow(2).mean()
        return {"loss": self.weight * g_loss + d_loss, "adv_g": g_loss.detach(), "adv_d": d_loss.detach()}
