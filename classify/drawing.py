"""Pictures drawn with OpenCV alone: a confusion matrix and tiled image grids."""
from __future__ import annotations

import math

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE, BLACK, GREY = (255, 255, 255), (0, 0, 0), (110, 110, 110)


def _text(canvas: np.ndarray, text: str, centre: tuple[int, int], scale: float, colour, thickness: int = 1) -> None:
    (width, height), _ = cv2.getTextSize(text, FONT, scale, thickness)
    origin = (int(centre[0] - width / 2), int(centre[1] + height / 2))
    cv2.putText(canvas, text, origin, FONT, scale, colour, thickness, cv2.LINE_AA)


def _fit_label(text: str, limit: int = 10) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "~"


def _fit_width(text: str, width_px: int, scale: float) -> str:
    """The text, cut with a trailing '~' until it fits width_px."""
    while len(text) > 1 and cv2.getTextSize(text, FONT, scale, 1)[0][0] > width_px:
        text = text[:-2] + "~"
    return text


def confusion_matrix_image(confusion: np.ndarray, classes: list[str], title: str = "") -> np.ndarray:
    """BGR uint8 picture: rows are true classes, columns predicted; shade = share of the row."""
    count = len(classes)
    cell = int(np.clip(600 // max(count, 1), 28, 72))
    margin_left, margin_top = 110, 80
    size = (margin_top + cell * count + 40, margin_left + cell * count + 20)
    canvas = np.full((*size, 3), 255, np.uint8)
    row_totals = np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    shares = confusion / row_totals
    scale = min(0.5, cell / 80)
    for true_index in range(count):
        for predicted_index in range(count):
            share = shares[true_index, predicted_index]
            x0, y0 = margin_left + predicted_index * cell, margin_top + true_index * cell
            blue = (255, int(255 - 200 * share), int(255 - 230 * share))  # white -> dark blue
            cv2.rectangle(canvas, (x0, y0), (x0 + cell - 1, y0 + cell - 1), blue, -1)
            cv2.rectangle(canvas, (x0, y0), (x0 + cell - 1, y0 + cell - 1), (200, 200, 200), 1)
            _text(canvas, str(int(confusion[true_index, predicted_index])), (x0 + cell // 2, y0 + cell // 2), scale,
                  WHITE if share > 0.5 else BLACK)
    for index, name in enumerate(classes):
        _text(canvas, _fit_label(name), (margin_left // 2, margin_top + index * cell + cell // 2), scale, BLACK)
        _text(canvas, _fit_label(name, 6), (margin_left + index * cell + cell // 2, margin_top - 12), scale, BLACK)
    _text(canvas, "predicted", (margin_left + cell * count // 2, margin_top - 40), 0.5, GREY)
    _text(canvas, "true", (margin_left // 2, margin_top - 40), 0.5, GREY)
    if title:
        _text(canvas, title, (size[1] // 2, 16), 0.5, BLACK)
    return canvas


def normalise_each(tiles: np.ndarray) -> np.ndarray:
    """Stretch every tile (N, H, W[, 3]) to [0, 255] on its own, as uint8."""
    flat = tiles.reshape(len(tiles), -1).astype(np.float32)
    low, high = flat.min(axis=1, keepdims=True), flat.max(axis=1, keepdims=True)
    stretched = (flat - low) / np.maximum(high - low, 1e-8) * 255.0
    return stretched.reshape(tiles.shape).round().astype(np.uint8)


def grid(tiles_uint8: np.ndarray, tile_px: int = 48, gap: int = 2, columns: int | None = None) -> np.ndarray:
    """Tile (N, H, W) grey or (N, H, W, 3) RGB uint8 images into one BGR picture (nearest-neighbour zoom)."""
    count = len(tiles_uint8)
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    canvas = np.full((rows * (tile_px + gap) + gap, columns * (tile_px + gap) + gap, 3), 255, np.uint8)
    for index, tile in enumerate(tiles_uint8):
        if tile.ndim == 2:
            tile = np.repeat(tile[:, :, None], 3, axis=2)
        else:
            tile = tile[:, :, ::-1]  # RGB -> BGR for OpenCV
        tile = cv2.resize(np.ascontiguousarray(tile), (tile_px, tile_px), interpolation=cv2.INTER_NEAREST)
        row, column = divmod(index, columns)
        y, x = gap + row * (tile_px + gap), gap + column * (tile_px + gap)
        canvas[y:y + tile_px, x:x + tile_px] = tile
    return canvas


def write_png(path, image_bgr: np.ndarray) -> None:
    """Encode in memory, then write atomically."""
    from faceswap.errors import UserError
    from faceswap.fileio import write_bytes_atomic

    ok, encoded = cv2.imencode(".png", image_bgr)
    if not ok:
        raise UserError(f"Could not encode the picture for '{path}'.")
    write_bytes_atomic(path, encoded.tobytes())


def labelled_grid(tiles_uint8: np.ndarray, captions: list[list[str]], tile_px: int = 96, title: str = "",
                  columns: int | None = None, gap: int = 6) -> np.ndarray:
    """Like ``grid``, with lines of text under each tile and an optional title above (BGR uint8)."""
    count = len(tiles_uint8)
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    lines = max((len(c) for c in captions), default=0)
    scale = 0.35 if tile_px < 96 else 0.4
    line_px = 14 if tile_px < 96 else 16
    cell_w, cell_h = max(tile_px, 120 if lines else 0), tile_px + lines * line_px + 4
    top = 28 if title else 0
    canvas = np.full((top + rows * (cell_h + gap) + gap, columns * (cell_w + gap) + gap, 3), 255, np.uint8)
    tiles = grid(tiles_uint8, tile_px=tile_px, gap=0, columns=1) if count else None
    for index in range(count):
        row, column = divmod(index, columns)
        y, x = top + gap + row * (cell_h + gap), gap + column * (cell_w + gap)
        left = x + (cell_w - tile_px) // 2
        canvas[y:y + tile_px, left:left + tile_px] = tiles[index * tile_px:(index + 1) * tile_px]
        for number, text in enumerate(captions[index] if index < len(captions) else []):
            _text(canvas, _fit_width(text, cell_w - 2, scale), (x + cell_w // 2, y + tile_px + 8 + number * line_px),
                  scale, BLACK)
    if title:
        _text(canvas, title, (canvas.shape[1] // 2, 14), 0.45, BLACK)
    return canvas
