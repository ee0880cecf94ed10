"""``classify.evaluate``: accuracy, per-class precision/recall and a confusion-matrix PNG."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from classify import data as image_data
from classify.rundir import read_model_json


@dataclass
class ClassScore:
    name: str
    precision: float
    recall: float
    support: int


@dataclass
class EvalReport:
    run_dir: str
    data: str
    images: int
    accuracy: float
    classes: list[ClassScore]
    confusion: list[list[int]]  # [true][predicted]
    confusion_png: str | None
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def confusion_matrix(true_labels: np.ndarray, predicted: np.ndarray, count: int) -> np.ndarray:
    matrix = np.zeros((count, count), np.int64)
    np.add.at(matrix, (true_labels, predicted), 1)
    return matrix


def class_scores(confusion: np.ndarray, classes: list[str]) -> list[ClassScore]:
    """Precision = correct / predicted as the class; recall = correct / truly the class (0 when undefined)."""
    correct = np.diag(confusion).astype(np.float64)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    return [ClassScore(name, float(correct[k] / predicted[k]) if predicted[k] else 0.0,
                       float(correct[k] / actual[k]) if actual[k] else 0.0, int(actual[k]))
            for k, name in enumerate(classes)]


def evaluate(run_dir: str | Path, data: str | Path, out_dir: str | Path | None = None, device: str = "cpu",
             batch_size: int = 64, threads: int = 0, write_files: bool = True) -> EvalReport:
    """Score a run on an ImageFolder whose class folders are (some of) the run's classes.

    Unless ``write_files`` is False, confusion_matrix.png and report.json go to ``out_dir``
    (default RUN/eval).
    """
    info = read_model_json(run_dir)
    classes = list(info["classes"])
    folder = image_data.scan(data, classes, "evaluation folder")
    loaded = image_data.load(folder, info["img_size"], info["channels"], info.get("crop_ratio", 1.0),
                             require_every_class=False)
    from classify.inference import probabilities
    from classify.rundir import load_run
    from faceswap.runtime import set_threads

    set_threads(threads)
    classifier, _, _ = load_run(run_dir, device)
    predicted = probabilities(classifier, loaded.images_NHWC_uint8, batch_size).argmax(axis=1)
    confusion = confusion_matrix(loaded.labels, predicted, len(classes))
    accuracy = float(np.mean(predicted == loaded.labels))
    report = EvalReport(str(run_dir), str(data), len(loaded), accuracy, class_scores(confusion, classes),
                        confusion.tolist(), None, loaded.skipped)
    if write_files:
        report.confusion_png = str(_write_outputs(report, confusion, classes, Path(out_dir or Path(run_dir) / "eval")))
    return report


def _write_outputs(report: EvalReport, confusion: np.ndarray, classes: list[str], out_dir: Path) -> Path:
    from classify.drawing import confusion_matrix_image, write_png
    from faceswap.fileio import write_json_atomic

    png = out_dir / "confusion_matrix.png"
    title = f"{Path(report.data).name}: accuracy {report.accuracy:.1%} on {report.images} images"
    write_png(png, confusion_matrix_image(confusion, classes, title))
    report.confusion_png = str(png)
    write_json_atomic(out_dir / "report.json", report.to_dict())
    return png
