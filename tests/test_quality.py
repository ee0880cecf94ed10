"""The quality numbers of evaluate on real media: the first frames of WolfgangLanger_Pexels.mp4
(person A) untouched, blurred, with person B's own faces (single_face.mp4) pasted onto A's
landmarks (a classical, perfect-identity swap), that paste blurred, and A's face turned in the
image plane. Each metric must tell the swap from no swap and from a blurred copy.

`python tests/test_quality.py [--frames N] [--samples N] [--swapped VIDEO]` prints the figures
behind the thresholds in faceswap/evaluate/quality.py (the docstring's table: --frames 472
--samples 48 --swapped /path/to/demo/swapped.mp4).
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dlib", reason="the quality numbers need dlib: pip install 'faceswap-studio[identity]'")

from faceswap.evaluate import quality  # noqa: E402
from faceswap.evaluate.report import evaluate  # noqa: E402

FRAMES = 24  # of A: her eyes are closed and her mouth shut in these, B's are open
SAMPLES = 8  # frames sampled for the descriptor and the 68 points, and B's faces
BLUR_SIGMA = 4.0  # frame pixels; about what a 64 px model's output looks like at this face size
ROLL_DEGREES = 15.0


def blur(image: np.ndarray, sigma: float = BLUR_SIGMA) -> np.ndarray:
    import cv2

    return cv2.GaussianBlur(image, (0, 0), sigma)


def paste_crop(image: np.ndarray, face, crop: np.ndarray, template) -> np.ndarray:
    """``crop`` (aligned like ``face``) pasted over the face with convert's default feathered outline mask."""
    from faceswap.align.mask import outline_mask
    from faceswap.align.transform import transform_points
    from faceswap.convert.blend import feathered_mask, paste_face
    from faceswap.convert.config import ConvertConfig

    out = image.copy()
    outline = outline_mask(transform_points(face.landmarks, face.matrix), template, template.size)
    defaults = ConvertConfig()
    paste_face(out, crop, feathered_mask(outline.astype(np.float32) / 255.0, defaults.erode, defaults.blur), face.matrix)
    return out


def case_image(case: str, image: np.ndarray, faces: list, b_image: np.ndarray, b_face, template) -> np.ndarray:
    import cv2

    from faceswap.align.transform import warp_to_crop

    if case == "untouched":
        return image
    if case == "blurred":
        return blur(image)
    if case == "blurred lightly":  # calibration only
        return blur(image, BLUR_SIGMA / 2)
    for face in faces:
        if case in ("paste of B", "paste of B, blurred"):
            image = paste_crop(image, face, warp_to_crop(b_image, b_face.matrix, template.size), template)
        elif case == "turned":
            crop = warp_to_crop(image, face.matrix, template.size)
            centre = tuple(template.points().mean(axis=0).tolist())
            turned = cv2.warpAffine(crop, cv2.getRotationMatrix2D(centre, ROLL_DEGREES, 1.0), crop.shape[1::-1],
                                    borderMode=cv2.BORDER_REPLICATE)
            image = paste_crop(image, face, turned, template)
    return blur(image) if case.endswith("blurred") else image


CASES = ("untouched", "blurred", "paste of B", "paste of B, blurred", "turned")


def build_clips(root, source_a, source_b, cases=CASES, frames: int = FRAMES) -> dict:
    """case -> clip path: the first ``frames`` of A, each made as the case says (B's frames cycle)."""
    from faceswap.extract import FaceFinder
    from faceswap.video import VideoWriter, open_reader

    with open_reader(source_b, end=frames) as reader:
        b_frames = [(frame.image, faces[0]) for frame, faces in FaceFinder(select="largest").find(reader) if faces]
    finder = FaceFinder(select="all")
    paths = {case: root / f"{case.replace(' ', '_').replace(',', '')}.mp4" for case in cases}
    with open_reader(source_a, end=frames) as reader:
        info = reader.info
        writers = {case: VideoWriter(paths[case], info.width, info.height, info.fps, preset="veryfast") for case in cases}
        try:
            for position, (frame, faces) in enumerate(finder.find(reader)):
                b_image, b_face = b_frames[position % len(b_frames)]
                for case in cases:
                    writers[case].write(case_image(case, frame.image, faces, b_image, b_face, finder.template))
        finally:
            for writer in writers.values():
                writer.close()
    return paths


