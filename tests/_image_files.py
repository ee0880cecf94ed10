"""Test helper (no tests here): whether an image file on disk is whole, not cut short by a kill or a full disk."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def is_whole_image(path: Path) -> bool:
    """A PNG or JPEG that decodes; a JPEG must also end with its end-of-image marker, because
    libjpeg decodes a truncated file with a warning (the missing rows come out grey)."""
    data = Path(path).read_bytes()
    if Path(path).suffix.lower() in (".jpg", ".jpeg") and not data.rstrip(b"\0").endswith(b"\xff\xd9"):
        return False
    return bool(data) and cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) is not None
