"""Contract tests over every registered detector, aligner and masker."""
from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest

from faceswap.align.template import Template
from faceswap.align.transform import frame_to_crop
from faceswap.errors import UserError
from faceswap.extract.detectors import DetectorSettings, load_detector
from faceswap.extract.faces import Detection
from faceswap.registry import get, names

OPTIONAL = {"s3fd": "face_alignment", "fan68": "face_alignment"}


def build_or_skip(factory, name):
    """Build a plugin; skip only when its optional package or weights are really missing."""
    if name in OPTIONAL and importlib.util.find_spec(OPTIONAL[name]) is None:
        with pytest.raises(UserError, match="pip install"):
            factory()
        pytest.skip(f"{name}: optional package {OPTIONAL[name]} is not installed")
    try:
        return factory()
    except UserError as error:
        if name in OPTIONAL and "weights" in str(error):
            pytest.skip(f"{name}: {error}")
        raise


@pytest.fixture(scope="module")
def photo(asset):
    return cv2.imread(str(asset("image_multi_face")))


@pytest.mark.parametrize("name", names("detector"))
def test_detector_contract(name, photo):
    detector = build_or_skip(lambda: load_detector(name, DetectorSettings()), name)
    results = detector.detect([photo, np.zeros_like(photo)])
    assert len(results) == 2 and results[1] == []
    assert len(results[0]) == 5
    height, width = photo.shape[:2]
    for found in results[0]:
        assert isinstance(found, Detection) and 0.5 <= found.score <= 1.0
        x0, y0, x1, y1 = found.box
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height and found.size >= 40
        assert found.landmarks.shape == (5, 2)
        assert (found.landmarks[:, 0] > x0 - 5).all() and (found.landmarks[:, 0] < x1 + 5).all()
        assert found.landmarks[0, 0] < found.landmarks[1, 0]  # left eye is left in the image
    assert detector.detect([]) == []


@pytest.mark.parametrize("name", names("aligner"))
def test_aligner_contract(name, photo):
    aligner = build_or_skip(lambda: get("aligner", name)("cpu"), name)
    detections = load_detector("centerface", DetectorSettings()).detect([photo])[0]
    landmarks = aligner.landmarks(photo, detections)
    assert len(landmarks) == len(detections) == 5
    for points, detection in zip(landmarks, detections):
        assert points.shape == (aligner.landmark_count, 2) and points.dtype == np.float32
        x0, y0, x1, y1 = detection.box
        margin = 0.3 * (x1 - x0)
        assert (points[:, 0] > x0 - margin).all() and (points[:, 0] < x1 + margin).all()
    assert aligner.landmarks(photo, []) == []


@pytest.mark.parametrize("name", names("masker"))
def test_masker_contract(name, trained_segmenter, asset):
    masker = get("masker", name)(segmenter_dir=str(trained_segmenter), device="cpu")
    template = Template(size=128)
    if masker.needs_landmarks == 68:
        angles = np.linspace(0, 2 * np.pi, 68, endpoint=False)
        landmarks = 64 + 35 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        landmarks[17:27, 1] = 40  # brows above the nose tip
        landmarks[30] = [64, 70]
    else:
        landmarks = template.points().astype(np.float64)
        with pytest.raises(UserError):
            get("masker", "hull")().masks(None, [landmarks], template, 128)
    crops = _aligned_crops(asset, template)
    masks = masker.masks(crops if masker.needs_image else None, [landmarks] * len(crops), template, 128)
    assert masks.shape == (len(crops), 128, 128) and masks.dtype == np.uint8
    mouth_x, mouth_y = template.points()[3:].mean(axis=0).astype(int)  # the first face wears sunglasses: not its eyes
    assert (masks[:, mouth_y, mouth_x] == 255).all() and (masks[:, 0, 0] == 0).all()
    assert masker.masks(crops[:0] if masker.needs_image else None, [], template, 128).shape == (0, 128, 128)


def _aligned_crops(asset, template: Template) -> np.ndarray:
    """Real faces from the group photo, aligned to ``template`` (what maskers that look at images get)."""
    photo = cv2.imread(str(asset("image_multi_face")))
    detections = load_detector("centerface", DetectorSettings()).detect([photo])[0]
    return np.stack([cv2.warpAffine(photo, frame_to_crop(d.landmarks, template), (128, 128)) for d in detections[:3]])


def test_missing_weights_message_names_the_folder(monkeypatch, tmp_path):
    from faceswap.extract import _face_alignment

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(UserError, match=str(tmp_path / "hub" / "checkpoints")):
        _face_alignment.require_weights("fan68", "2DFAN4", "2DFAN4-11f355bf06.pth.tar")
