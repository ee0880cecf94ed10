"""dlib, an optional dependency, and its model files from the asset cache."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from faceswap.errors import UserError

INSTALL_HINT = "pip install 'faceswap-studio[identity]'"


def import_dlib(purpose: str = "face identity") -> Any:
    try:
        import dlib
    except ImportError:
        raise UserError(f"{purpose.capitalize()} needs dlib, which is not installed; run {INSTALL_HINT}.") from None
    return dlib


def is_available() -> bool:
    from importlib.util import find_spec

    return find_spec("dlib") is not None


@lru_cache(maxsize=None)
def shape_predictor(asset_name: str) -> Any:
    """dlib's landmark predictor from a cached asset (fetched first unless it is opt-in)."""
    from faceswap import assets

    if assets.ASSETS[asset_name].opt_in and not assets.is_cached(asset_name):
        raise UserError(f"The opt-in asset '{asset_name}' is not in the cache; run `faceswap assets fetch {asset_name}` "
                        f"(terms: {assets.ASSETS[asset_name].terms}).")
    return import_dlib().shape_predictor(str(assets.ensure(asset_name)))


def rgb_images(images_bgr_uint8: Sequence[np.ndarray]) -> list[np.ndarray]:
    """RGB copies, once per distinct image object (the same frame often holds several faces)."""
    converted: dict[int, np.ndarray] = {}
    for image in images_bgr_uint8:
        if id(image) not in converted:
            converted[id(image)] = np.ascontiguousarray(image[:, :, ::-1])
    return [converted[id(image)] for image in images_bgr_uint8]


def rectangle(box_xyxy: np.ndarray) -> Any:
    x0, y0, x1, y1 = (int(round(float(v))) for v in box_xyxy[:4])
    return import_dlib().rectangle(x0, y0, x1, y1)


def landmarks(asset_name: str, images_bgr_uint8: Sequence[np.ndarray], boxes_xyxy: Sequence[np.ndarray]) -> list[np.ndarray]:
    """(K, 2) float32 landmarks per (image, box) pair from a dlib shape predictor asset."""
    predictor = shape_predictor(asset_name)
    return [_points(predictor(rgb, rectangle(box))) for rgb, box in zip(rgb_images(images_bgr_uint8), boxes_xyxy)]


def _points(shape: Any) -> np.ndarray:
    return np.array([[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)], np.float32)
