"""``--reference PHOTO``: extract, convert and batch keep only the person in the photo, on real media.

The two-person clip puts the woman's and the man's videos side by side and swaps their sides
halfway (a cut: every track is lost), so the man must be found again by his face alone.
"""
from __future__ import annotations

import numpy as np
import pytest

from faceswap.errors import UserError

pytest.importorskip("dlib", reason="--reference needs dlib: pip install 'faceswap-studio[identity]'")

HALF = 36  # frames per half of the two-person clip (the man's video has 72)
WIDTH = 640  # of each person's side


@pytest.fixture(scope="module")
def two_people(tmp_path_factory, asset):
    """woman | man for HALF frames, then man | woman."""
    from _convert_media import two_people_clip

    path = tmp_path_factory.mktemp("two_people") / "two_people.mp4"
    two_people_clip(asset("video_wolfgang"), asset("video_single_face"), path, HALF, WIDTH)
    return path


def _man_side(frame_index: int) -> int:
    """0: the man is on the left half, 1: on the right."""
    return 1 if frame_index < HALF else 0


@pytest.fixture(scope="module")
def group_photo(asset, tmp_path_factory):
    """(group photo BGR, the five face boxes, a reference crop of each person)."""
    import cv2

    from faceswap.extract import FaceFinder
    from faceswap.video.info import Frame

    image = cv2.imread(str(asset("image_multi_face")))
    [(_, faces)] = list(FaceFinder(select="all", smooth=False, progress=False).find([Frame(0, 0.0, image)], prefetch=0))
    assert len(faces) == 5
    folder = tmp_path_factory.mktemp("references")
    crops = []
    for k, face in enumerate(faces):
        x0, y0, x1, y1 = face.box
        margin_x, margin_y = 0.25 * (x1 - x0), 0.25 * (y1 - y0)
        crop = image[int(max(y0 - margin_y, 0)):int(y1 + margin_y), int(max(x0 - margin_x, 0)):int(x1 + margin_x)]
        crops.append(folder / f"person_{k}.png")
        cv2.imwrite(str(crops[-1]), crop)
    return image, [face.box for face in faces], crops


def _iou(a, b) -> float:
    from faceswap.extract.faces import box_iou

    return float(box_iou(np.asarray(a, np.float64), np.asarray([b], np.float64))[0])


def test_a_crop_of_each_person_in_a_group_photo_selects_that_person_and_no_other(group_photo, asset, tmp_path):
    from faceswap.align.alignments import load
    from faceswap.extract import ExtractConfig, extract

    _, boxes, crops = group_photo
    for k, crop in enumerate(crops):
        out = tmp_path / f"faces_{k}"
        extract(ExtractConfig(input=str(asset("image_multi_face")), output_dir=str(out), reference=(str(crop),), progress=False))
        faces = [face for _, face in load(out).faces()]
        assert len(faces) == 1, (k, len(faces))
        assert _iou(faces[0].box, boxes[k]) > 0.5, k


def test_extract_finds_the_man_again_after_the_cut_and_never_takes_the_woman(two_people, asset, tmp_path, cli):
    from faceswap.align.alignments import load

    out = tmp_path / "faces"
    result = cli("faceswap", "extract", "-i", str(two_people), "-o", str(out), "--reference", str(asset("image_single_face")))
    assert result.returncode == 0, result.stderr
    sides = {frame.index: [int((face.box[0] + face.box[2]) / 2 >= WIDTH) for face in frame.faces] for frame in load(out).frames}
    man = sum(sides.get(i, []).count(_man_side(i)) for i in range(2 * HALF))
    woman = sum(sides.get(i, []).count(1 - _man_side(i)) for i in range(2 * HALF))
    assert man >= 0.98 * 2 * HALF and woman == 0, (man, woman)


def test_convert_swaps_only_the_man(two_people, asset, tmp_path, trained_swap_model):
    """PNG frames out: the side left alone is bit-identical to the input, the man's side is not."""
    from faceswap.convert import ConvertConfig, convert
    from faceswap.video import open_reader

    out = tmp_path / "frames"
    summary = convert(ConvertConfig(input=str(two_people), model_dir=str(trained_swap_model), output=str(out), swap="b2a",
                                    reference=(str(asset("image_single_face")),), progress=False))
    assert summary.frames == 2 * HALF and not summary.warnings
    changed = {"man": 0, "woman": 0}
    with open_reader(two_people) as before, open_reader(out) as after:
        for original, swapped in zip(before, after):
            man = _man_side(original.index)
            for side, who in ((man, "man"), (1 - man, "woman")):
                columns = slice(side * WIDTH, (side + 1) * WIDTH)
                changed[who] += not np.array_equal(original.image[:, columns], swapped.image[:, columns])
    assert changed["man"] >= 0.98 * 2 * HALF and changed["woman"] == 0, changed
    assert summary.faces_swapped == changed["man"]


