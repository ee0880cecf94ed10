"""Video I/O on PyAV: stream frames in from a video, an image folder or one image; encode H.264
with the source's audio out.

    from faceswap.video import open_reader, VideoInfo, Frame, VideoWriter

    with open_reader("in.mp4", start=100, end=250) as reader:
        with VideoWriter("out.mp4", reader.info.width, reader.info.height, reader.info.fps,
                         audio_from="in.mp4", audio_start=100 / reader.info.fps) as writer:
            for frame in reader:
                writer.write(frame.image)

Names resolve lazily so that importing the package (e.g. for the ``video_writer`` plugins)
does not load PyAV or OpenCV.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from faceswap.lazy import lazy_getattr

if TYPE_CHECKING:
    from faceswap.video.info import Frame, VideoInfo
    from faceswap.video.reader import open_reader
    from faceswap.video.writer import VideoWriter

_EXPORTS = {
    "open_reader": "faceswap.video.reader",
    "VideoInfo": "faceswap.video.info",
    "Frame": "faceswap.video.info",
    "VideoWriter": "faceswap.video.writer",
}

__all__ = list(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
