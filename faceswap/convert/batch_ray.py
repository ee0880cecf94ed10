"""The Ray backend of `faceswap batch`: one task per video, one GPU per task where the cluster has GPUs.

Paths must be readable and writable from every node (a shared file system); each task writes
its output atomically, so a task that dies leaves nothing half-written.
"""
from __future__ import annotations

from typing import Any

from faceswap.errors import UserError


def run_on_ray(items: list, config_values: dict[str, Any], address: str | None = None) -> list[dict[str, Any]]:
    try:
        import ray
    except ImportError:
        raise UserError("The Ray backend needs Ray; install it with `pip install 'faceswap-studio[ray]'`.") from None
    from faceswap.convert.batch import convert_one

    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise UserError(f"Cannot reach the Ray cluster at '{address or 'local'}' ({error}); check --address.") from None
    try:
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        task = ray.remote(num_cpus=1, num_gpus=gpus, max_retries=0)(convert_one)
        refs = [task.remote(item.input, item.output, config_values) for item in items]
        return [_result(ray, ref) for ref in refs]
    finally:
        if started_here:
            ray.shutdown()


def _result(ray, ref) -> dict[str, Any]:
    try:
        return ray.get(ref)
    except Exception as error:  # the worker died or was killed by the cluster
        return {"status": "failed", "reason": f"Ray task failed ({type(error).__name__}: {error})", "seconds": 0.0}
