"""The quality report on real media: a video against itself, one with a visible seam, and the
verdicts on faces pasted back with a feathered, a hard and a too-large mask (the calibration
cases: `python tests/test_evaluate.py` prints their numbers)."""
from __future__ import annotations

import numpy as np
import pytest

from faceswap.evaluate.report import evaluate

FRAMES = 24


@pytest.fixture(scope="module")
def clips(tmp_path_factory, asset):
    """The first frames of single_face.mp4 re-encoded, and the same frames with a hard-edged
    brightened face pasted in (a seam along the face outline)."""
    from faceswap.align.transform import transform_points, warp_to_crop
    from faceswap.align.mask import outline_mask
    from faceswap.convert.blend import paste_face
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
                    mask = outline_mask(transform_points(face.landmarks, face.matrix), finder.template, size)
                    paste_face(image, brighter, (mask > 127).astype(np.float32), face.matrix)
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


# --- Verdicts, calibrated on real cases -------------------------------------------------------
# The first frames of the wolfgang sample with each face replaced by a colour-shifted copy of
# itself, pasted with one of several masks; `python tests/test_evaluate.py` prints the numbers
# (for these, a few more cases and the single_face sample) that the thresholds in
# faceswap/evaluate/report.py were chosen from.

CALIBRATION_FRAMES = 24
SHIFT_BGR = (-12, 8, 30)  # warmer and a little brighter: every pasted pixel moves by 30 > the tolerance
PASTES = {  # case -> (how the mask is made, the colour shift)
    "untouched": (None, (0, 0, 0)),  # re-encoded only
    "feathered": ("feathered", SHIFT_BGR),
    "hard": ("hard", SHIFT_BGR),
    "halo": ("halo", SHIFT_BGR),
}
EXTRA_PASTES = {  # printed by the calibration script only
    "hard, subtle shift": ("hard", (-4, 3, 10)),
    "feathered, strong shift": ("feathered", (-30, 20, 75)),
    "narrow feather": ("narrow", SHIFT_BGR),
    "convert default mask": ("convert", SHIFT_BGR),
}


def paste_mask(kind: str, outline_uint8: np.ndarray) -> np.ndarray:
    """(S, S) float32 blend mask in crop pixels from the face outline mask: eroded and feathered
    inside the outline, hard, grown well past it (a halo), or convert's default feathering."""
    import cv2

    size = outline_uint8.shape[0]
    binary = (outline_uint8 > 127).astype(np.float32)

    def disc(percent: float) -> np.ndarray:
        radius = int(round(percent / 100 * size))
        return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))

    def feather(mask: np.ndarray, percent: float) -> np.ndarray:
        radius = int(round(percent / 100 * size))
        return cv2.GaussianBlur(mask, (2 * radius + 1, 2 * radius + 1), 0)

    if kind == "hard":
        return binary
    if kind == "feathered":  # the ramp (6% wide) lies wholly inside the outline
        return feather(cv2.erode(binary, disc(6)), 6)
    if kind == "narrow":  # a feather 1% wide just inside the outline
        return feather(cv2.erode(binary, disc(1)), 1)
    if kind == "halo":  # 12% of the crop past the outline, then feathered
        return feather(cv2.dilate(binary, disc(12)), 6)
    if kind == "convert":
        from faceswap.convert.blend import feathered_mask
        from faceswap.convert.config import ConvertConfig

        defaults = ConvertConfig()
        return feathered_mask(binary, defaults.erode, defaults.blur)
    raise ValueError(kind)


