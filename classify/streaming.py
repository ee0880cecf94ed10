"""ImageFolder data too large to decode into memory: each image is read from disk when it is used.

``classify train`` decodes small data sets once into memory (fast epochs, unreadable files found
up front). When the decoded images would take more than ``--max-memory-mb``, it streams
instead: ``samples.ImageFileSamples`` decodes, resizes and augments one file per access, so memory stays
flat whatever the data size; DataLoader workers (``--num-workers``) decode in parallel.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classify.images import prepare, read_image
from faceswap.errors import UserError


@dataclass
class StreamedImages:
    """The streamed counterpart of ``data.LoadedImages``: paths and labels, no pixels."""
    classes: list[str]
    paths: list[Path]
    labels: np.ndarray
    img_size: int
    channels: int
    crop_ratio: float

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: np.ndarray) -> "StreamedImages":
        return StreamedImages(self.classes, [self.paths[i] for i in indices], self.labels[indices], self.img_size,
                              self.channels, self.crop_ratio)

    def read(self, index: int) -> np.ndarray:
        """HxWxC uint8 as the model sees it; an unreadable file is one clear error."""
        image = read_image(self.paths[index])
        if image is None:
            raise UserError(f"The image '{self.paths[index]}' cannot be decoded (found while streaming the data); "
                            "remove or replace it, then run again with --resume.")
        return prepare(image, self.img_size, self.channels, self.crop_ratio)


def decoded_megabytes(count: int, img_size: int, channels: int) -> float:
    return count * img_size * img_size * channels / 2**20


def sample_images(images: StreamedImages, count: int = 256) -> np.ndarray:
    """An evenly spaced sample, decoded (NHWC uint8): enough for normalisation statistics."""
    picks = np.unique(np.linspace(0, len(images) - 1, min(count, len(images))).astype(int))
    return np.stack([images.read(int(i)) for i in picks])
