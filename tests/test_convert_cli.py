"""`faceswap convert` on bad input: one sentence, exit 2, nothing written."""
from __future__ import annotations

import json
import shutil

import pytest

from faceswap.cli.main import main


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["convert", *argv])
    return code, capsys.readouterr().err.strip()


def _assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    for word in words:
        assert word in err


def _nothing_written(folder) -> None:
    assert not [p for p in folder.iterdir() if p.suffix == ".mp4" or p.name.startswith(".")]


def test_missing_model_dir(capsys, tmp_path, asset):
    code, err = _run(capsys, "-i", str(asset("video_single_face")), "-m", str(tmp_path / "nope"), "-o", str(tmp_path / "o.mp4"))
    _assert_one_line_error(code, err, "nope", "faceswap train")
    _nothing_written(tmp_path)


def test_model_from_another_version(capsys, tmp_path, asset, trained_swap_model):
    model = tmp_path / "model"
    shutil.copytree(trained_swap_model, model)
    info = json.loads((model / "model.json").read_text())
    info["version"] = 999
    (model / "model.json").write_text(json.dumps(info))
    code, err = _run(capsys, "-i", str(asset("video_single_face")), "-m", str(model), "-o", str(tmp_path / "o.mp4"))
    _assert_one_line_error(code, err, "model")
    _nothing_written(tmp_path)


def test_alignments_of_another_video(capsys, tmp_path, asset, extracted_faces, trained_swap_model):
    code, err = _run(capsys, "-i", str(asset("video_single_face")), "-m", str(trained_swap_model),
                     "-o", str(tmp_path / "o.mp4"), "--alignments", str(extracted_faces["a"]))
    _assert_one_line_error(code, err, "WolfgangLanger", "single_face")
    _nothing_written(tmp_path)


def test_faces_aligned_for_another_template(capsys, tmp_path, asset, extracted_faces, trained_swap_model):
    data = json.loads((extracted_faces["b"] / "alignments.json").read_text())
    data["template"]["coverage"] = 0.6
    other = tmp_path / "alignments.json"
    other.write_text(json.dumps(data))
    code, err = _run(capsys, "-i", str(asset("video_single_face")), "-m", str(trained_swap_model),
                     "-o", str(tmp_path / "o.mp4"), "--alignments", str(other))
    _assert_one_line_error(code, err, "coverage", "faceswap extract")
    _nothing_written(tmp_path)


def test_unwritable_output(capsys, tmp_path, asset, trained_swap_model):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    code, err = _run(capsys, "-i", str(asset("video_single_face")), "-m", str(trained_swap_model),
                     "-o", str(blocker / "o.mp4"))
    _assert_one_line_error(code, err, "a_file", "writable")


@pytest.mark.parametrize("bad", ["--frames=9:3", "--select=biggest", "--batch-size=0"])
def test_bad_settings(capsys, tmp_path, asset, trained_swap_model, bad):
    code, err = _run(capsys, "-i", str(asset("video_single_face")), "-m", str(trained_swap_model),
                     "-o", str(tmp_path / "o.mp4"), bad)
    _assert_one_line_error(code, err, bad.split("=")[0])


def test_not_a_video_through_the_console_script(cli, tmp_path, trained_swap_model):
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(b"this is not a video" * 100)
    result = cli("faceswap", "convert", "-i", str(fake), "-m", str(trained_swap_model), "-o", str(tmp_path / "out" / "o.mp4"))
    _assert_one_line_error(result.returncode, result.stderr.strip(), "clip.mp4")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
