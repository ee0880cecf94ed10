"""The `classify` console script end to end in subprocesses, on the real digits data set."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import cv2
import pytest

from faceswap.errors import UserError

BUILTIN_MODELS = ("perceptron", "mlp", "lenet", "small_cnn", "mobilenet_v2", "alexnet", "alexnet_small", "vgg11", "vgg16",
                  "vgg_small")
ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # small models run fastest on one thread on a 2-core machine


@pytest.fixture
def classify_cli(cli):
    return lambda *argv: cli("classify", *argv, env=ONE_THREAD)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from conftest import run_cli

    root = tmp_path_factory.mktemp("classify_cli")
    made = run_cli("classify", "datasets", "digits", "--out", str(root / "digits"), env=ONE_THREAD)
    assert made.returncode == 0, made.stderr
    assert "1438 training and 359 test images" in made.stdout
    run = root / "run"
    trained = run_cli("classify", "train", "--data", str(root / "digits" / "train"), "--model", "small_cnn",
                      "--out", str(run), "--epochs", "3", "--batch-size", "32", "--threads", "1", "--augment", "light",
                      "--no-progress", "--precision", "fp32", "--grad-clip", "1.5", "--warmup", "7", env=ONE_THREAD)
    assert trained.returncode == 0, trained.stderr
    assert "run folder:" in trained.stdout
    return {"root": root, "data": root / "digits", "run": run, "stdout": trained.stdout}


def _valid_png(path) -> tuple[int, int]:
    image = cv2.imread(str(path))
    assert image is not None and image.size > 0, path
    return image.shape[:2]


def test_train_writes_a_self_describing_run(trained):
    info = json.loads((trained["run"] / "model.json").read_text())
    assert info["model"] == "small_cnn" and info["head"] == "linear"
    assert info["classes"] == [str(d) for d in range(10)] and info["img_size"] == 8 and info["channels"] == 1
    assert info["weights_from"] == "best" and 130 <= info["val_images"] <= 150
    assert info["train_images"] + info["val_images"] == 1438
    assert (trained["run"] / "model.safetensors").is_file() and (trained["run"] / "train_config.json").is_file()
    settings = json.loads((trained["run"] / "train_config.json").read_text())
    assert settings["epochs"] == 3 and (settings["precision"], settings["grad_clip"], settings["warmup"]) == ("fp32", 1.5, 7)
    engine = json.loads((trained["run"] / "config.json").read_text())  # what the engine actually ran with
    assert (engine["precision"], engine["grad_clip"], engine["warmup_steps"]) == ("fp32", 1.5, 7)


def test_train_prints_one_line_per_epoch(trained):
    lines = [line for line in trained["stdout"].splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"], trained["stdout"]
    pattern = re.compile(r"epoch \d/3  train loss \d\.\d{4}  val loss \d\.\d{4}  val accuracy (\d\.\d{4})  \d+\.\d s")
    assert all(pattern.fullmatch(line) for line in lines), lines
    last_accuracy = float(pattern.fullmatch(lines[-1]).group(1))
    info = json.loads((trained["run"] / "model.json").read_text())
    assert abs(last_accuracy - info["metrics"]["val_accuracy"]) < 1e-3 or last_accuracy <= info["metrics"]["val_accuracy"]


def test_eval_reports_accuracy_per_class_and_confusion_png(trained, classify_cli):
    result = classify_cli("eval", str(trained["run"]), "--data", str(trained["data"] / "test"), "--json",
                 "--threads", "1")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["images"] == 359 and report["accuracy"] >= 0.8
    assert [c["name"] for c in report["classes"]] == [str(d) for d in range(10)]
    assert all(0 <= c["precision"] <= 1 and 0 <= c["recall"] <= 1 for c in report["classes"])
    assert sum(map(sum, report["confusion"])) == 359
    height, width = _valid_png(report["confusion_png"])
    assert height > 300 and width > 300
    for score in report["classes"]:
        p, r = score["precision"], score["recall"]
        assert score["f1"] == pytest.approx(2 * p * r / (p + r) if p + r else 0.0)
    assert report["macro_f1"] == pytest.approx(sum(c["f1"] for c in report["classes"]) / 10)
    assert report["macro_recall"] == pytest.approx(sum(c["recall"] for c in report["classes"]) / 10)
    worst = report["top_losses"]
    assert len(worst) == 16 and [w["loss"] for w in worst] == sorted((w["loss"] for w in worst), reverse=True)
    assert all(w["predicted"] != w["true"] for w in worst[:3]) and all(Path(w["image"]).is_file() for w in worst)
    height, width = _valid_png(report["top_losses_png"])
    assert height > 4 * 96 and width > 4 * 96


def test_eval_of_a_class_the_run_does_not_know_is_one_clear_error(trained, tmp_path, classify_cli):
    data = tmp_path / "eval"
    shutil.copytree(trained["data"] / "test" / "3", data / "3")
    shutil.copytree(trained["data"] / "test" / "3", data / "cat")
    error = _one_line_error(classify_cli("eval", str(trained["run"]), "--data", str(data), "--out", str(tmp_path / "out")))
    assert "class folder(s) cat that the model does not know" in error
    assert not (tmp_path / "out").exists()


def test_predict_takes_arrays_from_python(trained):
    import numpy as np

    import classify

    path = sorted((trained["data"] / "test" / "7").iterdir())[0]
    grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    from_path, from_grey, from_rgb, from_float = classify.predict(
        trained["run"], [path, grey, np.repeat(grey[:, :, None], 3, axis=2), grey / 255.0], top_k=3, threads=1)
    assert from_grey.image == "<array 1>" and from_path.image == str(path)
    for prediction in (from_grey, from_rgb, from_float):
        assert prediction.top[0][0] == from_path.label
        assert prediction.probability == pytest.approx(from_path.probability, abs=1e-5)
    assert classify.predict(trained["run"], grey, threads=1)[0].label == from_path.label  # one array alone
    from PIL import Image

    from_pil, from_pil_rgb = classify.predict(trained["run"], [Image.fromarray(grey), Image.fromarray(grey).convert("RGB")], threads=1)
    assert from_pil.image == "<PIL image 0>" and from_pil.label == from_pil_rgb.label == from_path.label
    assert from_pil.probability == pytest.approx(from_path.probability, abs=1e-5)
    with pytest.raises(UserError, match="has shape \\(2, 3, 4, 5\\); pass HxW grey or HxWx3 RGB"):
        classify.predict(trained["run"], [np.zeros((2, 3, 4, 5), np.uint8)])


def test_predict_prints_label_and_probability(trained, classify_cli):
    images = [sorted((trained["data"] / "test" / digit).iterdir())[0] for digit in ("0", "7")]
    result = classify_cli("predict", str(trained["run"]), *map(str, images), "--json", "--top-k", "3")
    assert result.returncode == 0, result.stderr
    predictions = json.loads(result.stdout)
    assert [p["image"] for p in predictions] == list(map(str, images))
    for prediction in predictions:
        assert prediction["label"] in [str(d) for d in range(10)] and 0 < prediction["probability"] <= 1
        assert len(prediction["top"]) == 3 and prediction["top"][0][0] == prediction["label"]
    plain = classify_cli("predict", str(trained["run"]), str(images[0]))
    assert plain.returncode == 0 and plain.stdout.count("\n") == 1 and str(images[0]) in plain.stdout


def test_inspect_draws_filters_and_feature_maps(trained, classify_cli):
    image = sorted((trained["data"] / "test" / "4").iterdir())[0]
    out = trained["root"] / "inspect"
    result = classify_cli("inspect", str(trained["run"]), str(image), "--out", str(out))
    assert result.returncode == 0, result.stderr
    for picture in [out / "filters.png", *sorted(out.glob("feature_maps_*.png"))]:
        image = cv2.imread(str(picture), cv2.IMREAD_GRAYSCALE)
        assert image is not None and image.shape[0] > 100, picture
        assert (image[:24] < 100).sum() > 50, f"{picture.name} has no layer title"  # dark text on the white title strip
    maps = sorted(out.glob("feature_maps_*.png"))
    assert [p.name for p in maps] == ["feature_maps_backbone_features_0.png", "feature_maps_backbone_features_17.png"]


def test_models_lists_every_builtin_with_parameter_counts(classify_cli):
    result = classify_cli("models")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for name in BUILTIN_MODELS + ("linear", "mlp"):
        assert any(line.split()[:1] == [name] for line in lines), name
    mobilenet = next(line for line in lines if line.split()[0] == "mobilenet_v2")
    assert "2,223,872" in mobilenet and "imagenet" in mobilenet


def _one_line_error(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_bad_data_folders_exit_2_with_one_line(trained, tmp_path, classify_cli):
    digit = sorted((trained["data"] / "test" / "1").iterdir())[0]
    (tmp_path / "single" / "cat").mkdir(parents=True)
    shutil.copy(digit, tmp_path / "single" / "cat")
    (tmp_path / "empty" / "cat").mkdir(parents=True)
    (tmp_path / "empty" / "dog").mkdir(parents=True)
    shutil.copy(digit, tmp_path / "empty" / "cat")
    cases = {"single": "only one class", "empty": "has no images", "missing": "does not exist"}
    for folder, message in cases.items():
        result = classify_cli("train", "--data", str(tmp_path / folder), "--model", "lenet", "--out", str(tmp_path / f"run_{folder}"))
        assert message in _one_line_error(result)
        assert not (tmp_path / f"run_{folder}").exists()


def test_wrong_run_folder_exits_2_with_one_line(trained, tmp_path, classify_cli):
    not_a_run = trained["data"] / "test"
    image = str(sorted((not_a_run / "1").iterdir())[0])
    for argv in (("eval", str(not_a_run), "--data", str(not_a_run)), ("predict", str(not_a_run), image),
                 ("inspect", str(tmp_path / "nowhere"))):
        assert "run folder" in _one_line_error(classify_cli(*argv))
