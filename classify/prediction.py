"""``classify.predict``: label and probability for image files, from a run folder."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from classify.images import prepare, read_image
from classify.rundir import read_model_json
from faceswap.errors import UserError


@dataclass
class Prediction:
    image: str
    label: str
    probability: float
    top: list[tuple[str, float]]  # the top_k (label, probability), best first

    def to_dict(self) -> dict:
        return asdict(self)


def _decode_all(images: list[str | Path], info: dict) -> np.ndarray:
    arrays = []
    for path in images:
        if not Path(path).is_file():
            raise UserError(f"The image '{path}' does not exist; check the path.")
        image = read_image(path)
        if image is None:
            raise UserError(f"The file '{path}' cannot be read as an image; pass a PNG, JPEG or other image file.")
        arrays.append(prepare(image, info["img_size"], info["channels"], info.get("crop_ratio", 1.0)))
    return np.stack(arrays)


def predict(run_dir: str | Path, images: list[str | Path], top_k: int = 1, device: str = "cpu",
            threads: int = 0) -> list[Prediction]:
    """One Prediction per image, in order."""
    if not images:
        raise UserError("Name at least one image to classify.")
    info = read_model_json(run_dir)
    decoded = _decode_all(list(images), info)
    from classify.inference import probabilities
    from classify.rundir import load_run
    from faceswap.runtime import set_threads

    set_threads(threads)
    classifier, spec, _ = load_run(run_dir, device)
    probs = probabilities(classifier, decoded)
    top_k = max(1, min(top_k, len(spec.classes)))
    predictions = []
    for path, row in zip(images, probs):
        order = np.argsort(-row)[:top_k]
        top = [(spec.classes[k], float(row[k])) for k in order]
        predictions.append(Prediction(str(path), top[0][0], top[0][1], top))
    return predictions
