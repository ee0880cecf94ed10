"""Extract on the real sample media: faces found, aligned, masked and recorded."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from faceswap.align import alignments as alignments_file
from faceswap.align.template import LEFT_EYE, RIGHT_EYE
from faceswap.align.transform import transform_points
from faceswap.errors import UserError
from faceswap.extract import ExtractConfig, extract
from faceswap.extract.detectors import DetectorSettings, load_detector


@pytest.fixture(scope="session")
def wolfgang(extracted_faces):
    return extracted_faces["a"], alignments_file.load(extracted_faces["a"])


def test_talking_head_has_exactly_one_face_in_nearly_every_frame(wolfgang, asset):
    faces_dir, found = wolfgang
    assert found.complete and found.source.frame_count == 472 and len(found.frames) == 472
    one_face = sum(1 for frame in found.frames if len(frame.faces) == 1)
    assert one_face / len(found.frames) >= 0.99
    assert [frame.index for frame in found.frames] == list(range(472))
    assert len(found.track_ids()) <= 2  # one person: the track is not broken up


def test_every_face_has_its_crop_and_a_single_channel_mask(wolfgang):
    faces_dir, found = wolfgang
    for _, face in found.faces()[::47]:
        crop = cv2.imread(str(faces_dir / face.face_file), cv2.IMREAD_UNCHANGED)
        mask = cv2.imread(str(faces_dir / face.mask_file), cv2.IMREAD_UNCHANGED)
        assert crop.shape == (256, 256, 3)
        assert mask.shape == (256, 256) and mask.dtype == np.uint8
        inside = mask > 127
        assert 0.2 < inside.mean() < 0.7  # a face-sized region, not empty or full
        points = transform_points(face.landmarks_array(), face.matrix_array())
        for x, y in points:  # the landmarks lie inside the mask
            assert mask[int(y), int(x)] > 127


def test_crops_are_aligned_to_the_template(wolfgang):
    """Eye centres, mapped into the crops and re-detected there, sit on the template's eyes."""
    faces_dir, found = wolfgang
    template_eyes = found.template.points()[[LEFT_EYE, RIGHT_EYE]]
    mapped = np.stack([transform_points(f.landmarks_array()[[LEFT_EYE, RIGHT_EYE]], f.matrix_array()) for _, f in found.faces()])
    # a few pixels in a 256 px crop (a face is not shaped exactly like the template), and steady
    assert np.median(np.linalg.norm(mapped - template_eyes, axis=2)) < 6.0
    assert mapped.std(axis=0).max() < 2.0
    detector = load_detector("centerface", DetectorSettings(min_face_size=20))
    redetected = []
    for _, face in found.faces()[::12]:
        crop = cv2.imread(str(faces_dir / face.face_file))
        best = max(detector.detect([crop])[0], key=lambda d: d.score)
        redetected.append(best.landmarks[[LEFT_EYE, RIGHT_EYE]])
    redetected = np.stack(redetected)
    distance = np.linalg.norm(redetected - template_eyes, axis=2)
    assert np.median(distance) < 7.0, distance
    assert redetected.std(axis=0).max() < 4.0  # and steady across frames


