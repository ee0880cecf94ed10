"""``classify datasets``: real shipped data written as ImageFolders (train/ and test/).

Each data set comes from an offline asset (see ``faceswap assets list``); the split into
train/ and test/ is seeded and per class, so the same seed always gives the same folders.
"""
from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from faceswap.errors import UserError


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str
    asset: str


def _read_csv_gz(path: Path) -> np.ndarray:
    with gzip.open(path, "rt") as handle:
        return np.loadtxt(handle, delimiter=",", dtype=np.float64)


def _mnist_5k() -> tuple[np.ndarray, np.ndarray, list[str]]:
    from faceswap import assets

    table = _read_csv_gz(assets.ensure("mnist_5k"))  # 784 pixels then the label, per row
    images = table[:, :784].reshape(-1, 28, 28).clip(0, 255).astype(np.uint8)
    return images, table[:, 784].astype(np.int64), [str(d) for d in range(10)]


def _digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    from faceswap import assets

    table = _read_csv_gz(assets.ensure("digits_8x8"))  # 64 pixels (0-16) then the label, per row
    images = (table[:, :64].reshape(-1, 8, 8) * (255.0 / 16.0)).round().clip(0, 255).astype(np.uint8)
    return images, table[:, 64].astype(np.int64), [str(d) for d in range(10)]


def _faces_vs_nonfaces() -> tuple[np.ndarray, np.ndarray, list[str]]:
    from faceswap import assets

    faces = np.load(assets.ensure("lfw_subset"), allow_pickle=False)  # 200 x 25 x 25 float in [0, 1]
    images = (faces * 255.0).round().clip(0, 255).astype(np.uint8)
    labels = np.where(np.arange(len(images)) < 100, 0, 1)  # the first 100 are faces
    return images, labels, ["face", "nonface"]


DATASETS: dict[str, tuple[DatasetInfo, Callable[[], tuple[np.ndarray, np.ndarray, list[str]]]]] = {
    "mnist-5k": (DatasetInfo("mnist-5k", "MNIST handwritten digits, 5,000 images 28x28, 10 classes", "mnist_5k"), _mnist_5k),
    "digits": (DatasetInfo("digits", "UCI handwritten digits, 1,797 images 8x8, 10 classes", "digits_8x8"), _digits),
    "faces-vs-nonfaces": (DatasetInfo("faces-vs-nonfaces", "LFW faces vs non-face patches, 200 images 25x25, 2 classes",
                                      "lfw_subset"), _faces_vs_nonfaces),
}


@dataclass
class WrittenDataset:
    out: Path
    classes: list[str]
    train_counts: list[int]
    test_counts: list[int]


def _split(labels: np.ndarray, test_fraction: float, train_per_class: int | None, seed: int,
           test_per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (test, kept) chosen per class with a seeded shuffle; with ``test_per_class``
    the test images beyond that many per class are left out."""
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    kept = np.ones(len(labels), dtype=bool)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        train_count = train_per_class if train_per_class is not None else len(members) - round(test_fraction * len(members))
        if not 1 <= train_count < len(members) and not (train_per_class is None and test_fraction == 0):
            raise UserError(f"Class {label} has {len(members)} images; choose a split that leaves at least one for "
                            "training and one for testing.")
        is_test[members[train_count:]] = True
        if test_per_class is not None:
            kept[members[train_count + test_per_class:]] = False
    return is_test, kept


def write_dataset(name: str, out: str | Path, test_fraction: float = 0.2, train_per_class: int | None = None,
                  seed: int = 0, test_per_class: int | None = None) -> WrittenDataset:
    """Write OUT/train/CLASS/NNNNN.png and OUT/test/CLASS/NNNNN.png (NNNNN: row in the source);
    ``test_per_class`` caps the test images per class (for quick runs)."""
    if name not in DATASETS:
        raise UserError(f"Unknown data set '{name}'; choose one of {', '.join(DATASETS)}.")
    if not 0 <= test_fraction < 1:
        raise UserError(f"--test-fraction must be in [0, 1), not {test_fraction}.")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise UserError(f"The output folder '{out}' is not empty; choose a new folder.")
    images, labels, classes = DATASETS[name][1]()
    if test_per_class is not None and test_per_class < 1:
        raise UserError(f"--test-per-class must be at least 1, not {test_per_class}.")
    is_test, kept = _split(labels, test_fraction, train_per_class, seed, test_per_class)
    temp = out.with_name(f".{out.name}.partial")
    shutil.rmtree(temp, ignore_errors=True)
    try:
        for index, (image, label) in enumerate(zip(images, labels)):
            if not kept[index]:
                continue
            folder = temp / ("test" if is_test[index] else "train") / classes[label]
            folder.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(folder / f"{index:05d}.png"), image):
                raise UserError(f"Cannot write images under '{out}'; choose a writable folder.")
        if out.exists():
            out.rmdir()
        temp.rename(out)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    counts = lambda mask: [int(np.sum(mask & (labels == k))) for k in range(len(classes))]  # noqa: E731
    return WrittenDataset(out, classes, counts(~is_test), counts(is_test & kept))
