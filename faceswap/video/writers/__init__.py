"""The ``video_writer`` plugin family: where converted frames go.

Every writer has the same small interface (see ``FrameWriter``)::

    writer = get("video_writer", name)(path, width, height, fps, audio_from=None,
                                       audio_start=0.0, audio_end=None, **options)
    with writer:
        writer.write(frame_bgr_uint8)

``close()`` publishes the output atomically; ``abort()`` (or an exception in the ``with``
block) leaves nothing behind. Writers without audio ignore the audio arguments.
Modules here import PyAV/OpenCV only when a writer is built.
"""
from __future__ import annotations

from faceswap.video.writers._base import FrameWriter

__all__ = ["FrameWriter"]
