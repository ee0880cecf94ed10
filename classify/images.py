"""Reading an image file into the square, fixed-size array a classifier takes."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


def read_image(path: str | Path) -> np.ndarray | None:
    """HxW (grey) or HxWx3 RGB uint8, or None when the file cannot be decoded."""
    data = np.fromfile(str(path), dtype=np.uint8) if Path(path).is_file() else None
    if data is None or data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        return None
    if image.dtype != np.uint8:  # 16-bit PNG/TIFF: keep the top 8 bits
        image = (image / (np.iinfo(image.dtype).max / 255.0)).astype(np.uint8) if image.dtype.kind == "u" else None
        if image is None:
            return None
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3:
        if _is_grey(image):
            return image[:, :, 0]
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image


def _is_grey(image_bgr: np.ndarray) -> bool:
    return bool(np.array_equal(image_bgr[:, :, 0], image_bgr[:, :, 1]) and np.array_equal(image_bgr[:, :, 1], image_bgr[:, :, 2]))


def fit_square(image: np.ndarray, img_size: int, crop_ratio: float = 1.0) -> np.ndarray:
    """Resize the short side to img_size / crop_ratio, then take the centre img_size square.

    crop_ratio 0.875 is ImageNet's resize-256-crop-224; 1.0 keeps the whole short side.
    """
    height, width = image.shape[:2]
    short_side = max(img_size, round(img_size / crop_ratio))
    scale = short_side / min(height, width)
    new_width, new_height = max(img_size, round(width * scale)), max(img_size, round(height * scale))
    if (new_width, new_height) != (width, height):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (new_width, new_height), interpolation=interpolation)
    top, left = (new_height - img_size) // 2, (new_width - img_size) // 2
    return image[top:top + img_size, left:left + img_size]


def to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """HxWxC uint8 with C = channels (grey repeated to RGB, RGB averaged to grey)."""
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == channels:
        return image
    if channels == 3:
        return np.repeat(image, 3, axis=2)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None]


def prepare(image: np.ndarray, img_size: int, channels: int, crop_ratio: float = 1.0) -> np.ndarray:
    """Decoded image -> img_size x img_size x channels uint8, as the model sees it."""
    return np.ascontiguousarray(to_channels(fit_square(image, img_size, crop_ratio), channels))
