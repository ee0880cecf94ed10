"""FacesWriter: a checkpoint never holds detection up, yet names only images already on disk;
crops and masks are written losslessly."""
from __future__ import annotations

import json
import threading
import time

import cv2
import numpy as np
import pytest

from faceswap.align.alignments import FILE_NAME, Alignments, SourceInfo
from faceswap.errors import UserError
from faceswap.extract import FaceFinder
from faceswap.extract.writer.output import WRITER_NICE, FacesWriter
from faceswap.video import open_reader


@pytest.fixture(scope="module")
def found(asset):
    """A real finder and the first 6 frames of the one-face clip with their faces."""
    finder = FaceFinder(progress=False)
    with open_reader(str(asset("video_single_face"))) as reader:
        frames = [frame for frame, _ in zip(reader, range(6))]
    return finder, list(finder.find(frames, prefetch=0))


def _alignments(finder) -> Alignments:
    return Alignments(source=SourceInfo(path="clip.mp4", kind="video", width=1, height=1, fps=25.0, frame_count=6, file_size=1),
                      template=finder.template, settings={"config": {}})


def _gated(finder, gate: threading.Event):
    """The finder, with crops that wait for ``gate``: a disk or encoder far slower than detection."""
    class Gated:
        template = finder.template

        def crop(self, image, face):
            assert gate.wait(20)
            return finder.crop(image, face)

        def mask(self, face, crop=None):
            return finder.mask(face, crop)
    return Gated()


def test_a_checkpoint_returns_at_once_and_is_saved_when_its_images_are(found, tmp_path):
    finder, frames = found
    assert all(len(faces) == 1 for _, faces in frames)
    gate = threading.Event()
    writer = FacesWriter(tmp_path, _alignments(finder), threads=2)
    try:
        for frame, faces in frames[:3]:
            writer.add(frame, faces, _gated(finder, gate))
        started = time.monotonic()
        writer.checkpoint({"next_frame": 3})
        assert time.monotonic() - started < 1.0  # detection goes on while the images are written
        for frame, faces in frames[3:]:
            writer.add(frame, faces, _gated(finder, gate))  # after the checkpoint: not in it
        assert not (tmp_path / FILE_NAME).exists()  # no image is on disk yet, so neither is the checkpoint
        gate.set()
        deadline = time.monotonic() + 20
        while not (tmp_path / FILE_NAME).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        saved = json.loads((tmp_path / FILE_NAME).read_text())
        assert not saved["complete"] and saved["settings"]["resume"] == {"next_frame": 3}
        assert [frame["index"] for frame in saved["frames"]] == [frame.index for frame, _ in frames[:3]]
        named = [face[key] for frame in saved["frames"] for face in frame["faces"] for key in ("face_file", "mask_file")]
        assert len(named) == 6 and all((tmp_path / name).is_file() for name in named)
        writer.finish()
    finally:
        writer.close()
    finished = json.loads((tmp_path / FILE_NAME).read_text())
    assert finished["complete"] and len(finished["frames"]) == 6 and "resume" not in finished["settings"]
    frame, faces = frames[5]
    crop, mask = finder.crop(frame.image, faces[0]), finder.mask(faces[0], finder.crop(frame.image, faces[0]))
    face_file, mask_file = (finished["frames"][5]["faces"][0][key] for key in ("face_file", "mask_file"))
    assert face_file.endswith(".jpg") and mask_file.endswith(".png")
    assert cv2.PSNR(cv2.imread(str(tmp_path / face_file)), crop) > 40  # JPEG quality 95, no chroma subsampling
    assert np.array_equal(cv2.imread(str(tmp_path / mask_file), cv2.IMREAD_UNCHANGED), mask)  # masks stay lossless


def test_png_faces_are_lossless(found, tmp_path):
    finder, frames = found
    writer = FacesWriter(tmp_path, _alignments(finder), face_format="png")
    try:
        for frame, faces in frames[:2]:
            writer.add(frame, faces, finder)
        writer.finish()
    finally:
        writer.close()
    frame, faces = frames[1]
    face_file = json.loads((tmp_path / FILE_NAME).read_text())["frames"][1]["faces"][0]["face_file"]
    assert face_file.endswith(".png")
    assert np.array_equal(cv2.imread(str(tmp_path / face_file)), finder.crop(frame.image, faces[0]))  # whatever the PNG settings


def test_a_checkpoint_whose_image_failed_is_never_saved(found, tmp_path, monkeypatch):
    import errno
    import pathlib

    finder, frames = found
    real_write = pathlib.Path.write_bytes

    def full_disk_for_crops(path, data):
        if path.parent.name == "faces":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", full_disk_for_crops)
    writer = FacesWriter(tmp_path, _alignments(finder))
    with pytest.raises(UserError, match="No space left on device"):
        try:
            for frame, faces in frames:
                writer.add(frame, faces, finder)
                writer.checkpoint({"next_frame": frame.index + 1})
            writer.finish()
        finally:
            writer.close()
    assert not (tmp_path / FILE_NAME).exists() and not list((tmp_path / "faces").iterdir())


def test_writer_threads_yield_the_cores_to_detection(found, tmp_path):
    import os

    finder, _ = found
    writer = FacesWriter(tmp_path, _alignments(finder))
    try:
        niceness = writer._pool.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result()
    finally:
        writer.close()
    assert niceness == min(19, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) + WRITER_NICE)  # 19 is the lowest