def test_alignments_file_is_plain_json_with_a_checked_schema_version(wolfgang, tmp_path):
    faces_dir, found = wolfgang
    data = json.loads((faces_dir / "alignments.json").read_text())
    assert data["schema_version"] == alignments_file.SCHEMA_VERSION
    frame = data["frames"][0]
    assert set(frame["faces"][0]) >= {"box", "score", "landmarks", "track_id", "matrix", "face_file", "mask_file"}
    assert data["source"]["fps"] == pytest.approx(23.976, abs=0.01) and data["source"]["width"] == 640
    data["schema_version"] = 999
    (tmp_path / "alignments.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match="schema version 999"):
        alignments_file.load(tmp_path)


@pytest.mark.parametrize("case, expected", [
    ("list_root", "holds a JSON list"),
    ("ragged_matrix", "matrix is not an invertible 2x3"),
    ("zero_matrix", "matrix is not an invertible 2x3"),
    ("nan_landmarks", "landmarks are not 5 or more finite"),
    ("short_box", "box is not 4 finite"),
    ("parent_path", "points outside the faces folder"),
    ("absolute_path", "points outside the faces folder"),
])
def test_a_damaged_alignments_file_is_refused_in_one_sentence(wolfgang, tmp_path, case, expected):
    """Train, convert and curate trust what load() returns: a face they cannot use stops here, by name."""
    faces_dir, _ = wolfgang
    data = json.loads((faces_dir / "alignments.json").read_text())
    face = data["frames"][3]["faces"][0]
    if case == "list_root":
        data = [data]
    elif case == "ragged_matrix":
        face["matrix"] = [[1.0, 0.0, 0.0], [0.0, 1.0]]
    elif case == "zero_matrix":
        face["matrix"] = [[0.0] * 3, [0.0] * 3]
    elif case == "nan_landmarks":
        face["landmarks"][2] = [float("nan"), 1.0]
    elif case == "short_box":
        face["box"] = face["box"][:3]
    elif case == "parent_path":
        face["face_file"] = "../../etc/passwd"
    elif case == "absolute_path":
        face["mask_file"] = "/etc/passwd"
    (tmp_path / "alignments.json").write_text(json.dumps(data))
    with pytest.raises(UserError, match=expected) as error:
        alignments_file.load(tmp_path)
    assert ("frame 3" in str(error.value)) == (case != "list_root")


def test_video_without_faces_gives_zero_faces_and_a_warning(asset, tmp_path):
    summary = extract(ExtractConfig(input=str(asset("video_no_face")), output_dir=str(tmp_path / "out"), progress=False, every=2))
    assert summary.frames == 95 and summary.faces == 0 and summary.frames_with_faces == 0
    assert any("no faces" in warning for warning in summary.warnings)
    assert alignments_file.load(tmp_path / "out").complete


def test_face_then_cartoon_finds_the_face_frames(asset, tmp_path):
    summary = extract(ExtractConfig(input=str(asset("video_face_noface")), output_dir=str(tmp_path / "out"), progress=False))
    assert summary.frames == 169
    assert abs(summary.frames_with_faces - 72) <= 3


def test_group_photo_gives_five_faces_with_their_own_tracks(asset, tmp_path):
    summary = extract(ExtractConfig(input=str(asset("image_multi_face")), output_dir=str(tmp_path / "out"), progress=False, select="all"))
    assert (summary.frames, summary.faces, summary.tracks) == (1, 5, 5)
    largest = extract(ExtractConfig(input=str(asset("image_multi_face")), output_dir=str(tmp_path / "one"), progress=False, select="largest"))
    assert largest.faces == 1
    one_track = extract(ExtractConfig(input=str(asset("image_multi_face")), output_dir=str(tmp_path / "track"), progress=False, select="track=3"))
    assert one_track.faces == 1 and alignments_file.load(tmp_path / "track").track_ids() == [3]


def test_non_empty_faces_folder_is_refused_then_overwritten(asset, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "something.txt").write_text("x")
    config = ExtractConfig(input=str(asset("image_multi_face")), output_dir=str(out), progress=False, select="all")
    with pytest.raises(UserError, match="not empty"):
        extract(config)
    extract(ExtractConfig(input=config.input, output_dir=str(out), progress=False, overwrite=True, select="all"))
    assert len(list((out / "faces").glob("*.jpg"))) == 5


def test_every_third_frame_follows_the_face_in_between(asset, extracted_faces, tmp_path):
    summary = extract(ExtractConfig(input=str(asset("video_single_face")), output_dir=str(tmp_path / "out"), progress=False, every=3))
    assert summary.frames == summary.frames_with_faces == summary.faces == 72 and summary.tracks == 1
    followed = alignments_file.load(tmp_path / "out").by_frame_index()
    reference = alignments_file.load(extracted_faces["b"]).by_frame_index()
    errors = []
    for index, frame in reference.items():
        ref_points, points = frame.faces[0].landmarks_array(), followed[index].faces[0].landmarks_array()
        eye_distance = np.linalg.norm(ref_points[1] - ref_points[0])
        errors.append(np.linalg.norm(points - ref_points, axis=1).mean() / eye_distance)
    assert np.mean(errors) < 0.03 and np.max(errors) < 0.1  # within a few % of the eye distance


def test_corrupt_frames_are_skipped_and_named(asset, tmp_path):
    data = bytearray(asset("video_single_face").read_bytes())
    rng = np.random.default_rng(0)
    for offset in range(40000, 160000, 20000):  # damage the middle of the stream, not the index
        data[offset:offset + 3000] = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    summary = extract(ExtractConfig(input=str(damaged), output_dir=str(tmp_path / "out"), progress=False, every=4))
    assert summary.skipped_frames and summary.frames + len(summary.skipped_frames) == 72
    skipped = {index for index, _ in summary.skipped_frames}
    recorded = {frame.index for frame in alignments_file.load(tmp_path / "out").frames}
    assert not skipped & recorded
    assert any("unreadable frame" in warning and str(min(skipped)) in warning for warning in summary.warnings)


def test_image_folder_keeps_file_names(asset, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    from faceswap.video import open_reader

    with open_reader(asset("video_single_face"), end=2) as reader:
        for frame in reader:
            cv2.imwrite(str(folder / f"frame{frame.index + 1}.png"), frame.image)
    cv2.imwrite(str(folder / "frame10.jpg"), cv2.imread(str(asset("image_multi_face"))))
    summary = extract(ExtractConfig(input=str(folder), output_dir=str(tmp_path / "out"), progress=False, select="all"))
    found = alignments_file.load(tmp_path / "out")
    assert [frame.name for frame in found.frames] == ["frame1.png", "frame2.png", "frame10.jpg"]
    assert [len(frame.faces) for frame in found.frames] == [1, 1, 5] and summary.faces == 7
    assert found.source.kind == "images"


def test_face_format_png_keeps_faces_lossless_and_resume_keeps_the_format(asset, cli, tmp_path):
    out = tmp_path / "png_faces"
    done = cli("faceswap", "extract", "-i", str(asset("image_multi_face")), "-o", str(out), "--select", "all", "--face-format", "png")
    assert done.returncode == 0, done.stderr
    faces = [face for _, face in alignments_file.load(out).faces()]
    assert len(faces) == 5 and all(face.face_file.endswith(".png") and face.mask_file.endswith(".png") for face in faces)
    assert all(cv2.imread(str(out / face.face_file)) is not None for face in faces)
    refused = cli("faceswap", "extract", "-i", str(asset("image_multi_face")), "-o", str(out), "--resume", "--face-format", "jpg")
    assert refused.returncode != 0 and "face_format" in refused.stderr
    with pytest.raises(UserError, match="--face-format must be jpg or png"):
        ExtractConfig(face_format="webp")
