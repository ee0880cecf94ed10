"""Torch datasets over decoded images, with per-image albumentations augmentation."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from faceswap.errors import UserError

AUGMENTATIONS = ("none", "light", "flip")


def build_augmentation(name: str, seed: int):
    """None for "none"; else an albumentations pipeline (small shifts, scale, rotation,
    brightness/contrast; "flip" adds horizontal flips, wrong for digits and text)."""
    if name not in AUGMENTATIONS:
        raise UserError(f"Unknown augmentation '{name}'; choose one of {', '.join(AUGMENTATIONS)}.")
    if name == "none":
        return None
    import albumentations as A

    transforms = [
        A.Affine(scale=(0.9, 1.1), translate_percent=(-0.06, 0.06), rotate=(-10, 10), border_mode=0, p=0.8),
        A.RandomBrightnessContrast(brightness_limit=0.15, contrast_limit=0.15, p=0.5),
    ]
    if name == "flip":
        transforms.append(A.HorizontalFlip(p=0.5))
    return A.Compose(transforms, seed=seed)


def to_tensor_NCHW(images_NHWC_uint8: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> float32 NCHW in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images_NHWC_uint8)).permute(0, 3, 1, 2).float().div_(255.0)


class ImageSamples(Dataset):
    """(image CHW float in [0, 1], label) pairs, each image augmented afresh on every access.
    Without augmentation use a TensorDataset of ``to_tensor_NCHW`` instead: the engine then
    gathers whole batches at once."""

    def __init__(self, images_NHWC_uint8: np.ndarray, labels: np.ndarray, augmentation):
        self.images = images_NHWC_uint8
        self.labels = torch.from_numpy(labels.astype(np.int64))
        self.augmentation = augmentation

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.augmentation(image=self.images[index])["image"]
        if image.ndim == 2:
            image = image[:, :, None]
        return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0), self.labels[index]


class ImageFileSamples(Dataset):
    """Like ImageSamples, but each access reads and decodes the file (``streaming.StreamedImages``):
    for data too large to hold decoded in memory."""

    def __init__(self, images, augmentation=None):
        self.images = images
        self.labels = torch.from_numpy(images.labels.astype(np.int64))
        self.augmentation = augmentation

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images.read(index)
        if self.augmentation is not None:
            image = self.augmentation(image=image)["image"]
            image = image[:, :, None] if image.ndim == 2 else image
        return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0), self.labels[index]
