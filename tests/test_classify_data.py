"""ImageFolder scanning and loading, the seeded split, preprocessing, and `classify datasets`."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

import classify
from classify import data as image_data
from classify.images import fit_square, prepare, read_image
from faceswap.errors import UserError


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return classify.write_dataset("digits", tmp_path_factory.mktemp("digits") / "digits")


def _folder(root, counts: dict[str, int]):
    rng = np.random.default_rng(0)
    for name, count in counts.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            cv2.imwrite(str(root / name / f"{index}.png"), rng.integers(0, 255, (12, 10), dtype=np.uint8))
    return root


def test_digits_dataset_is_a_seeded_stratified_imagefolder(digits, tmp_path):
    assert digits.classes == [str(d) for d in range(10)]
    assert sum(digits.train_counts) + sum(digits.test_counts) == 1797
    for train, test in zip(digits.train_counts, digits.test_counts):
        assert abs(test / (train + test) - 0.2) < 0.02
    folder = image_data.scan(digits.out / "train")
    assert folder.classes == digits.classes and len(folder.paths) == sum(digits.train_counts)
    image = read_image(folder.paths[0])
    assert image.shape == (8, 8) and image.dtype == np.uint8 and image.max() > 200
    again = classify.write_dataset("digits", tmp_path / "again")
    assert sorted(p.name for p in (again.out / "test" / "3").iterdir()) == sorted(p.name for p in (digits.out / "test" / "3").iterdir())


def test_faces_vs_nonfaces_split_per_class(tmp_path):
    written = classify.write_dataset("faces-vs-nonfaces", tmp_path / "faces", train_per_class=20)
    assert written.classes == ["face", "nonface"]
    assert written.train_counts == [20, 20] and written.test_counts == [80, 80]
    # file names keep the row of lfw_subset.npy: faces are rows 0-99
    assert all(int(p.stem) < 100 for p in (written.out / "test" / "face").iterdir())
    assert all(int(p.stem) >= 100 for p in (written.out / "train" / "nonface").iterdir())
    with pytest.raises(UserError, match="not empty"):
        classify.write_dataset("faces-vs-nonfaces", tmp_path / "faces")


def test_scan_errors_name_the_folder(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        image_data.scan(tmp_path / "missing")
    (tmp_path / "flat").mkdir()
    cv2.imwrite(str(tmp_path / "flat" / "a.png"), np.zeros((4, 4), np.uint8))
    with pytest.raises(UserError, match="no class sub-folders"):
        image_data.scan(tmp_path / "flat")
    with pytest.raises(UserError, match="only one class"):
        image_data.scan(_folder(tmp_path / "single", {"cat": 3}))
    _folder(tmp_path / "empty", {"cat": 3, "dog": 0})
    with pytest.raises(UserError, match=r"'.*dog' has no images"):
        image_data.scan(tmp_path / "empty")


def test_unreadable_images_are_skipped_and_listed(tmp_path):
    root = _folder(tmp_path / "data", {"cat": 4, "dog": 4})
    (root / "cat" / "broken.png").write_bytes(b"not an image at all")
    (root / "dog" / "truncated.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    loaded = image_data.load(image_data.scan(root), 16, 1)
    assert len(loaded) == 8 and loaded.images_NHWC_uint8.shape == (8, 16, 16, 1)
    assert sorted(p.split("/")[-1] for p, _ in loaded.skipped) == ["broken.png", "truncated.jpg"]
    for name in ("0.png", "1.png", "2.png", "3.png"):
        (root / "dog" / name).write_bytes(b"garbage")
    with pytest.raises(UserError, match="no readable images"):
        image_data.load(image_data.scan(root), 16, 1)


def test_seeded_split_keeps_every_class(digits):
    labels = image_data.scan(digits.out / "train").labels
    train_a, val_a = image_data.split(labels, 0.1, seed=0)
    train_b, val_b = image_data.split(labels, 0.1, seed=0)
    _, val_c = image_data.split(labels, 0.1, seed=1)
    assert np.array_equal(val_a, val_b) and not np.array_equal(val_a, val_c)
    assert len(np.intersect1d(train_a, val_a)) == 0 and len(train_a) + len(val_a) == len(labels)
    assert set(labels[val_a]) == set(range(10))
    assert len(image_data.split(labels, 0.0, seed=0)[1]) == 0


def test_validation_folder_must_use_the_training_classes(tmp_path):
    train = _folder(tmp_path / "train", {"cat": 2, "dog": 2})
    _folder(tmp_path / "val", {"cat": 1, "bird": 1})
    folder = image_data.scan(train)
    with pytest.raises(UserError, match="bird"):
        image_data.scan(tmp_path / "val", folder.classes, "validation folder")


def test_preprocessing_resizes_crops_and_sets_channels(asset):
    photo = read_image(next(asset("imagenet_samples").glob("*.jpg")))
    assert photo.ndim == 3 and photo.shape[2] == 3
    assert fit_square(photo, 224, 0.875).shape == (224, 224, 3)
    height, width = photo.shape[:2]
    wide = np.zeros((100, 300), np.uint8)
    wide[:, 100:200] = 255  # the centre square is white
    assert fit_square(wide, 50).min() == 255
    assert prepare(wide, 32, 3).shape == (32, 32, 3)
    assert prepare(photo, 32, 1).shape == (32, 32, 1)
