"""The reconstruction loss: SSIM and L1 inside the face mask, eyes and mouth weighted up, a
loss that teaches each decoder to draw the face mask, and optionally a perceptual term
(ImageNet features, see perceptual.py) under the same weights.

Everything is computed in float32 (outside autocast): SSIM's variance terms lose too much in
half precision.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from faceswap.swap.augment import AugmentedBatch

SSIM_C1 = 0.01**2
SSIM_C2 = 0.03**2


def gaussian_window(size: int = 11, sigma: float = 1.5, device=None) -> torch.Tensor:
    """(size,) normalised 1-D Gaussian; SSIM blurs with it separably (rows, then columns)."""
    coords = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    kernel = torch.exp(-(coords**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def ssim_map(images: torch.Tensor, targets: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Per-pixel SSIM (NCHW, same size as the inputs; borders reflected) of images in [0, 1].

    The five local statistics are blurred in one separable, grouped convolution.
    """
    channels, size = images.shape[1], window.numel()
    stats = torch.cat([images, targets, images * images, targets * targets, images * targets], dim=1)
    stats = F.pad(stats, (size // 2,) * 4, mode="reflect")
    groups = stats.shape[1]
    stats = F.conv2d(stats, window.view(1, 1, size, 1).expand(groups, 1, size, 1), groups=groups)
    stats = F.conv2d(stats, window.view(1, 1, 1, size).expand(groups, 1, 1, size), groups=groups)
    mu_x, mu_y, mean_xx, mean_yy, mean_xy = stats.split(channels, dim=1)
    var_x, var_y, cov = mean_xx - mu_x**2, mean_yy - mu_y**2, mean_xy - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + SSIM_C1) * (2 * cov + SSIM_C2)
    denominator = (mu_x**2 + mu_y**2 + SSIM_C1) * (var_x + var_y + SSIM_C2)
    return numerator / denominator


def weighted_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean of NCHW ``values`` under N1HW ``weights`` (averaged over channels)."""
    return (values * weights).sum() / (weights.sum() * values.shape[1]).clamp_min(1e-8)


def masked_ssim(images: torch.Tensor, targets: torch.Tensor, masks: torch.Tensor, window: torch.Tensor | None = None) -> torch.Tensor:
    """SSIM inside the face mask: the validation figure (1 is a perfect match)."""
    window = gaussian_window(device=images.device) if window is None else window
    return weighted_mean(ssim_map(images.float(), targets.float(), window), masks.float())


def masked_l1(images: torch.Tensor, targets: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    return weighted_mean((images.float() - targets.float()).abs(), masks.float())


class SwapLoss(nn.Module):
    """loss = ssim_weight * (1 - SSIM) + l1_weight * L1 + mask_weight * |mask error| + perceptual_weight * LPIPS-like.

    SSIM and L1 are weighted per pixel by the region weights (eyes, mouth) inside the face mask
    and by ``background_weight`` outside it; the reported ``ssim`` and ``l1`` use the mask alone.
    Crop pixels that came from outside the frame (``batch.inside`` 0) count for nothing.
    """

    def __init__(self, ssim_weight: float = 1.0, l1_weight: float = 1.0, mask_weight: float = 0.5,
                 background_weight: float = 0.1, perceptual_weight: float = 0.0):
        super().__init__()
        self.ssim_weight, self.l1_weight = ssim_weight, l1_weight
        self.mask_weight, self.background_weight = mask_weight, background_weight
        self.perceptual_weight = perceptual_weight
        self.register_buffer("window", gaussian_window(), persistent=False)
        self.perceptual = None
        if perceptual_weight > 0:  # the ImageNet network is loaded only when it is used
            from faceswap.swap.perceptual import PerceptualLoss

            self.perceptual = PerceptualLoss()

    def forward(self, faces: torch.Tensor, masks: torch.Tensor, batch: AugmentedBatch) -> dict[str, torch.Tensor]:
        with torch.autocast(device_type=faces.device.type, enabled=False):
            faces, masks = faces.float(), masks.float()
            # Pixels from outside the frame (edge padding) teach nothing about either face.
            pixel_weights = batch.weights * (batch.masks + self.background_weight * (1 - batch.masks)) * batch.inside
            similarity = ssim_map(faces, batch.targets, self.window)
            error = (faces - batch.targets).abs()
            mask_error = weighted_mean((masks - batch.masks).abs(), batch.inside)
            loss = (self.ssim_weight * (1 - weighted_mean(similarity, pixel_weights))
                    + self.l1_weight * weighted_mean(error, pixel_weights) + self.mask_weight * mask_error)
            with torch.no_grad():
                metrics = {"ssim": weighted_mean(similarity, batch.masks), "l1": weighted_mean(error, batch.masks),
                           "mask_l1": mask_error.detach()}
            if self.perceptual is not None:
                perceptual = self.perceptual(faces, batch.targets, pixel_weights)
                loss = loss + self.perceptual_weight * perceptual
                metrics["perceptual"] = perceptual.detach()
        return {"loss": loss, **metrics}