def test_batch_takes_the_reference_and_checks_it_once(two_people, asset, tmp_path, trained_swap_model):
    from faceswap.convert import ConvertConfig
    from faceswap.convert.batch import run_batch

    config = ConvertConfig(swap="b2a", encoder_preset="ultrafast", frames=None, reference=(str(asset("image_single_face")),))
    summary = run_batch([str(two_people)], str(trained_swap_model), str(tmp_path / "out"), config)
    assert [item.status for item in summary.items] == ["done"], summary.describe()
    with pytest.raises(UserError, match="does not exist"):
        run_batch([str(two_people)], str(trained_swap_model), str(tmp_path / "out2"),
                  ConvertConfig(reference=(str(tmp_path / "nobody.jpg"),)))
    assert not (tmp_path / "out2").exists()


def test_a_folder_of_photos_checks_every_face(group_photo, asset, tmp_path):
    """Tracks do not carry identity from one picture to the next: only the group photo's person 2 is kept."""
    import shutil

    from faceswap.align.alignments import load
    from faceswap.extract import ExtractConfig, extract

    _, boxes, crops = group_photo
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(asset("image_multi_face"), photos / "1_group.jpg")
    shutil.copy(asset("image_multi_face"), photos / "2_group.jpg")
    shutil.copy(asset("image_single_face"), photos / "3_man.jpg")
    extract(ExtractConfig(input=str(photos), output_dir=str(tmp_path / "faces"), reference=(str(crops[2]),), progress=False))
    kept = {frame.index: frame.faces for frame in load(tmp_path / "faces").frames}
    assert [len(kept.get(i, [])) for i in range(3)] == [1, 1, 0]
    assert all(_iou(kept[i][0].box, boxes[2]) > 0.5 for i in (0, 1))


def test_the_selector_resumes_where_it_was(two_people, asset):
    from faceswap.extract.reference import ReferenceSelector, load_reference
    from faceswap.video import open_reader

    reference = load_reference([str(asset("image_single_face"))], device="cpu")
    whole, first = ReferenceSelector(reference), ReferenceSelector(reference)
    boxes = [np.array([100, 40, 260, 240], np.float32), np.array([WIDTH + 100, 40, WIDTH + 260, 240], np.float32)]
    with open_reader(two_people) as reader:
        frames = [frame.image for frame, _ in zip(reader, range(10))]
    for image in frames[:5]:
        first.choose(boxes, [0, 1], image)
    second = ReferenceSelector(reference)
    second.restore(first.state())
    for image in frames[:5]:
        whole.choose(boxes, [0, 1], image)
    assert [second.choose(boxes, [0, 1], image) for image in frames[5:]] == [whole.choose(boxes, [0, 1], image) for image in frames[5:]]
    assert second.state() == whole.state() and whole.checks < 10  # tracks are checked, not every face of every frame


@pytest.mark.parametrize("case", ["missing", "not_an_image", "no_face", "several_faces", "with_select"])
def test_bad_references_fail_with_one_sentence_and_leave_nothing(case, cli, asset, tmp_path):
    import cv2

    photo = tmp_path / "photo.png"
    extra = []
    if case == "not_an_image":
        photo = tmp_path / "photo.jpg"
        photo.write_text("not a picture")
    elif case == "no_face":
        cv2.imwrite(str(photo), np.full((300, 300, 3), 127, np.uint8))
    elif case == "several_faces":
        photo = asset("image_multi_face")
    elif case == "with_select":
        photo, extra = asset("image_single_face"), ["--select", "track=1"]
    out = tmp_path / "faces"
    result = cli("faceswap", "extract", "-i", str(asset("image_single_face")), "-o", str(out), "--reference", str(photo), *extra)
    expected = {"missing": "does not exist", "not_an_image": "not an image", "no_face": "No face was found",
                "several_faces": "shows 5 faces", "with_select": "drop --select"}[case]
    assert result.returncode != 0 and expected in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not out.exists()
