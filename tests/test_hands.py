"""Hands in front of the face, on the sample talk where she puts her hand over her nose and mouth:
the hand finder, the hand drawn as a mask, the hands extract stores, the segmenter's labels, and
convert keeping the fingers while it swaps the face around them."""
from __future__ import annotations

import numpy as np
import pytest

from _convert_media import read_frames

HAND_FRAMES = (110, 130, 200)  # her fingers over her nose and eye, and over her mouth
NO_HAND_FRAMES = (0, 300)  # her face alone
CLIP = (100, 140)  # frames converted with and without hands
TOLERANCE = 12  # max channel difference still "unchanged": x264 noise at CRF 18 stays below


def _frames(path, indices):
    from faceswap.video import open_reader

    wanted, found = set(indices), {}
    with open_reader(path, end=max(indices) + 1) as reader:
        for frame in reader:
            if frame.index in wanted:
                found[frame.index] = frame.image
    return found


def _frame_mask(hands, shape):
    """(H, W) bool of the hands drawn in frame pixels."""
    from faceswap.hands.drawing import hands_mask

    mask = hands_mask(hands, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), max(shape[:2]))
    return np.zeros(shape[:2], bool) if mask is None else mask[:shape[0], :shape[1]] > 127


@pytest.fixture(scope="module")
def finder():
    from faceswap.hands import load_finder

    return load_finder()


@pytest.fixture(scope="module")
def faces_a(extracted_faces):
    from faceswap.align.alignments import load

    return load(extracted_faces["a"]).by_frame_index()


def test_finds_her_hand_over_her_face_and_no_hand_elsewhere(finder, faces_a, asset):
    frames = _frames(asset("video_wolfgang"), HAND_FRAMES + NO_HAND_FRAMES)
    for index in HAND_FRAMES + NO_HAND_FRAMES:
        box = np.asarray(faces_a[index].faces[0].box, np.float64)
        finder.reset()  # each frame on its own: the palm detector alone must find the hand
        hands = finder.find(frames[index], [box])
        if index in NO_HAND_FRAMES:
            assert hands == [], f"frame {index}: a hand was found where there is none"
            continue
        assert len(hands) == 1 and hands[0].shape == (21, 2), f"frame {index}: {len(hands)} hands"
        tips = hands[0][[8, 12]]  # index and middle finger tips lie on her face
        assert ((tips >= box[:2]) & (tips <= box[2:])).all(), f"frame {index}: finger tips {tips} outside the face {box}"
        covered = _frame_mask(hands, frames[index].shape)[int(box[1]):int(box[3]), int(box[0]):int(box[2])].mean()
        assert 0.05 < covered < 0.5, f"frame {index}: the hand covers {covered:.0%} of the face box"


def test_a_followed_hand_stays_found_frame_after_frame(finder, faces_a, asset):
    from faceswap.video import open_reader

    finder.reset()
    found = []
    with open_reader(asset("video_wolfgang"), start=CLIP[0], end=CLIP[1]) as reader:
        for frame in reader:
            found.append(len(finder.find(frame.image, [faces_a[frame.index].faces[0].box])))
    assert found == [1] * (CLIP[1] - CLIP[0]), found


def test_a_hand_is_drawn_with_its_fingers_and_nothing_around_it():
    from faceswap.hands.drawing import hands_mask

    wrist = np.array([50.0, 90.0])
    roots = [np.array([x, 60.0]) for x in (38.0, 46.0, 54.0, 62.0)]  # index .. little finger, 8 px apart
    points = np.zeros((21, 2))
    points[0] = wrist
    points[1:5] = [[30.0, 80.0], [24.0, 72.0], [20.0, 64.0], [17.0, 57.0]]  # the thumb
    for finger, root in enumerate(roots):
        for joint in range(4):
            points[5 + 4 * finger + joint] = root - [0.0, 8.0 * joint]
    mask = hands_mask([points], np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), 100)
    assert mask[36, 38] == 255 and mask[36, 62] == 255  # finger tips
    assert mask[75, 50] == 255  # palm
    assert mask[10, 50] == 0 and mask[50, 90] == 0 and mask[95, 5] == 0  # above, beside, below
    assert hands_mask([], np.eye(2, 3), 100) is None
    moved = hands_mask([points], np.array([[1.0, 0.0, -200.0], [0.0, 1.0, 0.0]]), 100)  # entirely outside this crop
    assert moved is None


def test_cut_out_follows_the_hand_edge_closely():
    from faceswap.convert.blend import cut_out

    mask = np.ones((200, 200), np.float32)
    hand = np.zeros((200, 200), np.uint8)
    hand[:, :100] = 255
    result = cut_out(mask, hand)
    assert result[:, :99].max() < 0.01  # the hand keeps its pixels
    assert result[:, 104:].min() > 0.97  # and the face runs up to a few pixels from its edge


