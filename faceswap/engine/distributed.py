"""torchrun / DDP: read the launcher's environment, start the process group, reduce metrics."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from faceswap.errors import UserError


@dataclass(frozen=True)
class DistInfo:
    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def dist_info_from_env() -> DistInfo:
    """WORLD_SIZE/RANK/LOCAL_RANK as set by torchrun (absent: a single process)."""
    try:
        world_size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as error:
        raise UserError(f"WORLD_SIZE, RANK and LOCAL_RANK must be integers ({error}); launch with torchrun.") from error
    return DistInfo(world_size, rank, local_rank)


def device_for_rank(device: torch.device, info: DistInfo) -> torch.device:
    """Under DDP each process drives the GPU of its local rank, whatever index --device named
    (``cuda`` and ``cuda:N`` alike become ``cuda:LOCAL_RANK``), so that no two ranks share one."""
    if info.enabled and device.type == "cuda":
        return torch.device("cuda", info.local_rank)
    return device


def init_process_group(info: DistInfo, device: torch.device) -> bool:
    """NCCL between GPUs, gloo on CPU; True if this call created the group (no-op for one
    process or an existing group)."""
    if not info.enabled or dist.is_initialized():
        return False
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)
    return True


def destroy_process_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap(task: nn.Module, info: DistInfo, device: torch.device, find_unused_parameters: bool) -> nn.Module:
    if not info.enabled:
        return task
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    # Buffers are not sent from rank 0 before every forward: that is a collective per step, and
    # a task's buffers (counters, running statistics) are each rank's own business.
    return DistributedDataParallel(task, device_ids=device_ids, find_unused_parameters=find_unused_parameters,
                                   broadcast_buffers=False)


def barrier(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.barrier()


def all_reduce_sum(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    if info.enabled and dist.is_initialized():
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def rank0_decides(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """Rank 0's ``flag`` on every rank (a stop decided by one clock must be shared). A collective
    and a device sync: the trainer calls it once per log interval, not per step."""
    if not info.enabled or not dist.is_initialized():
        return flag
    value = torch.full((1,), 1.0 if flag else 0.0, device=device)
    dist.broadcast(value, src=0)
    return bool(value.item())


def gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    """One object from every rank (in rank order); only tensors and plain data are expected."""
    if not info.enabled or not dist.is_initialized():
        return [obj]
    gathered: list[Any] = [None] * info.world_size
    dist.all_gather_object(gathered, obj)
    return gathered
