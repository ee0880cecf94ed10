"""Acceptance on real data (fixed seed, CPU, one thread): MNIST-5k from scratch, and transfer
learning from MobileNetV2's ImageNet weights on faces vs non-faces."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import classify


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    """mnist-5k as ImageFolders: 4,000 train / 1,000 test, 400 / 100 per class."""
    written = classify.write_dataset("mnist-5k", tmp_path_factory.mktemp("mnist") / "mnist")
    assert sum(written.train_counts) == 4000 and sum(written.test_counts) == 1000
    return written.out


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    """faces-vs-nonfaces with 20 training images per class; the other 160 are the test set."""
    written = classify.write_dataset("faces-vs-nonfaces", tmp_path_factory.mktemp("faces") / "faces", train_per_class=20)
    assert written.train_counts == [20, 20] and written.test_counts == [80, 80]
    return written.out


def _train_and_test(data, tmp_path, **settings) -> float:
    config = classify.TrainClassifierConfig(data=str(data / "train"), out=str(tmp_path / "run"), val_fraction=0.0,
                                            augment="none", threads=1, progress=False, seed=0, **settings)
    result = classify.train(config)
    assert result.train_images == 4000
    return classify.evaluate(result.run_dir, data / "test", write_files=False).accuracy


# short schedules that fit the test time budget (one thread, batch 32, cosine LR)
@pytest.mark.parametrize("model, epochs, lr, minimum", [
    ("lenet", 6, 3e-3, 0.96),
    ("mlp", 5, 1e-3, 0.92),
    ("perceptron", 3, 1e-3, 0.85),
])
def test_mnist_5k_test_accuracy(mnist, tmp_path, model, epochs, lr, minimum):
    accuracy = _train_and_test(mnist, tmp_path, model=model, epochs=epochs, lr=lr, batch_size=32)
    print(f"{model}: {accuracy:.3f} on mnist-5k test")
    assert accuracy >= minimum


def test_frozen_imagenet_features_with_linear_head_on_faces(faces, tmp_path, asset):
    result = classify.train(classify.TrainClassifierConfig(
        data=str(faces / "train"), model="mobilenet_v2", head="linear", pretrained="imagenet", freeze=True,
        out=str(tmp_path / "run"), epochs=30, batch_size=16, img_size=128, val_fraction=0.0, threads=1,
        progress=False))
    assert result.train_images == 40
    report = classify.evaluate(result.run_dir, faces / "test", write_files=False)
    print(f"frozen MobileNetV2 + linear: {report.accuracy:.3f} on {report.images} faces/non-faces")
    assert report.images == 160 and report.accuracy >= 0.97
    # the backbone is exactly ImageNet's: only the head was trained
    imagenet = torch.load(asset("mobilenet_v2_imagenet"), map_location="cpu", weights_only=True)
    saved = load_file(result.run_dir / "model.safetensors")
    assert torch.equal(saved["backbone.features.5.conv.1.0.weight"], imagenet["features.5.conv.1.0.weight"])
    assert not torch.equal(saved["head.1.weight"][:2], imagenet["classifier.1.weight"][:2])


def test_finetune_trains_the_pretrained_backbone_at_the_lower_learning_rate(faces, tmp_path, asset):
    result = classify.train(classify.TrainClassifierConfig(
        data=str(faces / "train"), model="mobilenet_v2", pretrained="imagenet", finetune=True, backbone_lr_scale=0.1,
        out=str(tmp_path / "run"), epochs=2, batch_size=20, img_size=64, val_fraction=0.0, threads=1, progress=False))
    imagenet = torch.load(asset("mobilenet_v2_imagenet"), map_location="cpu", weights_only=True)
    saved = load_file(result.run_dir / "model.safetensors")
    # AdamW moves a weight by about lr per step at most; 4 cosine-scheduled steps add up to 2.5 lr,
    # so the backbone (lr 1e-3 x 0.1) moves at most ~2.5e-4, the new head ~2.5e-3
    for name in ("features.0.0.weight", "features.18.0.weight"):
        change = (saved["backbone." + name] - imagenet[name]).abs().max().item()
        assert 1e-4 < change < 3e-4, (name, change)
    assert np.isfinite(result.metrics["loss"])