def build_pasted_clips(root, source, cases: dict, frames: int = CALIBRATION_FRAMES) -> dict:
    """case -> clip path: the first ``frames`` of ``source`` with every face replaced as the case says."""
    from faceswap.align.mask import outline_mask
    from faceswap.align.transform import transform_points, warp_to_crop
    from faceswap.convert.blend import paste_face
    from faceswap.extract import FaceFinder
    from faceswap.video import VideoWriter, open_reader

    finder = FaceFinder(select="all")
    template = finder.template
    paths = {case: root / f"{case.replace(' ', '_').replace(',', '')}.mp4" for case in cases}
    with open_reader(source, end=frames) as reader:
        info = reader.info
        writers = {case: VideoWriter(paths[case], info.width, info.height, info.fps, preset="veryfast") for case in cases}
        try:
            for frame, faces in finder.find(reader):
                for case, (kind, shift) in cases.items():
                    image = frame.image.copy()
                    for face in faces if kind else []:
                        crop = warp_to_crop(frame.image, face.matrix, template.size)
                        shifted = np.clip(crop.astype(np.int16) + np.array(shift, np.int16), 0, 255).astype(np.uint8)
                        outline = outline_mask(transform_points(face.landmarks, face.matrix), template, template.size)
                        paste_face(image, shifted, paste_mask(kind, outline), face.matrix)
                    writers[case].write(image)
        finally:
            for writer in writers.values():
                writer.close()
    return paths


def calibration_row(case: str, report, alone) -> str:
    return (f"{case:22s} step {report.seam_color_step:6.2f}  ratio {report.seam_gradient_ratio:5.2f}  "
            f"outside {100 * report.outside_band_changed_share:6.2f}%  -> {report.seam_verdict} / {report.outside_verdict} "
            f"/ {report.verdict}   (alone: step {alone.seam_color_step:5.2f} ratio {alone.seam_gradient_ratio:4.2f} "
            f"-> {alone.seam_verdict})")


@pytest.fixture(scope="module")
def pasted(tmp_path_factory, asset):
    source = asset("video_wolfgang")
    return source, build_pasted_clips(tmp_path_factory.mktemp("pasted"), source, PASTES)


def test_the_untouched_clip_is_clean_everywhere(pasted):
    source, clips = pasted
    report = evaluate(str(clips["untouched"]), reference=str(source))  # re-encoded: only x264 noise
    assert report.frames == CALIBRATION_FRAMES and report.face_detected_share == 1.0
    assert report.outside_band_changed_share <= 0.01
    assert (report.seam_verdict, report.outside_verdict, report.verdict) == ("clean", "clean", "clean")
    assert report.outside_band_mask == "outline"


def test_a_feathered_paste_inside_the_face_leaves_the_outside_band_clean(pasted):
    source, clips = pasted
    report = evaluate(str(clips["feathered"]), reference=str(source))
    assert report.seam_verdict in ("clean", "visible")
    assert report.outside_verdict == "clean" and report.outside_band_changed_share <= 0.03
    assert report.verdict in ("clean", "visible")


def test_a_hard_paste_is_a_hard_edge(pasted):
    source, clips = pasted
    report = evaluate(str(clips["hard"]), reference=str(source))
    assert report.seam_verdict == "hard edge" and report.verdict == "hard edge"
    text = report.describe()
    assert "verdict: hard edge" in text and "gradient ratio" in text.split("verdict:")[1]


def test_a_halo_changes_the_band_outside_the_face(pasted):
    source, clips = pasted
    report = evaluate(str(clips["halo"]), reference=str(source))
    assert report.outside_band_changed_share > 0.2  # well above the 3% the band may change
    assert report.outside_verdict == "changed" and report.verdict in ("changed", "hard edge")
    assert "outside" in report.verdict_reasons and "halo" in report.verdict_reasons["outside"]


@pytest.fixture(scope="module")
def segmenter_everywhere(tmp_path_factory):
    """A real segmenter folder (the registry's small tiramisu, untrained) whose last layer says
    "face" everywhere: its face region is its whole crop (a 128 px Template), so the band lies
    outside the crop, beyond the halo clip's change."""
    import torch

    from faceswap.align.template import Template
    from faceswap.registry import get
    from faceswap.segment import folder as segmenter_files

    model = get("segmenter", "tiramisu")()
    with torch.no_grad():
        model.to_logits.weight.zero_()
        model.to_logits.bias.fill_(10.0)
    out = tmp_path_factory.mktemp("segmenter")
    segmenter_files.write_info(out, "tiramisu", model, Template(size=128), steps=0)
    segmenter_files.save_weights(out, model)
    return out


