"""Contact sheets: a group's faces as thumbnails on one PNG (or several, past PER_SHEET faces),
each with its name and value underneath and a header line naming the group.

    group_01.png, group_01_2.png, ...   sheets of group 1; group_02.png, ... of group 2

Drawn with OpenCV's Hershey font (ASCII only). A crop that cannot be read gets a grey tile.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

THUMB = 96  # thumbnail side, pixels
COLUMNS = 15
PER_SHEET = 150  # thumbnails per sheet (10 rows of 15)
PAD = 6
LINE = 13  # height of one label line under a thumbnail
HEADER = 34
MIN_WIDTH = 720  # room for the header line on a sheet of a few faces
FONT, LABEL_SCALE, HEADER_SCALE = 0, 0.36, 0.55  # cv2.FONT_HERSHEY_SIMPLEX
BACKGROUND, TEXT, DIM = (32, 32, 32), (235, 235, 235), (150, 150, 150)


@dataclass(frozen=True)
class Tile:
    crop: Path  # the aligned crop
    name: str  # the face's name, written under it
    value: str  # its value, written under the name


def sheet_names(group: int, count: int, width: int = 2) -> list[str]:
    """File names of a group's sheets: group_01.png, group_01_2.png, ..."""
    sheets = max(1, -(-count // PER_SHEET))
    return [f"group_{group:0{width}d}{'' if part == 0 else f'_{part + 1}'}.png" for part in range(sheets)]


def write_sheets(folder: Path, group: int, header: str, tiles: Sequence[Tile], width: int = 2) -> list[str]:
    """Draw a group's tiles into ``folder`` (``header`` heads every sheet); the file names written."""
    import cv2

    names = sheet_names(group, len(tiles), width)
    for part, name in enumerate(names):
        chunk = tiles[part * PER_SHEET:(part + 1) * PER_SHEET]
        suffix = f" (sheet {part + 1} of {len(names)})" if len(names) > 1 else ""
        sheet = _sheet(f"{header}{suffix}", chunk)
        if not cv2.imwrite(str(folder / name), sheet):
            raise OSError(f"could not write {folder / name}")
    return names


def _sheet(header: str, tiles: Sequence[Tile]) -> np.ndarray:
    """(H, W, 3) uint8 BGR: the header line, then the tiles row by row."""
    import cv2

    cell_w, cell_h = THUMB + PAD, THUMB + 2 * LINE + PAD
    columns = min(COLUMNS, max(1, len(tiles)))
    rows = max(1, -(-len(tiles) // COLUMNS))
    header_width = cv2.getTextSize(header, FONT, HEADER_SCALE, 1)[0][0] + 2 * PAD
    width = max(columns * cell_w + PAD, min(MIN_WIDTH, COLUMNS * cell_w + PAD), header_width)
    sheet = np.full((HEADER + rows * cell_h + PAD, width, 3), BACKGROUND, np.uint8)
    cv2.putText(sheet, header, (PAD, HEADER - 12), FONT, HEADER_SCALE, TEXT, 1, cv2.LINE_AA)
    for i, tile in enumerate(tiles):
        x, y = PAD + (i % COLUMNS) * cell_w, HEADER + (i // COLUMNS) * cell_h
        sheet[y:y + THUMB, x:x + THUMB] = _thumbnail(tile.crop)
        _label(sheet, tile.name, x, y + THUMB + LINE - 2, TEXT)
        _label(sheet, tile.value, x, y + THUMB + 2 * LINE - 3, DIM)
    return sheet


def _thumbnail(crop: Path) -> np.ndarray:
    import cv2

    from faceswap.video.image_folder import read_image

    image = read_image(crop, rgb=False) if crop.is_file() else None
    if image is None:
        tile = np.full((THUMB, THUMB, 3), 90, np.uint8)
        cv2.putText(tile, "unreadable", (6, THUMB // 2), FONT, LABEL_SCALE, TEXT, 1, cv2.LINE_AA)
        return tile
    return cv2.resize(image, (THUMB, THUMB), interpolation=cv2.INTER_AREA)


def _label(sheet: np.ndarray, text: str, x: int, baseline: int, colour: tuple[int, int, int]) -> None:
    """``text`` under a thumbnail, shrunk to fit its width."""
    import cv2

    width = cv2.getTextSize(text, FONT, LABEL_SCALE, 1)[0][0]
    scale = LABEL_SCALE * min(1.0, THUMB / max(width, 1))
    cv2.putText(sheet, text, (x, baseline), FONT, scale, colour, 1, cv2.LINE_AA)
