"""The quality report on real media: a video against itself, and one with a visible seam."""
from __future__ import annotations

import numpy as np
import pytest

from faceswap.convert.evaluate import evaluate

FRAMES = 24


@pytest.fixture(scope="module")
def clips(tmp_path_factory, asset):
    """The first frames of single_face.mp4 re-encoded, and the same frames with a hard-edged
    brightened face pasted in (a seam along the face outline)."""
    from faceswap.align.transform import transform_points, warp_to_crop
    from faceswap.convert.blend import landmark_mask, paste_face
    from faceswap.extract import FaceFinder
    from faceswap.video import VideoWriter, open_reader

    root = tmp_path_factory.mktemp("evaluate")
    plain, seamed = root / "plain.mp4", root / "seamed.mp4"
    finder = FaceFinder(select="all")
    with open_reader(asset("video_single_face"), end=FRAMES) as reader:
        info = reader.info
        with VideoWriter(plain, info.width, info.height, info.fps, preset="veryfast") as plain_out, \
                VideoWriter(seamed, info.width, info.height, info.fps, preset="veryfast") as seamed_out:
            for frame, faces in finder.find(reader):
                plain_out.write(frame.image)
                image = frame.image.copy()
                for face in faces:
                    size = finder.template.size
                    crop = warp_to_crop(frame.image, face.matrix, size)
                    brighter = np.clip(crop.astype(int) + 45, 0, 255).astype(np.uint8)
                    mask = landmark_mask(finder.template, size, transform_points(face.landmarks, face.matrix))
                    paste_face(image, brighter, (mask > 0.5).astype(np.float32), face.matrix)
                seamed_out.write(image)
    return plain, seamed


def test_a_video_against_itself_is_unchanged_everywhere(clips):
    plain, _ = clips
    report = evaluate(str(plain), reference=str(plain))
    assert report.frames == FRAMES
    assert report.face_detected_share == 1.0
    assert report.unchanged_share == 1.0 and report.away_mean_abs_diff == 0.0
    assert report.seam_color_step == report.seam_gradient_ratio == 0.0  # measured on the change: none
    assert 0 <= report.landmark_jitter < 5.0  # a talking head, smoothed landmarks: small accelerations
    alone = evaluate(str(plain))  # without a reference the scores are taken on the picture itself
    assert alone.unchanged_share is None and alone.landmark_jitter == pytest.approx(report.landmark_jitter)
    assert 0.3 < alone.seam_gradient_ratio < 3.0 and alone.seam_color_step >= 0


def test_a_hard_pasted_face_shows_as_a_seam_but_leaves_the_background(clips):
    plain, seamed = clips
    report = evaluate(str(seamed), reference=str(plain))
    assert report.face_detected_share >= 0.9
    assert report.seam_color_step > 10  # the +45 step along the outline, in Lab units
    assert report.seam_gradient_ratio > 2.0  # the change jumps at the outline instead of fading
    assert report.unchanged_share > 0.99
    text = report.describe()
    assert "seam colour step" in text and "unchanged" in text


def test_evaluate_cli_prints_json(capsys, clips):
    import json

    from faceswap.cli.main import main

    plain, _ = clips
    assert main(["evaluate", str(plain), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames"] == FRAMES and report["reference"] is None and report["face_detected_share"] == 1.0


def test_evaluate_cli_missing_video_is_one_line(capsys, tmp_path):
    from faceswap.cli.main import main

    assert main(["evaluate", str(tmp_path / "missing.mp4")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "missing.mp4" in err


def test_reference_start_lines_a_trimmed_output_up_with_its_source(clips, asset):
    plain, _ = clips  # frames 0..23 of single_face.mp4
    source = str(asset("video_single_face"))
    aligned = evaluate(str(plain), reference=source, reference_start=0)
    shifted = evaluate(str(plain), reference=source, reference_start=12)
    assert aligned.frames == shifted.frames == FRAMES
    assert aligned.unchanged_share > 0.999 and aligned.face_detected_share == 1.0
    assert shifted.away_mean_abs_diff > 2 * aligned.away_mean_abs_diff