def test_the_segmenter_draws_the_face_region_when_given(pasted, segmenter_everywhere):
    source, clips = pasted
    report = evaluate(str(clips["halo"]), reference=str(source), segmenter_dir=str(segmenter_everywhere))
    assert report.outside_band_mask == str(segmenter_everywhere)
    assert report.outside_band_changed_share < 0.03 and report.outside_verdict == "clean"  # outline: 63%
    assert str(segmenter_everywhere) in report.describe()


def test_evaluate_cli_prints_verdicts_in_text_and_json(capsys, clips):
    import json

    from faceswap.cli.main import main

    plain, seamed = clips
    assert main(["evaluate", str(seamed), "--reference", str(plain)]) == 0
    text = capsys.readouterr().out
    assert "verdict: hard edge" in text and "seam: hard edge" in text and "outside: clean" in text
    assert "changed just outside the face" in text
    assert main(["evaluate", str(seamed), "--reference", str(plain), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == report["seam_verdict"] == "hard edge" and report["outside_verdict"] == "clean"
    assert report["outside_band_changed_share"] <= 0.01 and set(report["verdict_reasons"]) == {"seam", "outside"}


@pytest.mark.parametrize("argv", [["--tolerance", "-1"], ["--tolerance", "256"], ["--segmenter", "no_such_folder"],
                                  ["--reference-start", "100000"], ["--reference-start", "-3"]])
def test_evaluate_cli_bad_options_are_one_line(capsys, clips, argv):
    from faceswap.cli.main import main

    plain, _ = clips
    assert main(["evaluate", str(plain), "--reference", str(plain), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and argv[1] in err


def test_without_a_reference_only_a_lost_face_is_judged(clips, tmp_path):
    from faceswap.errors import UserError

    plain, _ = clips
    report = evaluate(str(plain))
    assert report.seam_verdict is None and report.outside_verdict is None and report.verdict == "n/a"
    assert "reference" in report.verdict_reasons["seam"]
    with pytest.raises(UserError, match="--reference"):  # the segmenter only draws the band, measured against one
        evaluate(str(plain), segmenter_dir=str(tmp_path))


if __name__ == "__main__":  # the calibration table behind the verdict thresholds
    import tempfile
    from pathlib import Path

    from faceswap import assets

    second = {"untouched": PASTES["untouched"], "feathered": PASTES["feathered"], "hard +45": ("hard", (45, 45, 45)),
              "halo": PASTES["halo"]}
    for name, cases in (("video_wolfgang", {**PASTES, **EXTRA_PASTES}), ("video_single_face", second)):
        source = assets.ensure(name)
        print(name)
        with tempfile.TemporaryDirectory() as folder:
            for case, path in build_pasted_clips(Path(folder), source, cases).items():
                print(calibration_row(case, evaluate(str(path), reference=str(source)), evaluate(str(path))))


def test_an_odd_sized_source_and_its_even_padded_encode_are_compared(asset, tmp_path):
    """H.264 output of a 175x143 source is 176x144 (convert pads by repeating the edge); evaluate crops the padding off."""
    import av
    import cv2

    from faceswap.evaluate.report import evaluate
    from faceswap.video import open_reader
    from faceswap.video.writer import VideoWriter

    source, output = tmp_path / "odd.mkv", tmp_path / "even.mp4"
    with open_reader(asset("video_single_face")) as reader:
        pictures = [cv2.resize(frame.image, (175, 143), interpolation=cv2.INTER_AREA) for frame, _ in zip(reader, range(8))]
    with av.open(str(source), "w") as container:
        stream = container.add_stream("ffv1", rate=24)
        stream.width, stream.height, stream.pix_fmt = 175, 143, "bgr0"
        for picture in pictures:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")))
        container.mux(stream.encode())
    with VideoWriter(output, 175, 143, 24, crf=12) as writer:
        for picture in pictures:
            writer.write(picture)
    with open_reader(output) as reader:
        assert (reader.info.width, reader.info.height) == (176, 144)
    report = evaluate(str(output), reference=str(source), quality_frames=0)
    assert report.frames == 8 and report.unchanged_share > 0.95
