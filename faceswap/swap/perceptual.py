"""Perceptual loss: the distance between ImageNet MobileNetV2 features of the drawn face and of
the target, inside the face mask.

SSIM and L1 are content with a blur that halves the error on every texture the model cannot yet
place exactly; features of an ImageNet network respond to edges and texture themselves, so a
blurry face is far from a sharp one in feature space (Johnson et al., 2016; LPIPS, Zhang et al.,
2018). The distance is LPIPS's without its learned weights: features unit-normalised over
channels at a few early stages, squared differences summed over channels, averaged over the
pixels under the loss weights, averaged over stages.

The network is frozen: batch norm is folded into the convolutions (so train/eval mode cannot
change it) and its weights are non-persistent buffers, so they follow the task to its device but
are not parameters (no optimiser, no DDP gradient) and not in any saved state.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

# Outputs of features[1] (16 channels, 1/2 size), [3] (24, 1/4) and [6] (32, 1/8): edges to parts of faces.
DEFAULT_TAPS = (1, 3, 6)


def fold_batch_norms(module: nn.Module) -> nn.Module:
    """Fold every Conv2d directly followed by a BatchNorm2d (inside a Sequential) into one conv, in place."""
    for child in module.children():
        fold_batch_norms(child)
    if isinstance(module, nn.Sequential):
        layers = list(module)
        for index, (first, second) in enumerate(zip(layers, layers[1:])):
            if isinstance(first, nn.Conv2d) and isinstance(second, nn.BatchNorm2d):
                module[index] = fuse_conv_bn_eval(first.eval(), second.eval())
                module[index + 1] = nn.Identity()
    return module


def freeze_as_buffers(module: nn.Module) -> nn.Module:
    """Turn every parameter into a non-persistent buffer: moved by .to(), invisible to optimisers and state_dict."""
    for child in module.modules():
        for name, value in list(child._parameters.items()):
            if value is not None:
                del child._parameters[name]
                child.register_buffer(name, value.detach(), persistent=False)
        for name in list(child._buffers):
            child._non_persistent_buffers_set.add(name)
    return module


class PerceptualLoss(nn.Module):
    """``loss(images, targets, weights)``: images/targets N3HW in [0, 1], weights N1HW >= 0."""

    def __init__(self, features: nn.Sequential | None = None, taps: tuple[int, ...] = DEFAULT_TAPS):
        super().__init__()
        if features is None:
            from faceswap.backbones.mobilenet_v2 import load_imagenet_model

            features = load_imagenet_model().features
        from faceswap.backbones.mobilenet_v2 import IMAGENET_MEAN, IMAGENET_STD

        self.taps = tuple(sorted(taps))
        self.stages = freeze_as_buffers(fold_batch_norms(features[: self.taps[-1] + 1].eval()))
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Unit-normalised (over channels) features at each tap."""
        x = (images - self.mean) / self.std
        found = []
        for index, stage in enumerate(self.stages):
            x = stage(x)
            if index in self.taps:
                found.append(F.normalize(x, dim=1, eps=1e-6))
        return found

    def forward(self, images: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=images.device.type, enabled=False):
            with torch.no_grad():
                target_features = self.features(targets.float())
            distances = []
            for drawn, target in zip(self.features(images.float()), target_features):
                pooled = F.adaptive_avg_pool2d(weights.float(), drawn.shape[-2:])
                squared = (drawn - target).pow(2).sum(1, keepdim=True)
                distances.append((squared * pooled).sum() / pooled.sum().clamp_min(1e-8))
            return torch.stack(distances).mean()
