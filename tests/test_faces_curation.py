"""Curating a faces folder on real media: `faceswap faces remove/restore` round-trips through
training without losing a face, a crop deleted by hand is skipped (and counted) by training,
bad names and a second command at once change nothing; one --select default; warnings when a
convert, a batch item or an evaluation has no face."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from faceswap.align import alignments as alignments_file
from faceswap.cli.main import main
from faceswap.curate import remove_faces, restore_faces, trashed_faces
from faceswap.folder_lock import LOCK_FILE, folder_lock
from faceswap.errors import UserError
from test_swap_support import TINY_MODEL, faces_subset


@pytest.fixture(scope="module")
def small_faces(extracted_faces, tmp_path_factory):
    root = tmp_path_factory.mktemp("curation_faces")
    return {"a": faces_subset(extracted_faces["a"], root / "a", 24), "b": faces_subset(extracted_faces["b"], root / "b", 12)}


@pytest.fixture
def faces_a(small_faces, tmp_path):
    """A private copy of A's 24 faces, to change."""
    import shutil

    return Path(shutil.copytree(small_faces["a"], tmp_path / "faces_a"))


def _train(faces_a, faces_b, model_dir, **options):
    from faceswap.swap import SwapTrainConfig, train_swap

    settings = {"steps": 1, "batch_size": 4, "min_faces": 10, "threads": 1, "progress": False, "segmenter": "none",
                "perceptual_weight": 0.0, **TINY_MODEL, **options}
    return train_swap(SwapTrainConfig(faces_a=str(faces_a), faces_b=str(faces_b), model_dir=str(model_dir), **settings))


def _cache_count(model_dir, side="a") -> int:
    return json.loads((Path(model_dir) / "face_cache" / f"{side}.json").read_text())["count"]


def _listed(folder) -> list[str]:
    return [face.face_file for _, face in alignments_file.load(folder).faces()]


def _digests(folder) -> dict[str, str]:
    """Every file of the folder but the trash, by relative name -> content hash."""
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(Path(folder).rglob("*")) if path.is_file() and path.relative_to(folder).parts[0] != "trash"}


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["faces", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def _assert_consistent(folder, all_faces: list[str]) -> None:
    """Every face is either listed with its crop in faces/, or in the trash list with its crop in trash/."""
    listed, trashed = _listed(folder), [face.name for face in trashed_faces(folder)]
    assert sorted(listed + trashed) == sorted(all_faces) and not set(listed) & set(trashed)
    assert all((folder / name).is_file() and not (folder / "trash" / name).exists() for name in listed)
    assert all((folder / "trash" / name).is_file() and not (folder / name).exists() for name in trashed)
    assert not (folder / LOCK_FILE).exists()


def test_remove_train_restore_round_trip_loses_no_face(faces_a, small_faces, tmp_path, capsys, caplog):
    original = _digests(faces_a)
    names = _listed(faces_a)
    code, out, err = _cli(capsys, "remove", str(faces_a), Path(names[3]).name, Path(names[10]).stem, f"{names[20]}")
    assert code == 0, err
    assert "Moved 3 faces" in out and "lists 21 faces" in out
    removed = [names[3], names[10], names[20]]
    assert [face.name for face in trashed_faces(faces_a)] == removed
    assert all((faces_a / "trash" / name).is_file() and not (faces_a / name).exists() for name in removed)
    _assert_consistent(faces_a, names)

    model = tmp_path / "model"
    _train(faces_a, small_faces["b"], model)
    assert _cache_count(model) == 21  # the removed faces are not trained on

    code, out, err = _cli(capsys, "restore", str(faces_a), "--all")
    assert code == 0, err
    assert "Restored 3 faces" in out and "lists 24 faces, 0 are left" in out
    assert _digests(faces_a) == original  # alignments.json byte for byte, every crop and mask
    assert trashed_faces(faces_a) == []
    with caplog.at_level(logging.INFO, logger="faceswap.swap"):
        _train(faces_a, small_faces["b"], model, resume=True, steps=2)
    assert "the faces folder changed" in caplog.text and _cache_count(model) == 24


def test_faces_of_one_frame_come_back_in_their_order(asset, tmp_path, capsys):
    from faceswap.extract import ExtractConfig, extract

    folder = tmp_path / "group"
    extract(ExtractConfig(input=str(asset("image_multi_face")), output_dir=str(folder), progress=False, select="all"))
    original, names = _digests(folder), _listed(folder)
    assert len(names) == 5
    remove_faces(folder, [names[1]])
    remove_faces(folder, [names[0], names[3]])
    assert _listed(folder) == [names[2], names[4]]
    restore_faces(folder, [Path(names[1]).name])
    restore_faces(folder, ["*_3.jpg"])
    assert _listed(folder) == names[1:]
    code, _, err = _cli(capsys, "list", str(folder), "--trash")
    assert code == 0 and "0 faces listed" not in err and "1 in the trash" in err
    restore_faces(folder)
    assert _digests(folder) == original


def test_a_crop_deleted_by_hand_is_skipped_and_counted(faces_a, small_faces, tmp_path, caplog):
    from faceswap.swap.data import decode_faces, read_face_source

    model = tmp_path / "model"
    _train(faces_a, small_faces["b"], model)
    records = [face for _, face in alignments_file.load(faces_a).faces()]
    for record in records[5:7]:
        (faces_a / record.face_file).unlink()
    with caplog.at_level(logging.INFO, logger="faceswap.swap"):
        _train(faces_a, small_faces["b"], model, resume=True, steps=2)
    assert f"skipped 2 faces whose crops were deleted from {faces_a / 'faces'}" in caplog.text
    assert "the faces folder changed" in caplog.text and _cache_count(model) == 22
    with pytest.raises(UserError, match="holds only 22 faces besides 2 whose crops were deleted"):
        read_face_source(faces_a, min_faces=23)

    (faces_a / records[8].mask_file).unlink()  # the crop stays: the template outline stands in for its mask
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="faceswap.swap"):
        source = read_face_source(faces_a, min_faces=2)
    assert "1 faces have lost their mask file" in caplog.text
    row = source.names.index(records[8].face_file)
    mask = np.concatenate(list(decode_faces(source, source.template.size)))[row, 3]
    outline = np.zeros_like(mask)
    cv2.fillPoly(outline, [np.round(source.template.face_outline()).astype(np.int32)], 255)
    assert np.array_equal(mask, outline)


