"""``classify.predict``: label and probability for images (files, arrays or PIL images), from a run folder."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Union

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


ImageInput = Union[str, Path, np.ndarray, Any]  # a path, an HxW / HxWx3 RGB / HxWx4 RGBA array, or a PIL image


def _as_array(image: Any, index: int) -> tuple[np.ndarray, str]:
    """(HxW or HxWx3 RGB uint8, name to report) for one input of any accepted kind."""
    if isinstance(image, (str, Path)):
        if not Path(image).is_file():
            raise UserError(f"The image '{image}' does not exist; check the path.")
        decoded = read_image(image)
        if decoded is None:
            raise UserError(f"The file '{image}' cannot be read as an image; pass a PNG, JPEG or other image file.")
        return decoded, str(image)
    if hasattr(image, "convert") and hasattr(image, "mode"):  # a PIL image, without importing PIL
        image = np.asarray(image.convert("L" if image.mode in ("1", "L", "I", "I;16", "F") else "RGB"))
        return _checked_array(image, index, "PIL image"), f"<PIL image {index}>"
    if isinstance(image, np.ndarray):
        return _checked_array(image, index, "array"), f"<array {index}>"
    raise UserError(f"Input {index} is a {type(image).__name__}; pass image paths, numpy arrays (HxW or HxWx3 RGB) "
                    "or PIL images.")


def _checked_array(image: np.ndarray, index: int, kind: str) -> np.ndarray:
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]  # RGBA: drop the alpha channel
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3) or min(image.shape[:2]) < 1:
        raise UserError(f"The {kind} at position {index} has shape {image.shape}; pass HxW grey or HxWx3 RGB.")
    if image.dtype == np.uint8:
        return image
    if image.dtype.kind == "f" and np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1:
        return (image * 255.0).round().astype(np.uint8)  # float images in [0, 1]
    raise UserError(f"The {kind} at position {index} is {image.dtype}; pass uint8 (0-255) or float in [0, 1].")


def _decode_all(images: list[ImageInput], info: dict) -> tuple[np.ndarray, list[str]]:
    arrays, names = [], []
    for index, image in enumerate(images):
        array, name = _as_array(image, index)
        arrays.append(prepare(array, info["img_size"], info["channels"], info.get("crop_ratio", 1.0)))
        names.append(name)
    return np.stack(arrays), names


def predict(run_dir: str | Path, images: ImageInput | list[ImageInput], top_k: int = 1, device: str = "cpu",
            threads: int = 0) -> list[Prediction]:
    """One Prediction per image, in order. Images are paths, numpy arrays (HxW grey, HxWx3 RGB,
    uint8 or float in [0, 1]) or PIL images; one image alone is accepted too."""
    if isinstance(images, (str, Path, np.ndarray)) or hasattr(images, "convert"):
        images = [images]
    images = list(images)
    if not images:
        raise UserError("Name at least one image to classify.")
    info = read_model_json(run_dir)
    decoded, names = _decode_all(images, info)
    from classify.inference import probabilities
    from classify.rundir import load_run
    from faceswap.runtime import set_threads

    set_threads(threads)
    classifier, spec, _ = load_run(run_dir, device)
    probs = probabilities(classifier, decoded)
    top_k = max(1, min(top_k, len(spec.classes)))
    predictions = []
    for name, row in zip(names, probs):
        order = np.argsort(-row)[:top_k]
        top = [(spec.classes[k], float(row[k])) for k in order]
        predictions.append(Prediction(name, top[0][0], top[0][1], top))
    return predictions
