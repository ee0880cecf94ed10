"""Training faces kept on the training device as uint8, so that a batch is one gather there.

When both sides' face caches fit in a share of the device's free memory, they are copied onto
it once, a block at a time from the cache files, and every batch is indexed on the device: no
worker process, no pinned copy, nothing for a GPU to wait for. Otherwise training reads its
batches from the cache files (``CachedPairs``) and, on a GPU, DataLoader workers read ahead into
pinned memory that is copied with ``non_blocking``. On the CPU the cache file, in the page
cache, already is the training device's memory: auto keeps reading it.

The code is the same on every device, so the CPU tests run the path a GPU takes.
"""
from __future__ import annotations

import logging
from typing import Literal, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from faceswap.swap.face_cache import FaceCache, FaceReader

log = logging.getLogger("faceswap.swap")
DEVICE_SHARE = 0.3  # of the free device memory the faces may take: the rest is the model's, its optimiser's and the batch's
COPY_FACES = 256  # faces read from the cache file and copied at once

Placement = Literal["auto", "on", "off"]


def faces_fit_on_device(setting: Placement, device: torch.device, needed_bytes: int,
                        free_bytes: int | None = None) -> bool:
    """Whether training faces go onto ``device``: ``on``/``off`` as asked; ``auto`` where the device is an
    accelerator and ``needed_bytes`` fit in DEVICE_SHARE of its free memory (``free_bytes``: measured when None)."""
    if setting != "auto":
        return setting == "on"
    if device.type == "cpu":
        return False
    if free_bytes is None:
        free_bytes = _free_memory(device)
    return needed_bytes <= DEVICE_SHARE * free_bytes


def _free_memory(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    return 0  # an accelerator whose free memory torch does not tell: keep the faces on the host


def faces_to_device(cache: FaceCache, device: torch.device) -> torch.Tensor:
    """Every face of ``cache`` as a (N, 5, S, S) uint8 tensor on ``device``, copied a block at a time
    (host memory holds one block, never the whole cache)."""
    faces = torch.empty((cache.count, 5, cache.size, cache.size), dtype=torch.uint8, device=device)
    reader = FaceReader(cache)
    for start in range(0, cache.count, COPY_FACES):
        rows = np.arange(start, min(start + COPY_FACES, cache.count))
        faces[start:start + len(rows)].copy_(torch.from_numpy(reader.read(rows)))
    return faces


class DevicePairs(Dataset):
    """Pairs as ``CachedPairs`` gives them (pair i: A face rows_a[i mod len(rows_a)], B face
    rows_b[i mod len(rows_b)]), gathered from faces already on the device.

    ``device`` tells the engine that its batches are indexed there (no workers, no pinning)."""

    def __init__(self, faces_a: torch.Tensor, rows_a: Sequence[int], faces_b: torch.Tensor, rows_b: Sequence[int]):
        if not len(rows_a) or not len(rows_b):
            raise ValueError("DevicePairs needs at least one face on each side.")
        self.device = faces_a.device
        self.faces_a, self.faces_b = faces_a, faces_b
        self.rows_a = torch.as_tensor(np.asarray(rows_a), dtype=torch.int64, device=self.device)
        self.rows_b = torch.as_tensor(np.asarray(rows_b), dtype=torch.int64, device=self.device)

    def __len__(self) -> int:
        return max(len(self.rows_a), len(self.rows_b))

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        faces_a, faces_b = self.read_batch([index])
        return faces_a[0], faces_b[0]

    def read_batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = _index_on(self.device, indices)
        rows_a, rows_b = self.rows_a[index % len(self.rows_a)], self.rows_b[index % len(self.rows_b)]
        return self.faces_a.index_select(0, rows_a), self.faces_b.index_select(0, rows_b)  # faster than faces[rows]


def _index_on(device: torch.device, indices: Sequence[int]) -> torch.Tensor:
    """The sampler's host indices on ``device``: through pinned memory and without waiting on a GPU."""
    index = torch.as_tensor(indices, dtype=torch.int64)
    if device.type != "cuda":
        return index.to(device)
    return index.pin_memory().to(device, non_blocking=True)


def training_pairs(setting: Placement, device: torch.device, caches: tuple[FaceCache, FaceCache],
                   readers: tuple[FaceReader, FaceReader], rows: tuple[Sequence[int], Sequence[int]]) -> Dataset:
    """DevicePairs when both sides' faces fit on ``device`` (see ``faces_fit_on_device``), else CachedPairs."""
    from faceswap.swap.data import CachedPairs

    needed = sum(cache.count * cache.face_bytes for cache in caches)
    if not faces_fit_on_device(setting, device, needed):
        if setting == "auto" and device.type != "cpu":
            log.info("Training faces (%.2f GiB) stay in the face cache: they exceed %.0f%% of %s's free memory; "
                     "DataLoader workers read ahead.", needed / 2**30, 100 * DEVICE_SHARE, device)
        return CachedPairs(readers[0], rows[0], readers[1], rows[1])
    faces = [faces_to_device(cache, device) for cache in caches]
    log.info("Training faces on %s: %.2f GiB of uint8, batches indexed there.", device, needed / 2**30)
    return DevicePairs(faces[0], rows[0], faces[1], rows[1])
