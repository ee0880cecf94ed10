"""The ``identity`` plugin family on real faces: every registered describer tells the two sample
people apart, batches, and says what to install when its dependency is missing; person B's faces
come alike from a faces folder, images and a video."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from faceswap import registry
from faceswap.errors import UserError

pytest.importorskip("dlib", reason="the identity plugins need dlib: pip install 'faceswap-studio[identity]'")

FACES = 6  # per person


@pytest.fixture(scope="module")
def people(asset):
    """{"a": (images, boxes), "b": (images, boxes)}: FACES faces of each sample person, from their videos."""
    from faceswap.evaluate.person import person_faces

    return {side: person_faces(asset(name), FACES) for side, name in (("a", "video_wolfgang"), ("b", "video_single_face"))}


@pytest.mark.parametrize("name", registry.names("identity"))
def test_every_describer_tells_the_two_people_apart(name, people):
    describer = registry.get("identity", name)("cpu")
    (a_images, a_boxes), (b_images, b_boxes) = people["a"], people["b"]
    descriptors = describer.describe(a_images + b_images, a_boxes + b_boxes)  # one batch
    assert descriptors.shape == (2 * FACES, describer.dims) and descriptors.dtype == np.float32
    a, b = descriptors[:FACES], descriptors[FACES:]
    same_a = np.linalg.norm(a - a.mean(axis=0), axis=1)
    same_b = np.linalg.norm(b - b.mean(axis=0), axis=1)
    assert same_a.max() < describer.same_person_distance and same_b.max() < describer.same_person_distance
    assert np.linalg.norm(a.mean(axis=0) - b.mean(axis=0)) > describer.same_person_distance
    one = describer.describe(a_images[:1], a_boxes[:1])  # batching does not change the answer
    np.testing.assert_allclose(one[0], a[0], atol=1e-4)
    assert describer.describe([], []).shape == (0, describer.dims)


def test_person_b_from_a_faces_folder_an_image_and_a_video_agree(tmp_path, asset):
    from faceswap.evaluate.person import person_faces
    from faceswap.extract import ExtractConfig, extract
    from faceswap.identity import load_describer

    video = asset("video_single_face")
    faces_dir = tmp_path / "faces_b"
    extract(ExtractConfig(input=str(video), output_dir=str(faces_dir), progress=False))
    describer = load_describer()
    centres = {}
    for kind, source in (("faces folder", faces_dir), ("video", video), ("image", asset("image_single_face"))):
        images, boxes = person_faces(source, 4)
        assert len(images) == len(boxes) == (1 if kind == "image" else 4)
        centres[kind] = describer.describe(images, boxes).mean(axis=0)
    assert np.linalg.norm(centres["faces folder"] - centres["video"]) < 0.1  # the same frames, cropped or not
    assert np.linalg.norm(centres["image"] - centres["video"]) < describer.same_person_distance  # the same man


def test_no_face_or_no_input_is_one_clear_sentence(tmp_path, asset):
    from faceswap.evaluate.person import person_faces

    with pytest.raises(UserError, match="No face was found") as error:
        person_faces(asset("video_no_face"), 3)
    assert "\n" not in str(error.value)
    with pytest.raises(UserError, match="do not exist"):
        person_faces(tmp_path / "nobody", 3)


def test_missing_dlib_names_the_extra(monkeypatch):
    from faceswap.identity import load_describer

    monkeypatch.setitem(sys.modules, "dlib", None)  # `import dlib` now raises ImportError
    with pytest.raises(UserError) as error:
        load_describer("dlib")
    assert "pip install 'faceswap-studio[identity]'" in str(error.value) and "\n" not in str(error.value)


def test_the_opt_in_landmarks_are_never_fetched_implicitly(monkeypatch):
    from faceswap import assets
    from faceswap.identity import dlib_support

    monkeypatch.setattr(assets, "is_cached", lambda name: False)
    monkeypatch.setattr(assets, "fetch", lambda *args, **kwargs: pytest.fail("fetched an opt-in asset"))
    dlib_support.shape_predictor.cache_clear()
    try:
        with pytest.raises(UserError, match="faceswap assets fetch dlib_landmarks68"):
            dlib_support.shape_predictor("dlib_landmarks68")
    finally:
        dlib_support.shape_predictor.cache_clear()
