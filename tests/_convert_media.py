"""Helpers for the convert tests: read frames, stream facts and audio of real media files."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def read_frames(path: str | Path, start: int = 0, end: int | None = None) -> np.ndarray:
    from faceswap.video import open_reader

    with open_reader(path, start=start, end=end) as reader:
        return np.stack([frame.image for frame in reader])


def video_facts(path: str | Path) -> dict:
    """Frame count (decoded), average fps and audio duration in seconds (None without audio)."""
    import av

    with av.open(str(path)) as container:
        video = container.streams.video[0]
        fps = float(video.average_rate)
        frames = sum(1 for _ in container.decode(video=0))
    rate, samples = audio_samples(path)
    return {"frames": frames, "fps": fps, "audio_seconds": None if samples is None else len(samples) / rate}


def reader_fps(path: str | Path) -> float:
    """The frame rate our reader reports (from the frame intervals, not the container's average)."""
    from faceswap.video import open_reader

    with open_reader(path) as reader:
        return reader.info.fps


def audio_samples(path: str | Path) -> tuple[int, np.ndarray | None]:
    """(sample rate, mono float32 samples) of the first audio stream, from its first sample on."""
    import av

    with av.open(str(path)) as container:
        if not container.streams.audio:
            return 0, None
        stream = container.streams.audio[0]
        chunks, rate = [], stream.rate
        for frame in container.decode(audio=0):
            data = frame.to_ndarray().astype(np.float32)
            if frame.format.is_planar:
                data = data.mean(axis=0)
            else:
                data = data.reshape(-1, frame.layout.nb_channels if hasattr(frame.layout, "nb_channels") else len(frame.layout.channels)).mean(axis=1)
            chunks.append(data)
    return rate, np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


def audio_offset(output: str | Path, source: str | Path, expected_start: float, search: float = 0.5) -> float:
    """Where in the source's audio the output's first second of sound sits (seconds): the lag
    of best normalised cross-correlation within ``search`` seconds of ``expected_start``."""
    rate, out = audio_samples(output)
    source_rate, src = audio_samples(source)
    assert rate == source_rate
    clip = out[:rate]
    clip = (clip - clip.mean()) / (clip.std() + 1e-12)
    best_lag, best_score = 0, -np.inf
    centre = int(expected_start * rate)
    for lag in range(max(0, centre - int(search * rate)), min(len(src) - len(clip), centre + int(search * rate)) + 1, 8):
        window = src[lag:lag + len(clip)]
        score = float(np.dot(window - window.mean(), clip)) / (window.std() * len(clip) + 1e-12)
        if score > best_score:
            best_lag, best_score = lag, score
    return best_lag / rate


def face_regions(alignments, frame_indices: list[int], shape: tuple[int, int], grow: float = 0.15) -> np.ndarray:
    """(N, H, W) bool: the aligned-crop squares of every face of those frames, grown a little."""
    import cv2

    from faceswap.align.transform import crop_box

    by_index = alignments.by_frame_index()
    regions = np.zeros((len(frame_indices), *shape), np.uint8)
    for n, index in enumerate(frame_indices):
        for face in by_index[index].faces:
            corners = crop_box(face.matrix_array(), alignments.template.size)
            centre = corners.mean(axis=0)
            cv2.fillPoly(regions[n], [np.round(centre + (corners - centre) * (1 + grow)).astype(np.int32)], 1)
    return regions.astype(bool)


def face_centres(alignments, frame_indices: list[int], shape: tuple[int, int]) -> np.ndarray:
    """(N, H, W) bool: the middle of each face (the template outline shrunk to its inner half)."""
    import cv2

    from faceswap.align.transform import invert, transform_points

    by_index = alignments.by_frame_index()
    template = alignments.template
    outline = template.face_outline(template.size)
    centre = outline.mean(axis=0)
    inner = centre + (outline - centre) * 0.5
    regions = np.zeros((len(frame_indices), *shape), np.uint8)
    for n, index in enumerate(frame_indices):
        for face in by_index[index].faces:
            polygon = transform_points(inner, invert(face.matrix_array()))
            cv2.fillPoly(regions[n], [np.round(polygon).astype(np.int32)], 1)
    return regions.astype(bool)


def plain_reencode(source: str | Path, output: str | Path, start: int = 0, end: int | None = None, preset: str = "veryfast") -> None:
    """The input decoded and encoded again with the writer convert uses, nothing else done."""
    from faceswap.video import VideoWriter, open_reader

    with open_reader(source, start=start, end=end) as reader:
        info = reader.info
        with VideoWriter(output, info.width, info.height, info.fps, preset=preset) as writer:
            for frame in reader:
                writer.write(frame.image)


def two_people_clip(woman_video: str | Path, man_video: str | Path, path: str | Path, half: int = 72, width: int = 640) -> None:
    """woman | man for ``half`` frames, then man | woman (a cut that swaps their sides): each side
    ``width`` x 360, H.264. Used to check that a person is found again by their face alone."""
    import av
    import cv2

    from faceswap.video import open_reader

    def frames(video, count: int) -> list[np.ndarray]:
        with open_reader(video) as reader:
            return [cv2.resize(frame.image, (width, 360)) for frame, _ in zip(reader, range(count))]

    man, woman = frames(man_video, half), frames(woman_video, 2 * half)
    pictures = [np.hstack([woman[i], man[i % len(man)]]) for i in range(half)]
    pictures += [np.hstack([man[i % len(man)], woman[half + i]]) for i in range(half)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"crf": "16", "preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 2 * width, 360, "yuv420p"
        for picture in pictures:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")))
        container.mux(stream.encode())
