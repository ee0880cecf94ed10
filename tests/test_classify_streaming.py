"""Data larger than the memory budget streams from disk: nothing is decoded whole, training and
--freeze work the same, and an unreadable file found while streaming is one clear error."""
from __future__ import annotations

import shutil

import pytest

import classify
from classify import data as image_data
from faceswap.errors import UserError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return classify.write_dataset("digits", tmp_path_factory.mktemp("digits") / "digits").out


@pytest.fixture
def no_whole_load(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the data was decoded whole although it is over the memory budget")

    monkeypatch.setattr(image_data, "load", refuse)


def _config(data, out, **settings):
    # 1,438 digits at 8x8 grey decode to 0.09 MB: a budget of 0.01 MB makes them "larger than memory"
    return classify.TrainClassifierConfig(data=str(data), out=str(out), max_memory_mb=0.01, threads=1, progress=False,
                                          **settings)


def test_data_over_the_memory_budget_streams_and_trains(digits, tmp_path, no_whole_load):
    result = classify.train(_config(digits / "train", tmp_path / "run", model="mlp", hidden_sizes=(64,), epochs=2, lr=5e-3,
                                    augment="light", batch_size=32))
    assert result.streamed and result.train_images + result.val_images == 1438 and result.val_images > 100
    assert result.metrics["val_accuracy"] >= 0.85, result.metrics


def test_frozen_features_of_streamed_data(digits, tmp_path, no_whole_load, asset):
    small = tmp_path / "small"
    for digit in ("0", "1"):
        shutil.copytree(digits / "train" / digit, small / digit)
    result = classify.train(_config(small, tmp_path / "run", model="mobilenet_v2", pretrained="imagenet", freeze=True,
                                    img_size=32, epochs=5, batch_size=32))
    assert result.streamed and result.metrics["val_accuracy"] >= 0.9, result.metrics


def test_an_unreadable_file_found_while_streaming_is_one_clear_error(digits, tmp_path):
    data = tmp_path / "data"
    for digit in ("0", "1"):
        shutil.copytree(digits / "train" / digit, data / digit)
    (data / "1" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match="broken.png' cannot be decoded \\(found while streaming the data\\)"):
        classify.train(_config(data, tmp_path / "run", model="perceptron", epochs=1, val_fraction=0.0, augment="none"))
    assert not (tmp_path / "run" / "model.json").exists()
