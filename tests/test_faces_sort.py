"""`faceswap faces sort` on real media: a faces folder of two people (frames of both sample videos
extracted together) is grouped by person, a blurred copy of faces sorts first by blur, size,
score and yaw order the faces by what alignments.json says, a whole group is removed from the
report and restored, the descriptor cache is reused, and bad input gets one clear sentence."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from faceswap.align import alignments as alignments_file
from faceswap.cli.main import main
from faceswap.curate import contact_sheet, read_sort_report, sort_faces, trashed_faces

pytest.importorskip("dlib", reason="--by identity needs dlib: pip install 'faceswap-studio[identity]'")

FRAMES = 30  # per person


@pytest.fixture(scope="module")
def mixed_faces(asset, tmp_path_factory):
    """A faces folder of FRAMES evenly spaced frames of each sample video (a_*.png: the woman,
    b_*.png: the man), extracted together, then sorted by identity once (its descriptor cache kept)."""
    from faceswap.extract import ExtractConfig, extract
    from faceswap.video import open_reader

    root = tmp_path_factory.mktemp("sort")
    frames = root / "frames"
    frames.mkdir()
    for person, name in (("a", "video_wolfgang"), ("b", "video_single_face")):
        with open_reader(asset(name)) as reader:
            wanted = set(np.linspace(0, reader.info.frame_count - 1, FRAMES).round().astype(int).tolist())
            for frame in reader:
                if frame.index in wanted:
                    cv2.imwrite(str(frames / f"{person}_{frame.index:04d}.png"), frame.image)
    folder = root / "mixed"
    extract(ExtractConfig(input=str(frames), output_dir=str(folder), select="all", progress=False))
    sort_faces(folder, by="identity")
    return folder


@pytest.fixture
def faces(mixed_faces, tmp_path):
    """A private copy of the mixed folder (with its sorts and descriptor cache), to change."""
    return Path(shutil.copytree(mixed_faces, tmp_path / "faces"))


def _person_of(folder) -> dict[str, str]:
    """Crop name -> 'a' or 'b', from the frame image the face was found in."""
    return {face.face_file: frame.name[0] for frame, face in alignments_file.load(folder).faces()}


def _records(folder) -> dict[str, alignments_file.FaceRecord]:
    return {face.face_file: face for _, face in alignments_file.load(folder).faces()}


def _listed(folder) -> list[str]:
    return [face.face_file for _, face in alignments_file.load(folder).faces()]


def _sort_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["faces", "sort", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def test_identity_groups_the_two_people_nearest_first(mixed_faces):
    report = read_sort_report(mixed_faces / "sort_identity")
    person = _person_of(mixed_faces)
    assert report.key == "identity" and report.faces == len(person) >= 2 * FRAMES - 4 and report.deleted == 0
    assert report.described == len(person) and (mixed_faces / "identity_dlib.npz").is_file()
    for group in report.groups:
        people = [person[face.file] for face in group.faces]
        assert max(people.count("a"), people.count("b")) >= 0.95 * len(people), (group.index, people)
        distances = [face.value for face in group.faces]
        assert distances == sorted(distances) and group.low == distances[0] and group.high == distances[-1]
    first, second = report.groups[:2]
    assert {person[first.faces[0].file], person[second.faces[0].file]} == {"a", "b"}
    assert first.count + second.count >= 0.95 * report.faces and first.count >= second.count


def test_report_and_sheets_are_written_and_decode(mixed_faces):
    output = mixed_faces / "sort_identity"
    report = read_sort_report(output)
    assert json.loads((output / "report.json").read_text()) == report.to_dict()
    assert sorted(path.name for path in output.iterdir()) == sorted(["report.json", *(s for g in report.groups for s in g.sheets)])
    for group in report.groups:
        assert group.sheets == (f"group_{group.index:02d}.png",)
        sheet = cv2.imread(str(output / group.sheets[0]))
        rows = -(-group.count // contact_sheet.COLUMNS)
        cell = contact_sheet.THUMB + 2 * contact_sheet.LINE + contact_sheet.PAD
        assert sheet.shape[0] == contact_sheet.HEADER + rows * cell + contact_sheet.PAD
        first = sheet[contact_sheet.HEADER:contact_sheet.HEADER + contact_sheet.THUMB, contact_sheet.PAD:][:, :contact_sheet.THUMB]
        crop = cv2.imread(str(mixed_faces / group.faces[0].file))
        expected = cv2.resize(crop, (contact_sheet.THUMB, contact_sheet.THUMB), interpolation=cv2.INTER_AREA)
        assert np.abs(first.astype(int) - expected).mean() < 2  # the nearest face is the first thumbnail
    assert not [path for path in mixed_faces.iterdir() if path.name.startswith(".")]  # no temporary folder left


def test_the_descriptor_cache_is_reused_and_only_changed_faces_are_described(faces, monkeypatch):
    import faceswap.identity

    described = []
    real = faceswap.identity.load_describer

    def counting(*args, **kwargs):
        describer = real(*args, **kwargs)
        original = describer.describe
        describer.describe = lambda images, boxes: described.append(len(images)) or original(images, boxes)
        return describer

    monkeypatch.setattr(faceswap.identity, "load_describer", counting)
    before = read_sort_report(faces / "sort_identity")
    import os

    os.utime(faces / before.groups[0].faces[0].file)  # a new mtime, the same content: still cached
    again = sort_faces(faces, by="identity")
    assert described == [] and again.described == 0
    assert [[face.file for face in group.faces] for group in again.groups] == \
           [[face.file for face in group.faces] for group in before.groups]
    changed = faces / before.groups[1].faces[0].file
    cv2.imwrite(str(changed), cv2.flip(cv2.imread(str(changed)), 1))  # a changed crop is described again
    assert sort_faces(faces, by="identity").described == 1 and described == [1]


def test_blur_puts_blurred_faces_first(faces):
    names = _listed(faces)
    blurred = set(names[::12])
    for name in blurred:
        crop = cv2.imread(str(faces / name))
        cv2.imwrite(str(faces / name), cv2.GaussianBlur(crop, (0, 0), 3))
    report = sort_faces(faces, by="blur", groups=len(names) // len(blurred))
    assert {face.file for face in report.groups[0].faces} == blurred
    values = [face.value for group in report.groups for face in group.faces]
    assert values == sorted(values) and (faces / "sort_blur" / "group_01.png").is_file()


def test_size_and_score_order_the_faces_by_their_records(faces):
    records = _records(faces)
    for key, expected in (("size", lambda r: float(np.sqrt((r.box[2] - r.box[0]) * (r.box[3] - r.box[1])))),
                          ("score", lambda r: r.score)):
        report = sort_faces(faces, by=key)
        counts = [group.count for group in report.groups]
        assert len(counts) == 5 and max(counts) - min(counts) <= 1
        ordered = [face for group in report.groups for face in group.faces]
        assert sorted(face.file for face in ordered) == sorted(records)
        assert [face.value for face in ordered] == pytest.approx(sorted(expected(records[face.file]) for face in ordered), abs=1e-3)
        assert all(group.low == min(f.value for f in group.faces) and group.high == max(f.value for f in group.faces)
                   for group in report.groups)
    by_size = read_sort_report(faces / "sort_size")
    assert by_size.groups[0].faces[0].value < by_size.groups[-1].faces[-1].value


def test_yaw_puts_a_turned_head_first(faces):
    report = sort_faces(faces, by="yaw")
    angles = [abs(face.value) for group in report.groups for face in group.faces]
    assert angles == sorted(angles, reverse=True)
    frontal = report.groups[-1].faces[-1].file  # the most frontal face: turn its head by moving the nose aside
    alignments = alignments_file.load(faces)
    record = _records_of(alignments)[frontal]
    five = np.asarray(record.landmarks, float)
    nose = 2 if len(five) == 5 else 30
    eyes = np.linalg.norm(five[1] - five[0]) if len(five) == 5 else np.linalg.norm(five[42:48].mean(0) - five[36:42].mean(0))
    five[nose, 0] += 0.6 * eyes
    record.landmarks = five.tolist()
    alignments.save(alignments_file.alignments_path(faces))
    turned = sort_faces(faces, by="yaw")
    assert turned.groups[0].faces[0].file == frontal and abs(turned.groups[0].faces[0].value) > 25 > angles[0]


def _records_of(alignments) -> dict[str, alignments_file.FaceRecord]:
    return {face.face_file: face for _, face in alignments.faces()}


def test_remove_from_sort_takes_out_one_group_and_restore_brings_it_back(faces, capsys):
    everything = _listed(faces)
    report = sort_faces(faces, by="identity")
    group = report.groups[1]
    code = main(["faces", "remove", str(faces), "--from-sort", str(faces / "sort_identity" / "report.json"), "--group", "2"])
    assert code == 0 and f"Moved {group.count} faces" in capsys.readouterr().out
    assert sorted(_listed(faces)) == sorted(set(everything) - {face.file for face in group.faces})
    assert sorted(face.name for face in trashed_faces(faces)) == sorted(face.file for face in group.faces)
    assert all((faces / "trash" / face.file).is_file() and not (faces / face.file).exists() for face in group.faces)
    assert main(["faces", "restore", str(faces), "--all"]) == 0
    assert _listed(faces) == everything and all((faces / name).is_file() for name in everything)


def test_deleted_crops_are_skipped_and_counted(faces, capsys):
    names = _listed(faces)
    for name in names[:3]:
        (faces / name).unlink()
    code, out, _ = _sort_cli(capsys, str(faces), "--by", "score", "--groups", "2")
    assert code == 0 and "skipped 3 faces whose crops were deleted" in out
    report = read_sort_report(faces / "sort_score")
    assert report.deleted == 3 and report.faces == len(names) - 3 and len(report.groups) == 2
    assert not {face.file for group in report.groups for face in group.faces} & set(names[:3])


def test_a_second_sort_replaces_the_first_and_long_groups_span_sheets(faces, capsys, monkeypatch):
    assert _sort_cli(capsys, str(faces), "--by", "size", "--groups", "5")[0] == 0
    monkeypatch.setattr(contact_sheet, "PER_SHEET", 10)
    code, out, _ = _sort_cli(capsys, str(faces), "--by", "size", "--groups", "2", "--json")
    report = json.loads(out)
    assert code == 0 and report["key"] == "size" and len(report["groups"]) == 2
    count = report["groups"][0]["count"]
    expected = ["group_01.png"] + [f"group_01_{part}.png" for part in range(2, -(-count // 10) + 1)]
    assert report["groups"][0]["sheets"] == expected
    assert sorted(path.name for path in (faces / "sort_size").iterdir()) == sorted(
        ["report.json", *(sheet for group in report["groups"] for sheet in group["sheets"])])
    assert not [path for path in faces.iterdir() if path.name.startswith(".sort")]


def test_identity_pools_the_smallest_people_past_groups(faces):
    report = sort_faces(faces, by="identity", groups=1)
    assert len(report.groups) == 1 and report.groups[0].pooled >= 2 and report.groups[0].count == report.faces


def test_bad_input_gets_one_clear_sentence(faces, tmp_path, capsys, cli):
    empty = tmp_path / "empty"
    empty.mkdir()
    no_faces = Path(shutil.copytree(faces, tmp_path / "no_faces"))
    shutil.rmtree(no_faces / "faces")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    cases = [((str(empty), "--by", "size"), "is not a faces folder"),
             ((str(faces), "--by", "colour"), "Unknown sort key 'colour'; sort by one of: identity, blur"),
             ((str(faces), "--by", "size", "--groups", "0"), "--groups must be 1 or more"),
             ((str(no_faces), "--by", "blur"), "holds no faces (alignments.json lists"),
             ((str(faces), "--by", "size", "-o", str(tmp_path / "taken")), "is not an earlier `faceswap faces sort` output")]
    for argv, message in cases:
        code, _, err = _sort_cli(capsys, *argv)
        assert code == 2 and message in err and len(err.splitlines()) == 1, (argv, err)
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    for argv, message in ((["--group", "1"], "--group needs --from-sort"),
                          (["--from-sort", str(faces / "sort_identity"), "--group", "9"], "has no group 9"),
                          (["--from-sort", str(faces / "alignments.json"), "--group", "1"], "is not a `faceswap faces sort` report")):
        assert main(["faces", "remove", str(faces), *argv]) == 2 and message in capsys.readouterr().err
    assert len(_listed(faces)) == read_sort_report(faces / "sort_identity").faces  # nothing was removed
    result = cli("faceswap", "faces", "sort", str(faces), "--by", "colour")  # the console script, as a user runs it
    assert result.returncode == 2 and result.stderr.startswith("error: Unknown sort key 'colour'")
