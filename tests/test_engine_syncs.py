"""A training step never waits for the device: the host reads values once per log interval.

On a GPU every ``.item()``, ``.tolist()``, ``int(t)``, ``float(t)``, ``bool(t)``, ``.cpu()`` or
``.numpy()`` of a device tensor stalls the host until the queued kernels finish. On the CPU they
cost nothing, so this test counts the calls themselves during 50 steps of the swap task (real
faces, the small ``original`` preset) and of a classifier, with a log row every 10 steps.

Reads by the data loader's samplers are not counted: their tensors (indices, seeds) live on the
host whatever the training device.
"""
from __future__ import annotations

import collections
import sys

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from faceswap.engine import TrainConfig, Trainer

STEPS, LOG_EVERY = 50, 10
START_AND_END = 6  # the start snapshot, the last log row, the final checkpoint
READS = ("item", "tolist", "__int__", "__float__", "__bool__", "__index__", "cpu", "numpy")
HOST_SIDE = ("torch/utils/data/", "faceswap/engine/data.py")


@pytest.fixture
def count_reads(monkeypatch):
    """Counts of every host read of a tensor, by method, while the test runs."""
    counts: collections.Counter[str] = collections.Counter()
    for name in READS:
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _name=name, _original=original, **kwargs):
            caller = sys._getframe(1).f_code.co_filename.replace("\\", "/")
            if not any(part in caller for part in HOST_SIDE):
                counts[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return counts


def _config(tmp_path, **overrides) -> TrainConfig:
    settings = dict(out_dir=str(tmp_path / "run"), epochs=None, max_steps=STEPS, log_every=LOG_EVERY, batch_size=4,
                    progress=False, tensorboard=False, device="cpu", threads=1, optimizer="adam", lr=1e-4,
                    save_every=STEPS)
    settings.update(overrides)
    return TrainConfig(**settings)


def _fit_counting(task: nn.Module, config: TrainConfig, data, counts) -> int:
    trainer = Trainer(task, config)
    counts.clear()
    trainer.fit(data)
    assert trainer.step == STEPS
    print(f"{type(task).__name__}: host reads in {STEPS} steps: {dict(counts)}")
    return sum(counts.values())


def _allowed() -> int:
    return STEPS // LOG_EVERY + START_AND_END


def test_swap_training_reads_the_device_once_per_log_interval(extracted_faces, tmp_path, count_reads):
    from faceswap.registry import get
    from faceswap.swap import SwapTrainConfig
    from faceswap.swap.data import load_face_set
    from faceswap.swap.task import build_swap_task

    model = get("swap_model", "original")(resolution=64, encoder_widths=(8, 16, 32, 64), bottleneck=32,
                                          decoder_widths=(16, 8, 4))
    sides = [load_face_set(extracted_faces[side], 64, 2) for side in ("a", "b")]
    count = min(len(side) for side in sides)
    data = TensorDataset(sides[0].faces[:count], sides[1].faces[:count])
    swap_config = SwapTrainConfig(faces_a="a", faces_b="b", model_dir="m", perceptual_weight=0.0)
    task = build_swap_task(model, sides[0].template, 64, swap_config)
    reads = _fit_counting(task, _config(tmp_path), data, count_reads)
    assert reads <= _allowed(), f"{reads} host reads in {STEPS} steps: {dict(count_reads)}"


def test_classifier_training_reads_the_device_once_per_log_interval(tmp_path, count_reads):
    from classify.task import ClassificationTask

    torch.manual_seed(0)
    images = torch.rand(64, 1, 16, 16)
    labels = torch.randint(0, 3, (64,))
    network = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))
    reads = _fit_counting(ClassificationTask(network), _config(tmp_path, optimizer="adamw"),
                          TensorDataset(images, labels), count_reads)
    assert reads <= _allowed(), f"{reads} host reads in {STEPS} steps: {dict(count_reads)}"
