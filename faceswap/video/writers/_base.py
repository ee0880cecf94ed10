"""What every ``video_writer`` plugin shares: the context-manager protocol."""
from __future__ import annotations

import numpy as np


class FrameWriter:
    """Base for writers: subclasses implement ``write``, ``close`` and ``abort``."""

    def write(self, frame_bgr_uint8: np.ndarray) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