def test_naming_a_face_that_is_not_listed_changes_nothing(faces_a, capsys, tmp_path):
    original = _digests(faces_a)
    name = Path(_listed(faces_a)[0]).name
    for argv, words in [(("remove", str(faces_a), name, "999999_0.png"), ("'999999_0.png'", "faceswap faces list")),
                        (("remove", str(faces_a), "*_7.png"), ("'*_7.png'", "not a face")),
                        (("remove", str(tmp_path), name), ("not a faces folder",)),
                        (("restore", str(faces_a), "--all"), ("trash", "empty")),
                        (("restore", str(faces_a)), ("--all",))]:
        code, _, err = _cli(capsys, *argv)
        assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
        assert all(word in err for word in words), err
    assert _digests(faces_a) == original and not (faces_a / "trash").exists()

    remove_faces(faces_a, [name])
    code, _, err = _cli(capsys, "remove", str(faces_a), name)
    assert code == 2 and "already in the trash" in err and f"faceswap faces restore {faces_a} {name}" in err
    code, _, err = _cli(capsys, "restore", str(faces_a), "000000_9.png")
    assert code == 2 and "not in the trash" in err
    _assert_consistent(faces_a, [*_listed(faces_a), f"faces/{name}"])


def test_paths_in_the_files_stay_inside_the_folder(faces_a, tmp_path):
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"not to be moved")
    intact = (faces_a / "alignments.json").read_text()
    data = json.loads(intact)
    data["frames"][0]["faces"][0]["face_file"] = "../outside.png"
    (faces_a / "alignments.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match="outside the faces folder"):
        remove_faces(faces_a, ["outside"])
    assert outside.read_bytes() == b"not to be moved"
    (faces_a / "alignments.json").write_text(intact)

    name = _listed(faces_a)[1]
    remove_faces(faces_a, [name])
    manifest = faces_a / "trash" / "trash.json"
    trash = json.loads(manifest.read_text())
    trash["faces"][0]["record"]["mask_file"] = "../../outside.png"
    manifest.write_text(json.dumps(trash))
    with pytest.raises(UserError, match="outside the faces folder"):
        restore_faces(faces_a)
    assert outside.read_bytes() == b"not to be moved" and (faces_a / "trash" / name).is_file()


def test_a_second_command_at_once_gets_a_clear_error_and_changes_nothing(faces_a, capsys):
    original = _digests(faces_a)
    name = Path(_listed(faces_a)[0]).name
    with folder_lock(faces_a, "faceswap faces remove"):
        code, _, err = _cli(capsys, "remove", str(faces_a), name)
    assert _digests(faces_a) == original and not (faces_a / "trash").exists()
    assert code == 2 and len(err.splitlines()) == 1
    assert "is being changed by another command (faceswap faces remove, process" in err and LOCK_FILE in err
    assert not (faces_a / LOCK_FILE).exists()


def test_commands_started_together_leave_a_consistent_folder(faces_a):
    names = _listed(faces_a)
    faceswap = str(Path(sys.executable).parent / "faceswap")
    processes = [subprocess.Popen([faceswap, "faces", "remove", str(faces_a), Path(names[i]).name],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
    results = [(process.wait(timeout=120), process.stderr.read()) for process in processes]
    for code, err in results:
        assert code == 0 or (code == 2 and "being changed by another command" in err), err
    succeeded = [names[i] for i, (code, _) in enumerate(results) if code == 0]
    assert succeeded and sorted(face.name for face in trashed_faces(faces_a)) == sorted(succeeded)
    _assert_consistent(faces_a, names)


def test_an_interrupted_remove_is_finished_by_the_next_command(faces_a, monkeypatch):
    from faceswap.curate import edit

    original, names = _digests(faces_a), _listed(faces_a)

    def interrupted(folder, record):
        raise KeyboardInterrupt

    monkeypatch.setattr(edit, "move_to_trash", interrupted)
    with pytest.raises(KeyboardInterrupt):
        remove_faces(faces_a, [names[2], names[4]])  # killed after alignments.json was saved, before a file moved
    monkeypatch.undo()
    assert _listed(faces_a) == names[:2] + [names[3]] + names[5:] and not (faces_a / LOCK_FILE).exists()
    remove_faces(faces_a, [names[6]])  # moves the two left behind as well
    _assert_consistent(faces_a, names)
    assert sorted(face.name for face in trashed_faces(faces_a)) == [names[2], names[4], names[6]]
    restore_faces(faces_a)
    assert _digests(faces_a) == original


def test_a_lock_left_by_a_dead_process_is_taken_over(faces_a):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (faces_a / LOCK_FILE).write_text(json.dumps({"command": "faceswap faces remove", "pid": dead.pid,
                                                 "host": socket.gethostname(), "since": "earlier"}))
    if os.name == "posix":
        assert remove_faces(faces_a, [_listed(faces_a)[0]]).listed == 23
        assert not (faces_a / LOCK_FILE).exists()


def test_select_has_one_default_and_one_parser():
    from faceswap.convert.config import ConvertConfig
    from faceswap.extract.config import ExtractConfig
    from faceswap.extract.selection import parse_selection

    assert ExtractConfig().select == ConvertConfig().select == "largest"
    assert parse_selection("track=3") == ("track", 3) and parse_selection("all") == ("all", None)
    for config in (ExtractConfig, ConvertConfig):
        with pytest.raises(UserError, match="--select 'biggest' is not valid"):
            config(select="biggest")
        with pytest.raises(UserError, match="--select 'track=x' is not valid"):
            config(select="track=x")


@pytest.fixture(scope="module")
def no_face_clip(asset, tmp_path_factory):
    from _convert_media import plain_reencode

    clip = tmp_path_factory.mktemp("no_face") / "no_face.mp4"
    plain_reencode(asset("video_no_face"), clip, start=0, end=6)
    return clip


def test_convert_batch_and_evaluate_warn_when_there_is_no_face(no_face_clip, small_faces, tmp_path, capsys):
    from faceswap.convert.batch import run_batch
    from faceswap.convert.config import ConvertConfig

    model = tmp_path / "model"
    _train(small_faces["a"], small_faces["b"], model)
    output = tmp_path / "out.mp4"
    code = main(["convert", "-i", str(no_face_clip), "-m", str(model), "-o", str(output), "--encoder-preset", "ultrafast",
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 0 and output.is_file()
    assert f"warning: no face was swapped in '{no_face_clip}'" in err and "--select largest" in err

    summary = run_batch([str(no_face_clip)], str(model), str(tmp_path / "batch"), ConvertConfig(encoder_preset="ultrafast"))
    assert [item.status for item in summary.items] == ["warning"] and summary.done == []
    assert "no face was swapped" in summary.items[0].reason and "1 with no face swapped" in summary.describe()

    code = main(["evaluate", str(output), "--quality-frames", "0"])
    err = capsys.readouterr().err
    assert code == 0 and f"warning: no face was found in '{output}'" in err
