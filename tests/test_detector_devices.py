"""Detectors on onnxruntime: GPU provider first when there is one, else the CPU with one warning.

Runs on the CPU: the GPU case is checked by making onnxruntime claim a CUDA provider and
capturing what the session is asked for; the fallback with real media."""
from __future__ import annotations

import json
import logging
import subprocess
import sys

import numpy as np
import pytest

from faceswap.extract.detectors import DetectorSettings, load_detector
from faceswap.extract.detectors import _onnx


class FakeSession:
    """Stands in for onnxruntime.InferenceSession and records the providers asked for."""

    asked: list = []

    def __init__(self, model, options=None, providers=None):
        FakeSession.asked.append(list(providers))
        self._providers = [p[0] if isinstance(p, tuple) else p for p in providers]

    def get_providers(self):
        return self._providers

    def get_inputs(self):
        class Input:
            name = "input.1"
        return [Input()]


@pytest.fixture
def fake_gpu(monkeypatch, fresh_warning):
    import onnxruntime

    FakeSession.asked = []
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(onnxruntime, "InferenceSession", FakeSession)
    monkeypatch.setattr(onnxruntime, "preload_dlls", lambda *a, **k: None, raising=False)
    return FakeSession.asked


@pytest.fixture
def fresh_warning(monkeypatch):
    monkeypatch.setattr(_onnx, "_warned", False)
    monkeypatch.setattr(_onnx, "_gpu_failed", False)


@pytest.mark.parametrize("name", ["centerface", "mtcnn"])
@pytest.mark.parametrize("device", ["cuda", "auto", "cuda:1"])
def test_gpu_provider_is_asked_for_first(fake_gpu, name, device):
    detector = load_detector(name, DetectorSettings(device=device))
    assert fake_gpu, "no session was made"
    for providers in fake_gpu:
        assert providers[0] == ("CUDAExecutionProvider", {"device_id": int(device.partition(":")[2] or 0)})
        assert providers[-1] == "CPUExecutionProvider"
    assert "CUDAExecutionProvider" in detector.describe()


@pytest.mark.parametrize("name", ["centerface", "mtcnn"])
def test_cpu_device_never_asks_for_the_gpu(fake_gpu, name):
    detector = load_detector(name, DetectorSettings(device="cpu"))
    assert all(providers == ["CPUExecutionProvider"] for providers in fake_gpu)
    assert "CPUExecutionProvider" in detector.describe()


def test_gpu_provider_that_cannot_start_falls_back_with_one_warning(monkeypatch, fresh_warning, fake_gpu, caplog):
    import onnxruntime

    def picky_session(model, options=None, providers=None):
        if providers != ["CPUExecutionProvider"]:
            raise RuntimeError("libcudnn.so.9: cannot open shared object file")
        return FakeSession(model, options, providers)

    monkeypatch.setattr(onnxruntime, "InferenceSession", picky_session)
    with caplog.at_level(logging.WARNING, logger="faceswap.extract"):
        detector = load_detector("mtcnn", DetectorSettings(device="cuda"))  # three sessions
    assert "CPUExecutionProvider" in detector.describe()
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert "libcudnn" in caplog.records[0].getMessage()
    assert len(fake_gpu) == 3  # after the first failure the GPU is not tried again


def test_cuda_without_gpu_provider_warns_once(monkeypatch, fresh_warning, caplog):
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with caplog.at_level(logging.WARNING, logger="faceswap.extract"):
        assert _onnx.providers_for("cuda") == ["CPUExecutionProvider"]
        assert _onnx.providers_for("cuda:0") == ["CPUExecutionProvider"]
        assert _onnx.providers_for("auto") == ["CPUExecutionProvider"]
    assert len(caplog.records) == 1 and "gpu extra" in caplog.records[0].getMessage()


@pytest.mark.parametrize("gpu_present, warnings", [(False, 0), (True, 1)])
def test_auto_warns_only_when_a_gpu_is_there_to_miss(monkeypatch, fresh_warning, caplog, gpu_present, warnings):
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    monkeypatch.setattr(_onnx, "nvidia_gpu_present", lambda: gpu_present)
    with caplog.at_level(logging.WARNING, logger="faceswap.extract"):
        assert _onnx.providers_for("auto") == ["CPUExecutionProvider"]
    assert len(caplog.records) == warnings


def test_session_that_quietly_fell_back_to_the_cpu_is_reported(monkeypatch, fake_gpu, caplog):
    """onnxruntime without CUDA libraries may start the session on the CPU without raising."""
    monkeypatch.setattr(FakeSession, "get_providers", lambda self: ["CPUExecutionProvider"])
    with caplog.at_level(logging.WARNING, logger="faceswap.extract"):
        detector = load_detector("centerface", DetectorSettings(device="cuda"))
    assert "CPUExecutionProvider" in detector.describe()
    assert len(caplog.records) == 1 and "could not start" in caplog.records[0].getMessage()


def test_centerface_takes_any_batch_and_size(asset):
    """The shipped ONNX declares 10x3x32x32; the rewritten graph runs any batch and frame size."""
    import onnxruntime

    from faceswap import assets

    model = _onnx.free_input_sizes(assets.ensure("centerface").read_bytes())
    session = onnxruntime.InferenceSession(model, _onnx.session_options(1), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == ["batch", 3, "height", "width"]
    heatmap = session.run(None, {"input.1": np.zeros((3, 3, 96, 160), np.float32)})[0]
    assert heatmap.shape == (3, 1, 24, 40)


def _extract_faces(image, out, device):
    command = [sys.executable, "-m", "faceswap.cli.main", "extract", "-i", str(image), "-o", str(out),
               "--device", device, "--select", "all", "--json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    frames = json.loads((out / "alignments.json").read_text())["frames"]
    return [face["box"] for frame in frames for face in frame["faces"]], result.stderr


def test_extract_with_cuda_falls_back_to_the_cpu_and_finds_the_same_faces(asset, tmp_path):
    image = asset("image_multi_face")
    on_cpu, cpu_stderr = _extract_faces(image, tmp_path / "cpu", "cpu")
    asked_cuda, cuda_stderr = _extract_faces(image, tmp_path / "cuda", "cuda")
    assert len(on_cpu) == 5
    np.testing.assert_allclose(sorted(asked_cuda), sorted(on_cpu), atol=1.0)
    assert "Traceback" not in cuda_stderr and "no CUDA execution provider" not in cpu_stderr
    if not _onnx.gpu_providers_available():
        assert cuda_stderr.count("no CUDA execution provider") == 1, cuda_stderr