@pytest.fixture(scope="module")
def clips(tmp_path_factory, asset):
    return build_clips(tmp_path_factory.mktemp("quality"), asset("video_wolfgang"), asset("video_single_face"))


@pytest.fixture(scope="module")
def reports(clips, asset):
    """case -> quality report of its clip against A, with B = single_face.mp4."""
    asset("dlib_landmarks68")  # opt-in for users; the tests fetch it by name
    source_a, source_b = asset("video_wolfgang"), asset("video_single_face")
    return {case: evaluate(str(path), reference=str(source_a), person_b=str(source_b), quality_frames=SAMPLES).quality
            for case, path in clips.items()}


def test_identity_tells_the_swap_from_no_swap_and_from_a_blurred_copy(reports):
    assert reports["paste of B"].identity.transfer >= quality.IDENTITY_TRANSFERRED
    assert reports["paste of B"].verdicts["identity"] == "transferred"
    assert reports["paste of B, blurred"].identity.transfer >= quality.IDENTITY_TRANSFERRED  # blur does not hide who it is
    for case in ("untouched", "blurred", "turned"):
        assert reports[case].identity.transfer == 0.0 and reports[case].verdicts["identity"] == "not transferred", case
    untouched, pasted = reports["untouched"], reports["paste of B"]
    assert untouched.identity.distance_a < 0.6 < untouched.identity.distance_b
    assert pasted.identity.distance_b < 0.6 < pasted.identity.distance_a
    assert pasted.identity.a_to_b > 0.6 and pasted.sampled_frames == SAMPLES


def test_expression_is_kept_by_a_blurred_copy_but_not_by_other_faces_or_a_turned_head(reports):
    untouched, blurred = reports["untouched"], reports["blurred"]
    assert untouched.expression.landmark_error < 0.01 and untouched.expression.eyes_agreement == untouched.expression.mouth_agreement == 1.0
    assert blurred.expression.landmark_error < quality.LANDMARK_ERROR_KEPT
    assert untouched.verdicts["expression"] == blurred.verdicts["expression"] == "kept"
    pasted = reports["paste of B"]  # B's eyes are open where A's are closed
    assert pasted.expression.eyes_agreement < quality.STATE_AGREEMENT_KEPT and pasted.verdicts["expression"] == "changed"
    assert reports["turned"].expression.landmark_error > quality.LANDMARK_ERROR_KEPT and reports["turned"].verdicts["expression"] == "changed"


def test_the_report_names_an_expression_that_b_never_shows(reports):
    pasted = reports["paste of B"]  # her closed eyes against B's faces, whose eyes are open
    reference, person_b = pasted.expression.reference_states, pasted.expression.person_b_states
    assert reference.eyes_closed >= quality.STATE_SHOWN and person_b.faces == SAMPLES and person_b.eyes_closed < quality.STATE_SHOWN
    assert "add footage of B with closed eyes" in pasted.reasons["expression"]
    assert "--blink" in pasted.reasons["expression"]  # the training option for eyes B's footage lacks
    assert "add footage" not in reports["untouched"].reasons["expression"]  # kept: nothing to explain


def _landmarks(eye_ratio: float, mouth_ratio: float) -> np.ndarray:
    """68 points whose eye and inner-mouth aspect ratios are the given ones (the rest at the origin)."""
    points = np.zeros((68, 2), np.float32)
    for first, left in ((36, 0.0), (42, 2.0)):  # corners 1 apart, two lids each eye_ratio / 2 from the middle
        points[first:first + 6] = [(left, 0), (left + 0.3, -eye_ratio / 2), (left + 0.6, -eye_ratio / 2), (left + 1, 0),
                                   (left + 0.6, eye_ratio / 2), (left + 0.3, eye_ratio / 2)]
    points[60], points[64] = (0, 5), (1, 5)
    for top, bottom, x in ((61, 67, 0.25), (62, 66, 0.5), (63, 65, 0.75)):
        points[top], points[bottom] = (x, 5 - mouth_ratio / 2), (x, 5 + mouth_ratio / 2)
    return points