def test_extract_stores_the_hands_and_the_segmenter_labels_leave_them_out(extracted_faces, faces_a, tmp_path):
    import cv2

    from faceswap.align import alignments
    from faceswap.errors import UserError

    for index in HAND_FRAMES:
        assert len(faces_a[index].hands) == 1, f"frame {index}: {faces_a[index].hands}"
    for index in NO_HAND_FRAMES:
        assert faces_a[index].hands == []

    # The label of a hand frame: GrabCut calls the skin-coloured fingers face, the stored hands take them out.
    from faceswap.align.transform import rescale
    from faceswap.hands.drawing import hands_mask
    from faceswap.segment.data import _sample

    stored = alignments.load(extracted_faces["a"])
    record = faces_a[200].faces[0]  # her fingers over her mouth; GrabCut's label there is one training keeps
    hand = hands_mask([np.asarray(h) for h in faces_a[200].hands], rescale(record.matrix_array(), stored.template.size, 128), 128)
    hand = cv2.erode(hand, np.ones((3, 3), np.uint8)) > 127
    labels = {}
    for name, hands in (("with", faces_a[200].hands), ("without", None)):
        _, label, _, reliable = _sample(extracted_faces["a"], record, stored.source.width, stored.source.height, hands,
                                        stored.template, 128)
        labels[name] = label[0] > 127
        assert reliable
    fingers_on_face = (labels["without"] & hand).sum()  # the rest of the hand mask lies below her chin
    assert fingers_on_face > 100, f"GrabCut left the fingers out by itself ({fingers_on_face} px): nothing to test"
    still_face = (labels["with"] & hand).sum()  # a pixel or two: the label is made at the crop's own size, then resized
    assert still_face <= 0.02 * fingers_on_face, f"{still_face} hand pixels are still labelled face"
    assert (labels["with"] | hand).sum() >= labels["without"].sum()  # only the hand left the label

    # Stored hands are checked when read.
    data = alignments.load(extracted_faces["a"]).to_dict()
    data["frames"][130]["hands"] = [[[1.0, 2.0]] * 20]
    with pytest.raises(UserError, match="frame 130.*21"):
        alignments.Alignments.from_dict(data)
    del data["frames"][130]["hands"]
    assert alignments.Alignments.from_dict(data).by_frame_index()[130].hands is None  # an older file: not looked for


@pytest.fixture(scope="module")
def converted(tmp_path_factory, trained_swap_model, extracted_faces, asset):
    """The clip converted with the hands extract stored, with hands found on the fly, and without hands,
    all through the landmark outline (the session's segmenter learnt her hands from the stored ones:
    it would keep most fingers by itself)."""
    from faceswap.convert import ConvertConfig, convert

    out = tmp_path_factory.mktemp("hands")
    runs = {}
    for name, options in (("stored", {"alignments": str(extracted_faces["a"])}), ("on_the_fly", {}),
                          ("none", {"alignments": str(extracted_faces["a"]), "hands": "none"})):
        summary = convert(ConvertConfig(input=str(asset("video_wolfgang")), model_dir=str(trained_swap_model),
                                        output=str(out / f"{name}.mp4"), frames=f"{CLIP[0]}:{CLIP[1]}", mask="outline",
                                        progress=False,
                                        **options))
        runs[name] = (read_frames(out / f"{name}.mp4").astype(np.int16), summary)
    return runs


def test_convert_keeps_the_fingers_in_front_of_the_swapped_face(converted, faces_a, asset):
    import cv2

    before = read_frames(asset("video_wolfgang"), CLIP[0], CLIP[1]).astype(np.int16)
    hands = np.stack([cv2.erode(_frame_mask([np.asarray(h) for h in faces_a[index].hands], before.shape[1:]).astype(np.uint8),
                                np.ones((5, 5), np.uint8)) > 0 for index in range(*CLIP)])
    painted_over = (np.abs(converted["none"][0] - before).max(axis=3) > TOLERANCE) & hands
    assert painted_over.sum() > 20_000, f"without hands only {painted_over.sum()} finger pixels changed: nothing to keep"
    for name in ("stored", "on_the_fly"):
        after, summary = converted[name]
        kept = float((np.abs(after - before).max(axis=3)[painted_over] <= TOLERANCE).mean())
        assert kept >= 0.97, f"{name}: only {kept:.1%} of the finger pixels the swap painted over came out unchanged"
        assert summary.hand_frames == CLIP[1] - CLIP[0] and "hands kept in front in 40 frames" in summary.describe()
        face = (np.abs(after - before).max(axis=3) > TOLERANCE) & ~hands
        assert face.sum() > painted_over.sum(), f"{name}: the face around the hand was not swapped"
    assert converted["none"][1].hand_frames == 0


def test_identity_leaves_out_faces_with_a_hand_over_them():
    from faceswap.evaluate.quality import identity_verdict
    from faceswap.evaluate.quality_sampler import _identity

    rng = np.random.default_rng(0)
    person_a, person_b = np.zeros(8), np.full(8, 0.4)
    reference = person_a + rng.normal(0, 0.02, (20, 8))
    output = person_b + rng.normal(0, 0.02, (20, 8))
    covered = np.zeros(20, bool)
    covered[:4] = True
    output[:4] = reference[:4]  # the hand over those faces pulls the output to the reference
    score = _identity(output, reference, person_b + rng.normal(0, 0.02, (10, 8)), 0.6, covered)
    assert score.transfer == 1.0 and score.transfer_all == pytest.approx(0.8) and score.hand_covered == 4
    assert "4 faces with a hand over them left out" in identity_verdict(score, 0.6)[1]
    everything = _identity(output, reference, person_b + rng.normal(0, 0.02, (10, 8)), 0.6)
    assert everything.transfer == pytest.approx(0.8) and everything.hand_covered == 0 and everything.transfer_all is None
    few_free = np.ones(20, bool)
    few_free[:3] = False  # under MIN_UNCOVERED free faces: all of them count
    assert _identity(output, reference, person_b[None].repeat(3, 0), 0.6, few_free).hand_covered == 0
