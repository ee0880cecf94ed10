"""Line charts drawn with OpenCV (matplotlib is not a dependency): learning curves."""
from __future__ import annotations

import cv2
import numpy as np

from classify.drawing import BLACK, FONT, GREY, _text

PALETTE_BGR = [(180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214), (189, 103, 148), (75, 86, 140),
               (194, 119, 227), (127, 127, 127), (34, 189, 188), (207, 190, 23)]  # matplotlib's tab10


def line_chart(series: dict[str, list[tuple[float, float]]], title: str, x_label: str, y_label: str,
               y_range: tuple[float, float] = (0.0, 1.0), size: tuple[int, int] = (480, 760)) -> np.ndarray:
    """BGR uint8 chart: one coloured line with dots per named series of (x, y), a legend on the right."""
    height, width = size
    left, right, top, bottom = 60, 250, 52, 46
    canvas = np.full((height, width, 3), 255, np.uint8)
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [x for points in series.values() for x, _ in points] or [0.0, 1.0]
    x_min, x_max = min(xs), max(max(xs), min(xs) + 1)
    y_min, y_max = y_range

    def to_pixel(x: float, y: float) -> tuple[int, int]:
        y = min(max(y, y_min), y_max)
        return (int(left + (x - x_min) / (x_max - x_min) * plot_w), int(top + (1 - (y - y_min) / (y_max - y_min)) * plot_h))

    for tick in np.linspace(y_min, y_max, 6):
        _, y = to_pixel(x_min, tick)
        cv2.line(canvas, (left, y), (left + plot_w, y), (230, 230, 230), 1)
        _text(canvas, f"{tick:.1f}", (left - 22, y), 0.4, GREY)
    for tick in sorted(set(int(round(x)) for x in np.linspace(x_min, x_max, min(int(x_max - x_min) + 1, 10)))):
        x, _ = to_pixel(tick, y_min)
        _text(canvas, str(tick), (x, top + plot_h + 14), 0.4, GREY)
    cv2.rectangle(canvas, (left, top), (left + plot_w, top + plot_h), GREY, 1)
    for index, (name, points) in enumerate(series.items()):
        colour = PALETTE_BGR[index % len(PALETTE_BGR)]
        pixels = [to_pixel(x, y) for x, y in points]
        if len(pixels) > 1:
            cv2.polylines(canvas, [np.array(pixels, np.int32)], False, colour, 2, cv2.LINE_AA)
        for pixel in pixels:
            cv2.circle(canvas, pixel, 3, colour, -1, cv2.LINE_AA)
        legend_y = top + 10 + index * 20
        cv2.line(canvas, (width - right + 12, legend_y), (width - right + 32, legend_y), colour, 3)
        cv2.putText(canvas, name[:30], (width - right + 38, legend_y + 5), FONT, 0.42, BLACK, 1, cv2.LINE_AA)
    _text(canvas, title, (width // 2, 14), 0.5, BLACK)
    _text(canvas, x_label, (left + plot_w // 2, height - 14), 0.45, GREY)
    cv2.putText(canvas, y_label, (8, top - 9), FONT, 0.45, GREY, 1, cv2.LINE_AA)
    return canvas
