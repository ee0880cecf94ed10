"""`faceswap extract` as a user runs it: JSON summary, debug video, one-line errors."""
from __future__ import annotations

import json

import pytest


def test_json_summary_and_debug_video(cli, asset, tmp_path):
    debug = tmp_path / "debug.mp4"
    result = cli("faceswap", "extract", "-i", str(asset("image_multi_face")), "-o", str(tmp_path / "faces"),
                 "--json", "--debug-video", str(debug), "--select", "all")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    # the start line names the detector and where it runs, on stderr, before any work
    assert result.stderr.splitlines()[0] == "Extracting with centerface on onnxruntime CPUExecutionProvider, threads default."
    summary = json.loads(lines[0])
    assert {k: summary[k] for k in ("frames", "frames_with_faces", "faces", "tracks")} == {"frames": 1, "frames_with_faces": 1, "faces": 5, "tracks": 5}
    assert summary["seconds"] > 0 and summary["fps"] > 0
    from faceswap.video import open_reader

    with open_reader(debug) as reader:
        assert (reader.info.width, reader.info.height) == (1000, 668)  # padded to even for H.264
        frames = list(reader)
    assert len(frames) == 1


def test_human_summary_and_no_face_warning(cli, asset, tmp_path):
    result = cli("faceswap", "extract", "-i", str(asset("video_no_face")), "-o", str(tmp_path / "faces"), "--every", "4")
    assert result.returncode == 0, result.stderr
    assert "0 faces in 0 of 95 frames" in result.stdout
    assert "warning: no faces were found" in result.stderr


@pytest.mark.parametrize("arguments, expected", [
    (["-i", "{missing}"], "does not exist"),
    (["-i", "{garbage}"], "not a readable video"),
    (["-i", "{image}", "--detector", "nope"], "Unknown detector 'nope'"),
    (["-i", "{image}", "--aligner", "nope"], "Unknown aligner 'nope'"),
    (["-i", "{image}", "--masker", "nope"], "Unknown masker 'nope'"),
    (["-i", "{image}", "--select", "biggest"], "--select 'biggest' is not valid"),
    (["-i", "{image}", "--masker", "hull"], "needs 68 landmarks"),
    (["-i", "{image}", "-o", "{nonempty}"], "not empty"),
    (["-i", "{image}", "--device", "tpu"], "Unknown device 'tpu'"),
])
def test_bad_input_exits_2_with_one_line(cli, asset, tmp_path, arguments, expected):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video" * 100)
    nonempty = tmp_path / "nonempty"
    nonempty.mkdir()
    (nonempty / "x.txt").write_text("x")
    names = {"missing": tmp_path / "missing.mp4", "garbage": garbage, "image": asset("image_multi_face"), "nonempty": nonempty}
    argv = [a.format(**{k: str(v) for k, v in names.items()}) for a in arguments]
    if "-o" not in argv:
        argv += ["-o", str(tmp_path / "faces")]
    result = cli("faceswap", "extract", *argv)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert not (tmp_path / "faces" / "alignments.json").exists()


def test_a_failed_extract_leaves_no_faces_folder_behind(cli, asset, tmp_path):
    """A rerun with a fixed flag must not meet "the faces folder is not empty"."""
    out = tmp_path / "new" / "faces"
    result = cli("faceswap", "extract", "-i", str(asset("image_single_face")), "-o", str(out), "--debug-video", str(tmp_path / "debug.txt"))
    assert result.returncode == 2 and "name it .mp4" in result.stderr, result.stderr
    assert not out.exists()
    result = cli("faceswap", "extract", "-i", str(asset("image_single_face")), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert not (out / ".faces.lock").exists()


def test_one_writer_per_faces_folder(cli, asset, tmp_path):
    """A second extract (or `faces remove`) into a folder being written fails at once; a dead holder's lock is taken over."""
    import os

    from faceswap.folder_lock import LOCK_FILE, folder_lock

    out = tmp_path / "faces"
    out.mkdir()
    with folder_lock(out, "faceswap extract"):
        result = cli("faceswap", "extract", "-i", str(asset("image_single_face")), "-o", str(out), "--overwrite")
        assert result.returncode == 2 and "being changed by another command (faceswap extract, process" in result.stderr, result.stderr
        assert out.is_dir() and [p.name for p in out.iterdir()] == [LOCK_FILE]  # the holder's folder is left alone
    dead = {"command": "faceswap extract", "pid": 2**22 + 7, "host": os.uname().nodename, "since": "then"}
    (out / LOCK_FILE).write_text(json.dumps(dead))
    result = cli("faceswap", "extract", "-i", str(asset("image_single_face")), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert not (out / LOCK_FILE).exists()
