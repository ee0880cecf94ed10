"""Masks that keep what is in front of the face, on real video through the default commands.

A clip of the sample talk with a striped mug held over the mouth (pasted, so its pixels are
known) goes through `faceswap extract`, `faceswap train` (which fits the segmenter on the way)
and `faceswap convert`, all with their defaults: the mug must come out as it went in, the
eyes must be swapped, and the band just outside the face must stay as it was.
"""
from __future__ import annotations

import numpy as np
import pytest

from _convert_media import read_frames

CLIP_FRAMES = 72
# counted in steps, not minutes, so a slower machine trains as much: about 100 s on 2 cores
TRAIN = ("--steps", "250", "--segmenter-steps", "150")
TOLERANCE = 12  # max channel difference still "unchanged": x264 noise at CRF 18 stays below


def _mug(frame_bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Paste a striped mug over the mouth, in place; returns its mask (H, W) bool."""
    import cv2

    eyes, mouth = landmarks[:2], landmarks[3:5]
    eye_distance = float(np.linalg.norm(eyes[1] - eyes[0]))
    centre = mouth.mean(axis=0) + [0.0, 0.15 * eye_distance]
    half = np.array([0.55, 0.5]) * eye_distance
    x0, y0 = np.round(centre - half).astype(int)
    x1, y1 = np.round(centre + half).astype(int)
    mask = np.zeros(frame_bgr.shape[:2], np.uint8)
    cv2.rectangle(mask, (x0, y0), (x1, y1), 1, -1)
    stripes = np.zeros_like(frame_bgr)
    stripes[:] = (40, 60, 200)  # red
    columns = np.arange(frame_bgr.shape[1])
    stripes[:, ((columns - x0) // max(2, int(0.15 * eye_distance))) % 2 == 1] = (230, 230, 235)  # white
    inside = mask.astype(bool)
    frame_bgr[inside] = stripes[inside]
    return inside


@pytest.fixture(scope="module")
def occluded_clip(tmp_path_factory, asset, extracted_faces):
    """(clip path, occluder masks (T, H, W) bool): the talk's first frames with the mug over her mouth."""
    from faceswap.align.alignments import load
    from faceswap.video import VideoWriter, open_reader

    clip = tmp_path_factory.mktemp("occluded") / "mug.mp4"
    faces = load(extracted_faces["a"]).by_frame_index()
    masks = []
    with open_reader(asset("video_wolfgang"), end=CLIP_FRAMES) as reader:
        info = reader.info
        with VideoWriter(clip, info.width, info.height, info.fps, crf=10, preset="veryfast") as writer:
            for frame in reader:
                image = frame.image.copy()
                masks.append(_mug(image, np.asarray(faces[frame.index].faces[0].landmarks, np.float64)))
                writer.write(image)
    return clip, np.stack(masks)


@pytest.fixture(scope="module")
def swapped(tmp_path_factory, occluded_clip, extracted_faces):
    from conftest import run_cli as cli

    clip, _ = occluded_clip
    work = tmp_path_factory.mktemp("occluded_run")
    steps = [("faceswap", "extract", "-i", str(clip), "-o", str(work / "faces")),
             ("faceswap", "train", "-A", str(work / "faces"), "-B", str(extracted_faces["b"]), "-m", str(work / "model"),
              *TRAIN, "--no-progress"),
             ("faceswap", "convert", "-i", str(clip), "-m", str(work / "model"), "-o", str(work / "out.mp4"),
              "--alignments", str(work / "faces"), "--no-progress")]
    for argv in steps:
        result = cli(*argv)
        assert result.returncode == 0, (argv[1], result.stderr[-2000:])
    assert "mask: segmenter" in result.stdout
    return work


def test_the_mug_stays_and_the_eyes_are_swapped(occluded_clip, swapped):
    from faceswap.align.alignments import load

    clip, mug = occluded_clip
    before = read_frames(clip).astype(np.int16)
    after = read_frames(swapped / "out.mp4").astype(np.int16)
    difference = np.abs(after - before).max(axis=3)
    unchanged = float((difference[mug] <= TOLERANCE).mean())
    assert unchanged >= 0.9, f"only {unchanged:.1%} of the mug's pixels came out unchanged"

    eyes = np.zeros_like(mug)
    for record in load(swapped / "faces").frames:
        landmarks = np.asarray(record.faces[0].landmarks, np.float64)
        radius = 0.25 * float(np.linalg.norm(landmarks[1] - landmarks[0]))
        for x, y in landmarks[:2]:
            eyes[record.index, int(y - radius):int(y + radius), int(x - radius):int(x + radius)] = True
    changed_eyes = float((difference[eyes] > TOLERANCE).mean())
    assert changed_eyes >= 0.5, f"only {changed_eyes:.1%} of the eye pixels changed: the eyes were not swapped"


def test_outside_the_face_stays(occluded_clip, swapped):
    from faceswap.evaluate.report import evaluate

    clip, _ = occluded_clip
    report = evaluate(str(swapped / "out.mp4"), reference=str(clip), segmenter_dir=str(swapped / "model" / "segmenter"))
    assert report.outside_band_changed_share <= 0.03, report.describe()
    assert report.outside_verdict == "clean"