def test_state_shares_count_only_clear_states():
    from faceswap.evaluate.quality_sampler import state_shares

    closed, open_, unsure = _landmarks(0.05, 0.0), _landmarks(0.3, 0.3), _landmarks(quality.EYES_CLOSED_RATIO, quality.MOUTH_OPEN_RATIO)
    shares = state_shares([closed, open_, unsure, open_])
    assert (shares.faces, shares.eyes_closed, shares.eyes_open, shares.mouth_closed, shares.mouth_open) == (4, 0.25, 0.5, 0.25, 0.5)
    assert state_shares([]) is None
    score = quality.ExpressionScore(0.08, 0.5, 0.95, reference_states=shares, person_b_states=state_shares([open_] * 20))
    assert quality.missing_in_person_b(score) == [("eyes_closed", "closed eyes"), ("mouth_closed", "closed mouth")]
    assert "closed eyes in 0% of B's 20 faces against 25% of the reference's frames" in quality.expression_verdict(score)[1]


def test_pose_is_kept_by_the_swap_and_changed_by_a_turned_head(reports):
    for case in ("untouched", "blurred", "paste of B"):
        assert reports[case].verdicts["pose"] == "kept", (case, reports[case].pose.difference)
    assert max(reports["untouched"].pose.difference) < 1.0
    yaw, pitch, roll = reports["turned"].pose.difference
    assert roll == max(yaw, pitch, roll) > quality.POSE_KEPT_DEGREES and reports["turned"].verdicts["pose"] == "changed"


def test_sharpness_tells_kept_detail_from_a_blurred_copy(reports):
    assert reports["untouched"].sharpness.kept > 0.8 and reports["untouched"].verdicts["sharpness"] == "sharp"
    assert reports["paste of B"].sharpness.kept > 0.1  # B's own detail, upscaled to A's larger face
    for case in ("blurred", "paste of B, blurred"):
        assert reports[case].sharpness.kept < 0.5 * quality.SHARPNESS_SHARP and reports[case].verdicts["sharpness"] == "blurred"
    assert reports["paste of B"].sharpness.kept > 3 * reports["paste of B, blurred"].sharpness.kept


def test_overall_quality_verdict(reports):
    assert reports["untouched"].verdict == "poor"  # not swapped at all
    assert reports["paste of B, blurred"].verdict == "poor" and reports["paste of B, blurred"].verdicts["identity"] == "transferred"
    assert reports["paste of B"].verdicts.keys() == {"identity", "expression", "pose", "sharpness"}


def test_the_report_says_how_to_enable_what_it_could_not_measure(clips, monkeypatch):
    """Without B and without the opt-in 68-point model: pose and sharpness still work, and the
    reasons say how to get identity and expression."""
    from faceswap.evaluate import quality_sampler

    source = clips["untouched"]
    monkeypatch.setattr(quality_sampler, "_cached", lambda name: False)  # as on a machine that never fetched it
    report = evaluate(str(source), reference=str(source), quality_frames=4)
    assert report.quality.expression is None and report.quality.identity is None
    assert report.quality.sharpness.kept == pytest.approx(1.0) and max(report.quality.pose.difference) == 0.0
    reasons = report.quality.reasons
    assert reasons["expression"].startswith("n/a: run `faceswap assets fetch dlib_landmarks68`") and "--person-b" in reasons["identity"]
    assert report.quality.verdict == "good" and "judged on pose, sharpness" in report.describe()
    text = report.describe()
    assert "quality" in text and "dlib_landmarks68" in text and "sharpness: sharp" in text


