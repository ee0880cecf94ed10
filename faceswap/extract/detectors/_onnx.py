"""onnxruntime sessions for the detectors: which execution provider, and a model with free input sizes.

``providers_for(device)`` asks for TensorRT/CUDA first when ``--device`` is auto or cuda and the
installed onnxruntime has them (the ``gpu`` extra, ``onnxruntime-gpu``); otherwise it is the CPU,
with one warning per process when a GPU was asked for or could have been used - never an error.
``free_input_sizes`` rewrites an ONNX file whose graph declares fixed input and output sizes
(CenterFace ships as 10x3x32x32) so that any batch, height and width can be fed (with the ``onnx``
package, the format's own library).
"""
from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger("faceswap.extract")

GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
CPU_PROVIDER = "CPUExecutionProvider"
_warned = False
_gpu_failed = False  # a GPU provider failed to start once: later sessions go straight to the CPU


def gpu_providers_available() -> list[str]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    return [name for name in GPU_PROVIDERS if name in available]


def wants_gpu(device: str) -> bool:
    return device == "auto" or device.startswith("cuda")


def nvidia_gpu_present() -> bool:
    """A cheap look for an NVIDIA GPU (the driver's file, or torch if it is already imported), without importing torch."""
    torch = sys.modules.get("torch")
    return os.path.exists("/proc/driver/nvidia/version") or bool(torch and torch.cuda.is_available())


def providers_for(device: str) -> list:
    """Execution providers for an onnxruntime session, best first; always ends with the CPU."""
    if not wants_gpu(device):
        return [CPU_PROVIDER]
    found = [] if _gpu_failed else gpu_providers_available()
    if not found:
        if device.startswith("cuda") or (not _gpu_failed and nvidia_gpu_present()):  # auto: only when a GPU is there to miss
            warn_cpu_fallback(f"--device {device}: this onnxruntime has no CUDA execution provider (install the gpu extra: "
                              "pip install 'faceswap-studio[gpu]'), so the detector runs on the CPU.")
        return [CPU_PROVIDER]
    index = int(device.partition(":")[2] or 0)
    return [(name, {"device_id": index}) for name in found] + [CPU_PROVIDER]


def warn_cpu_fallback(message: str) -> None:
    """One warning line per process, however many detectors are built."""
    global _warned
    if not _warned:
        _warned = True
        log.warning(message)


def session_options(threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # no per-initializer chatter from older exporters
    # idle pool threads sleep instead of spinning: extract's decode and writer threads share the cores
    # (about 1.8x faster detection on a busy 2-core machine, the same on an idle one)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
    return options


def make_session(model, device: str, threads: int):
    """An InferenceSession on the best provider for ``device``; ``model`` is a path or ONNX bytes.

    If the GPU provider fails to start (driver or CUDA libraries missing), falls back to the CPU
    with the one warning line."""
    import onnxruntime

    providers = providers_for(device)
    if providers != [CPU_PROVIDER] and hasattr(onnxruntime, "preload_dlls"):
        try:  # onnxruntime-gpu >= 1.21 finds CUDA/cuDNN in the nvidia-* wheels that torch installs
            onnxruntime.preload_dlls()
        except Exception:  # noqa: BLE001 - the session start below says what is missing
            pass
    try:
        session = onnxruntime.InferenceSession(model, session_options(threads), providers=providers)
    except Exception as error:  # noqa: BLE001 - a GPU provider that cannot start is not the user's error
        if providers == [CPU_PROVIDER]:
            raise
        _gpu_did_not_start(device, str(error).strip()[:120])
        return onnxruntime.InferenceSession(model, session_options(threads), providers=[CPU_PROVIDER])
    if providers != [CPU_PROVIDER] and session_provider(session) == CPU_PROVIDER:  # onnxruntime fell back by itself
        _gpu_did_not_start(device, "no usable GPU or CUDA/cuDNN libraries")
    return session


def _gpu_did_not_start(device: str, reason: str) -> None:
    global _gpu_failed
    _gpu_failed = True
    warn_cpu_fallback(f"--device {device}: onnxruntime's GPU provider could not start ({reason}); the detector runs on the CPU.")


def session_provider(session) -> str:
    """The provider a session really runs on (the first one it accepted)."""
    providers = session.get_providers()
    return providers[0] if providers else CPU_PROVIDER


_FREE_INPUT = ("batch", "height", "width")  # dims 0, 2 and 3 of an NCHW tensor
_FREE_OUTPUT = ("batch", "out_height", "out_width")  # outputs are usually smaller than the input


def free_input_sizes(model_bytes: bytes) -> bytes:
    """The model with batch, height and width of its NCHW inputs and outputs made symbolic.

    Also drops initializers listed as graph inputs (so onnxruntime folds them as constants) and the
    optional intermediate shape hints (``value_info``), which would contradict the new sizes."""
    import onnx

    model = onnx.load_model_from_string(model_bytes)
    graph = model.graph
    initializers = {tensor.name for tensor in graph.initializer}
    inputs = [value for value in graph.input if value.name not in initializers]
    del graph.input[:]
    graph.input.extend(inputs)
    del graph.value_info[:]
    for values, names in ((graph.input, _FREE_INPUT), (graph.output, _FREE_OUTPUT)):
        for value in values:
            dims = value.type.tensor_type.shape.dim
            if len(dims) == 4:
                for index, name in zip((0, 2, 3), names):
                    dims[index].dim_param = name  # replaces the fixed dim_value (a oneof)
    return model.SerializeToString()
