"""`classify demo --quick` end to end on the real data sets: the talk's story in one run, and the
claims it makes. On the small faces-vs-non-faces set at 64 px (20 training images per class),
AlexNet-small and VGG-small beat LeNet, and ImageNet features beat every network trained from
scratch."""
from __future__ import annotations

import json

import cv2
import pytest

EXPECTED_RUNS = ["perceptron", "mlp_sigmoid", "mlp_relu", "lenet", "small_cnn", "small_set_lenet",
                 "small_set_alexnet_small", "small_set_vgg_small", "small_set_frozen_mobilenet_v2",
                 "small_set_finetuned_mobilenet_v2"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from conftest import run_cli

    out = tmp_path_factory.mktemp("demo") / "demo"
    result = run_cli("classify", "demo", "--quick", "--out", str(out), env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    return out, result.stdout, json.loads((out / "results.json").read_text())


def test_demo_prints_the_table_of_every_step(demo):
    _, stdout, results = demo
    assert [r["name"] for r in results["results"]] == EXPECTED_RUNS
    table = stdout[stdout.index("part "):]
    for row in results["results"]:
        assert f"{row['name']} " in table and f"{row['parameters']:,}" in table
        assert row["seconds"] > 0 and len(row["curve"]) >= 3
    assert "chihuahua vs muffin" in stdout and "faces-vs-nonfaces" in results["small_set"]


def test_demo_tells_the_story_on_real_data(demo):
    _, _, results = demo
    accuracy = {r["name"]: r["test_accuracy"] for r in results["results"]}
    print(accuracy)
    assert min(accuracy[name] for name in EXPECTED_RUNS[:5]) >= 0.75  # MNIST from scratch, 100 images per class
    # the 64 px task: AlexNet's and VGG's depth beat LeNet's
    assert accuracy["small_set_alexnet_small"] > accuracy["small_set_lenet"]
    assert accuracy["small_set_vgg_small"] > accuracy["small_set_lenet"]
    # transfer learning beats training from scratch on the small set
    scratch = max(accuracy[name] for name in EXPECTED_RUNS[5:8])
    assert accuracy["small_set_frozen_mobilenet_v2"] > scratch or accuracy["small_set_finetuned_mobilenet_v2"] > scratch
    assert max(accuracy["small_set_frozen_mobilenet_v2"], accuracy["small_set_finetuned_mobilenet_v2"]) >= 0.95


def test_demo_draws_learning_curves_and_confusion_matrices(demo):
    out, _, results = demo
    names = sorted(p.split("/")[-1] for p in results["pngs"])
    assert names == ["confusion_matrix_scratch.png", "confusion_matrix_transfer.png", "learning_curves_scratch.png",
                     "learning_curves_transfer.png"]
    for name in names:
        image = cv2.imread(str(out / name))
        assert image is not None and min(image.shape[:2]) > 200
        assert len({tuple(p) for p in image.reshape(-1, 3)[::7]}) > 8, f"{name} is nearly blank"