def test_evaluate_cli_quality_options(capsys, tmp_path, clips, asset):
    import json

    from faceswap.cli.main import main

    source, person_b = clips["untouched"], asset("image_multi_face")
    assert main(["evaluate", str(source), "--reference", str(source), "--person-b", str(person_b),
                 "--quality-frames", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["quality"]["person_b"] == str(person_b) and report["quality"]["sampled_frames"] == 2
    assert report["quality"]["verdicts"]["identity"] == "not transferred"
    assert main(["evaluate", str(source), "--quality-frames", "0", "--reference", str(source), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["quality"] is None
    for argv, says in ((["--person-b", str(person_b)], "--reference"), (["--reference", str(source), "--quality-frames", "-1"], "--quality-frames"),
                       (["--reference", str(source), "--model", str(tmp_path)], "train_config.json"),
                       (["--reference", str(source), "--person-b", str(tmp_path / "nobody")], "nobody")):
        assert main(["evaluate", str(source), *argv]) != 0
        err = capsys.readouterr().err.strip()
        assert says in err and "\n" not in err and "Traceback" not in err, err


def test_the_demo_ends_with_the_quality_verdict(clips, asset, tmp_path, monkeypatch):
    from faceswap import demo
    from faceswap.evaluate import report as evaluate_module

    real_evaluate = evaluate_module.evaluate
    monkeypatch.setattr(evaluate_module, "evaluate", lambda *args, **kwargs: real_evaluate(*args, **{**kwargs, "quality_frames": 4}))
    source_a, source_b = asset("video_wolfgang"), asset("video_single_face")
    report_json, report_text, logged = tmp_path / "report.json", tmp_path / "report.txt", []
    arguments = (clips["paste of B"], source_a, source_b, tmp_path / "model", report_json, report_text,
                 demo.DemoConfig(out=str(tmp_path)), logged.append)
    lines = demo._evaluate(*arguments)
    assert lines[0].strip().startswith("quality (4 sampled frames") and "identity: transferred" in "\n".join(lines)
    assert demo._evaluate(*arguments) == lines and "reusing" in logged[-1]  # the saved report's lines
    result = demo.DemoResult(clips["paste of B"], tmp_path / "sbs.mp4", None, report_json, report_text, lines)
    assert result.describe().endswith("\n".join(lines))


def _calibration_row(case: str, report) -> str:
    def f(part, name, digits=2):
        return "  n/a" if part is None or getattr(part, name) is None else f"{getattr(part, name):.{digits}f}"
    pose = " / ".join(f"{v:.1f}" for v in report.pose.difference) if report.pose else "n/a"
    return (f"{case:22s} {f(report.identity, 'transfer')}  {f(report.identity, 'distance_a')} / {f(report.identity, 'distance_b')}"
            f"  {f(report.expression, 'landmark_error', 3)}  {f(report.expression, 'eyes_agreement')}"
            f"  {f(report.expression, 'mouth_agreement')}  {pose:16s}  {f(report.sharpness, 'kept', 3)}"
            f"  -> {report.verdict} {report.verdicts}")


if __name__ == "__main__":
    import argparse
    import tempfile
    from pathlib import Path

    from faceswap import assets

    parser = argparse.ArgumentParser(description="Print the quality calibration figures.")
    parser.add_argument("--frames", type=int, default=FRAMES)
    parser.add_argument("--samples", type=int, default=SAMPLES)
    parser.add_argument("--swapped", help="a converted WolfgangLanger video (e.g. the demo's swapped.mp4) to add as a row")
    parser.add_argument("--cases", nargs="*", default=list(CASES) + ["blurred lightly"], help="which clips to make")
    args = parser.parse_args()
    a, b = assets.ensure("video_wolfgang"), assets.ensure("video_single_face")
    with tempfile.TemporaryDirectory() as folder:
        clips = build_clips(Path(folder), a, b, args.cases, frames=args.frames)
        if args.swapped:
            clips["swapped"] = Path(args.swapped)
        print("case                   transfer  dist A / B   NME    eyes  mouth  pose y/p/r         sharpness")
        for case, clip in clips.items():
            report = evaluate(str(clip), reference=str(a), person_b=str(b), quality_frames=args.samples)
            print(_calibration_row(case, report.quality), flush=True)
