"""ImageFolder data: one sub-folder per class, images inside.

``scan`` lists the files and checks the layout; ``load`` decodes every image once (so that
unreadable files are found, skipped and listed before training starts) into fixed-size
uint8 arrays kept in memory; ``split`` makes a seeded, per-class train/validation split.
Nothing here imports torch, so bad input is reported at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classify.images import IMAGE_SUFFIXES, prepare, read_image
from faceswap.errors import UserError


@dataclass
class ImageFolder:
    root: Path
    classes: list[str]
    paths: list[Path]
    labels: np.ndarray  # int64, index into classes


@dataclass
class LoadedImages:
    classes: list[str]
    images_NHWC_uint8: np.ndarray
    labels: np.ndarray
    paths: list[Path]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: np.ndarray) -> "LoadedImages":
        return LoadedImages(self.classes, self.images_NHWC_uint8[indices], self.labels[indices],
                            [self.paths[i] for i in indices], self.skipped)


def _natural_key(path: Path) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name))


def scan(root: str | Path, classes: list[str] | None = None, what: str = "data folder") -> ImageFolder:
    """List an ImageFolder. ``classes`` (e.g. a trained model's) fixes the label order."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"The {what} '{root}' does not exist or is not a folder; pass a folder with one sub-folder per class.")
    folders = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")), key=lambda d: d.name)
    if not folders:
        raise UserError(f"The {what} '{root}' has no class sub-folders; put each class's images in its own "
                        f"folder ({root}/CLASS_NAME/image.jpg).")
    if classes is None:
        if len(folders) < 2:
            raise UserError(f"The {what} '{root}' has only one class ('{folders[0].name}'); a classifier needs "
                            "at least two class sub-folders.")
        classes = [d.name for d in folders]
    unknown = [d.name for d in folders if d.name not in classes]
    if unknown:
        raise UserError(f"The {what} '{root}' has class folder(s) {', '.join(unknown)} that the model does not "
                        f"know (it knows {', '.join(classes)}); remove them or retrain with them.")
    paths, labels = [], []
    for folder in folders:
        files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
        if not files:
            raise UserError(f"Class folder '{folder}' has no images ({', '.join(IMAGE_SUFFIXES)}); add images or remove the folder.")
        paths += files
        labels += [classes.index(folder.name)] * len(files)
    return ImageFolder(root, list(classes), paths, np.array(labels, dtype=np.int64))


def native_size(folder: ImageFolder) -> int:
    """The larger side of the first readable image: the default image size."""
    for path in folder.paths:
        image = read_image(path)
        if image is not None:
            return max(image.shape[:2])
    raise UserError(f"No image in '{folder.root}' can be read; check that the files are images.")


def is_colour(folder: ImageFolder, sample: int = 32) -> bool:
    """True if any of the first images of each class has colour."""
    per_class = max(1, sample // len(folder.classes))
    for label in range(len(folder.classes)):
        for index in np.flatnonzero(folder.labels == label)[:per_class]:
            image = read_image(folder.paths[index])
            if image is not None and image.ndim == 3:
                return True
    return False


def load(folder: ImageFolder, img_size: int, channels: int, crop_ratio: float = 1.0,
         require_every_class: bool = True) -> LoadedImages:
    """Decode and resize every image; unreadable files are skipped and listed."""
    images, labels, paths, skipped = [], [], [], []
    for path, label in zip(folder.paths, folder.labels):
        image = read_image(path)
        if image is None:
            skipped.append((str(path), "cannot be decoded as an image"))
            continue
        images.append(prepare(image, img_size, channels, crop_ratio))
        labels.append(label)
        paths.append(path)
    labels_array = np.array(labels, dtype=np.int64)
    if require_every_class:
        counts = np.bincount(labels_array, minlength=len(folder.classes))
        for name, count in zip(folder.classes, counts):
            if count == 0:
                raise UserError(f"Class folder '{folder.root / name}' has no readable images; add images or remove the folder.")
    if not images:
        raise UserError(f"No image in '{folder.root}' can be read; check that the files are images.")
    return LoadedImages(folder.classes, np.stack(images), labels_array, paths, skipped)


def split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-class split into (train indices, val indices); each class keeps >= 1 training image."""
    if not 0.0 <= val_fraction < 1.0:
        raise UserError(f"--val-fraction must be in [0, 1), not {val_fraction}.")
    rng = np.random.default_rng(seed)
    train, val = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        count = min(len(members) - 1, round(val_fraction * len(members))) if val_fraction > 0 else 0
        if val_fraction > 0 and count == 0 and len(members) > 1:
            count = 1
        val.append(members[:count])
        train.append(members[count:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def channel_stats(images_NHWC_uint8: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std in [0, 1] units, for normalising a model trained from scratch."""
    pixels = images_NHWC_uint8.reshape(-1, images_NHWC_uint8.shape[-1]).astype(np.float64) / 255.0
    mean, std = pixels.mean(axis=0), pixels.std(axis=0)
    return tuple(float(m) for m in mean), tuple(float(max(s, 1e-3)) for s in std)
