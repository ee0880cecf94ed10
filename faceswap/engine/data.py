"""Data loading for the engine: a data order that is a pure function of (seed, epoch), so a
resumed run can skip the batches it already saw, and batches moved to the device.

Datasets that can read a whole batch at once are asked for whole batches (one call per batch, no
per-item collate): a TensorDataset (one gather per tensor), or any map-style Dataset with a
``read_batch(indices) -> batch`` method (for example one that reads rows from a file, or one
that indexes tensors already on the training device: such a dataset names its ``device``).
"""
from __future__ import annotations

import itertools
from typing import Any, Iterable, Iterator

import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from faceswap.engine.distributed import DistInfo
from faceswap.engine.seeding import seed_worker


class EpochSampler(Sampler[int]):
    """DistributedSampler order for (seed, epoch), without the first ``skip`` indices."""

    def __init__(self, dataset: Dataset, info: DistInfo, shuffle: bool, seed: int, drop_last: bool):
        self.inner = DistributedSampler(dataset, num_replicas=info.world_size, rank=info.rank,
                                        shuffle=shuffle, seed=seed, drop_last=drop_last)
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.inner.set_epoch(epoch)
        self.skip = skip

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(iter(self.inner), self.skip, None)

    def __len__(self) -> int:
        return max(0, len(self.inner) - self.skip)


class _TensorBatches(Dataset):
    """Index a TensorDataset a whole batch at a time (one gather per tensor, no per-item collate)."""

    def __init__(self, dataset: TensorDataset):
        self.tensors = dataset.tensors

    def __getitem__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        # index_select, not tensor[index]: on the CPU advanced indexing of a uint8 image batch was 16x
        # slower (8 ms against 0.5 ms for 8 faces of 5x128x128), a share of a whole training step
        index = torch.as_tensor(indices, dtype=torch.int64)
        return tuple(tensor.index_select(0, index) for tensor in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


class _ReadBatches(Dataset):
    """Index a dataset with ``read_batch(indices)`` a whole batch at a time."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __getitem__(self, indices: list[int]) -> Any:
        return self.dataset.read_batch(indices)

    def __len__(self) -> int:
        return len(self.dataset)


def _whole_batches(data: Dataset) -> Dataset | None:
    if isinstance(data, TensorDataset):
        return _TensorBatches(data)
    if callable(getattr(data, "read_batch", None)):
        return _ReadBatches(data)
    return None


class EpochLoader:
    """Iterable of batches for one epoch at a time; engine-built for Datasets, else the user's iterable."""

    def __init__(self, data: Dataset | Iterable, batch_size: int, info: DistInfo, shuffle: bool, seed: int,
                 drop_last: bool, num_workers: int, pin_memory: bool, persistent: bool = True):
        self.data = data
        self.seed = seed
        self.batch_size = batch_size
        self.sampler: EpochSampler | None = None
        self.loader: Iterable = data
        if isinstance(data, Dataset) and hasattr(data, "__len__") and not isinstance(data, torch.utils.data.IterableDataset):
            self.sampler = EpochSampler(data, info, shuffle, seed, drop_last)
            common = dict(num_workers=num_workers, pin_memory=pin_memory, worker_init_fn=seed_worker,
                          generator=torch.Generator(), persistent_workers=persistent and num_workers > 0)
            whole = _whole_batches(data)
            if whole is not None:
                batches = BatchSampler(self.sampler, batch_size, drop_last)
                self.loader = DataLoader(whole, batch_size=None, sampler=batches, **common)
            else:
                self.loader = DataLoader(data, batch_size=batch_size, sampler=self.sampler, drop_last=drop_last, **common)

    def epoch(self, epoch: int, skip_batches: int = 0) -> Iterator[Any]:
        """The batches of ``epoch``, starting after ``skip_batches`` already-seen ones."""
        if hasattr(self.data, "set_epoch"):
            self.data.set_epoch(epoch)
        if self.sampler is not None:
            self.sampler.set_epoch(epoch, skip_batches * self.batch_size)
            # The loader draws worker seeds from its own generator, never from the global RNG.
            self.loader.generator.manual_seed(self.seed * 100_003 + epoch)
            return iter(self.loader)
        sampler = getattr(self.loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        return itertools.islice(iter(self.loader), skip_batches, None)

    def epoch_flagging_last(self, epoch: int, skip_batches: int = 0) -> Iterator[tuple[Any, bool]]:
        """(batch, whether it is the epoch's last). Counted where the length is known: looking ahead
        would fetch (and draw augmentation randomness for) a batch before a checkpoint is written."""
        try:
            total = len(self)
        except TypeError:
            yield from _flag_last_by_lookahead(self.epoch(epoch, skip_batches))
            return
        for index, batch in enumerate(self.epoch(epoch, skip_batches), start=skip_batches):
            yield batch, index == total - 1

    def __len__(self) -> int:
        """Batches in a full epoch (TypeError for iterables without a length)."""
        if self.sampler is not None:
            skip, self.sampler.skip = self.sampler.skip, 0
            length = len(self.loader)
            self.sampler.skip = skip
            return length
        return len(self.loader)


def _flag_last_by_lookahead(batches: Iterator[Any]) -> Iterator[tuple[Any, bool]]:
    try:
        current = next(batches)
    except StopIteration:
        return
    for upcoming in batches:
        yield current, False
        current = upcoming
    yield current, True


def held_on_device(data: Any) -> bool:
    """Whether a dataset keeps its tensors on an accelerator (it says so with a ``device`` attribute):
    its batches are indexed there, so no worker process or pinned memory may touch them."""
    device = getattr(data, "device", None)
    return isinstance(device, torch.device) and device.type != "cpu"


def move_to_device(batch: Any, device: torch.device, non_blocking: bool = False) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=non_blocking)
    if isinstance(batch, dict):
        return {key: move_to_device(value, device, non_blocking) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        moved = [move_to_device(value, device, non_blocking) for value in batch]
        return type(batch)(*moved) if hasattr(batch, "_fields") else type(batch)(moved)
    return batch


def batch_size_of(batch: Any) -> int:
    """Examples in a batch: the first dimension of its first tensor."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() else 1
    values = batch.values() if isinstance(batch, dict) else batch if isinstance(batch, (list, tuple)) else ()
    for value in values:
        size = batch_size_of(value)
        if size:
            return size
    return 0
