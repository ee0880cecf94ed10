"""``classify.evaluate``: accuracy, per-class precision/recall/F1 with macro averages, a
confusion-matrix PNG and a gallery of the worst mistakes (fastai's ``plot_top_losses``)."""
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
    f1: float = 0.0


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
    macro_precision: float = 0.0  # unweighted means over the classes present in the data
    macro_recall: float = 0.0
    macro_f1: float = 0.0
    top_losses: list[dict] = field(default_factory=list)  # the worst images: path, true, predicted, loss, probability
    top_losses_png: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def confusion_matrix(true_labels: np.ndarray, predicted: np.ndarray, count: int) -> np.ndarray:
    matrix = np.zeros((count, count), np.int64)
    np.add.at(matrix, (true_labels, predicted), 1)
    return matrix


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def class_scores(confusion: np.ndarray, classes: list[str]) -> list[ClassScore]:
    """Precision = correct / predicted as the class; recall = correct / truly the class; F1 their
    harmonic mean (each 0 when undefined)."""
    correct = np.diag(confusion).astype(np.float64)
    predicted, actual = confusion.sum(axis=0), confusion.sum(axis=1)
    scores = []
    for k, name in enumerate(classes):
        precision = float(correct[k] / predicted[k]) if predicted[k] else 0.0
        recall = float(correct[k] / actual[k]) if actual[k] else 0.0
        scores.append(ClassScore(name, precision, recall, int(actual[k]), _f1(precision, recall)))
    return scores


def macro_averages(scores: list[ClassScore]) -> tuple[float, float, float]:
    """(precision, recall, F1) averaged over the classes that have images, each class weighing the same."""
    present = [s for s in scores if s.support] or scores
    return tuple(float(np.mean([getattr(s, key) for s in present])) for key in ("precision", "recall", "f1"))


def top_losses(probabilities: np.ndarray, labels: np.ndarray, count: int = 16) -> np.ndarray:
    """Indices of the ``count`` images with the highest cross-entropy, worst first."""
    losses = -np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, None))
    return np.argsort(-losses, kind="stable")[:count]


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
    probs = probabilities(classifier, loaded.images_NHWC_uint8, batch_size)
    predicted = probs.argmax(axis=1)
    confusion = confusion_matrix(loaded.labels, predicted, len(classes))
    accuracy = float(np.mean(predicted == loaded.labels))
    scores = class_scores(confusion, classes)
    report = EvalReport(str(run_dir), str(data), len(loaded), accuracy, scores, confusion.tolist(), None, loaded.skipped,
                        *macro_averages(scores))
    worst = top_losses(probs, loaded.labels)
    report.top_losses = [{"image": str(loaded.paths[i]), "true": classes[loaded.labels[i]], "predicted": classes[predicted[i]],
                          "loss": float(-np.log(max(probs[i, loaded.labels[i]], 1e-12))),
                          "probability": float(probs[i, predicted[i]])} for i in worst]
    if write_files:
        out = Path(out_dir or Path(run_dir) / "eval")
        report.top_losses_png = str(_write_top_losses(report, loaded.images_NHWC_uint8[worst], out))
        report.confusion_png = str(_write_outputs(report, confusion, classes, out))
    return report


def _write_top_losses(report: EvalReport, images_NHWC_uint8: np.ndarray, out_dir: Path) -> Path:
    """top_losses.png: the worst images with predicted / true class, loss and the predicted probability."""
    from classify.drawing import labelled_grid, write_png

    tiles = images_NHWC_uint8[..., 0] if images_NHWC_uint8.shape[-1] == 1 else images_NHWC_uint8
    captions = [[f"{row['predicted']} / {row['true']}", f"loss {row['loss']:.2f}  p {row['probability']:.2f}"]
                for row in report.top_losses]
    png = out_dir / "top_losses.png"
    write_png(png, labelled_grid(tiles, captions, tile_px=96, title="top losses: predicted / true, loss, probability"))
    return png


def _write_outputs(report: EvalReport, confusion: np.ndarray, classes: list[str], out_dir: Path) -> Path:
    from classify.drawing import confusion_matrix_image, write_png
    from faceswap.fileio import write_json_atomic

    png = out_dir / "confusion_matrix.png"
    title = f"{Path(report.data).name}: accuracy {report.accuracy:.1%} on {report.images} images"
    write_png(png, confusion_matrix_image(confusion, classes, title))
    report.confusion_png = str(png)
    write_json_atomic(out_dir / "report.json", report.to_dict())
    return png
