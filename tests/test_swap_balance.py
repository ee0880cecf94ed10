"""Balanced sampling: faces with a rare eye or mouth look are repeated in the training rows, on real
faces of the sample video (the man keeps his eyes open; a few of them get their eyes shut by the
blink warp, so which faces are rare is known)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faceswap.errors import UserError
from faceswap.swap import SwapTrainConfig
from faceswap.swap.balance import MAX_REPEAT, balanced_rows, repeats
from faceswap.swap.blink import blink_offsets, eye_centres

SIZE = 128
SHUT = (3, 17, 31, 45)  # of the 60 faces below


class ArrayReader:
    """The face cache's ``read(rows)`` over faces in memory."""

    def __init__(self, faces: np.ndarray):
        self.faces, self.reads = faces, 0

    def read(self, rows):
        self.reads += 1
        return self.faces[np.asarray(rows, dtype=np.int64)]


def _shut_eyes(faces: torch.Tensor, template) -> torch.Tensor:
    identity = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).expand(len(faces), 2, 3)
    grid = F.affine_grid(identity, [len(faces), 3, SIZE, SIZE], align_corners=False)
    grid = grid + blink_offsets(grid, eye_centres(template), torch.ones(len(faces)))
    closed = F.grid_sample(faces[:, :3].float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    return torch.cat([closed.round().clamp(0, 255).to(torch.uint8), faces[:, 3:]], dim=1)


@pytest.fixture(scope="module")
def faces_with_a_few_shut_eyes(extracted_faces):
    from faceswap.swap.data import load_face_set

    face_set = load_face_set(extracted_faces["b"], SIZE, min_faces=2)
    faces = face_set.faces[np.linspace(0, len(face_set) - 1, 60).round().astype(int)].clone()
    faces[list(SHUT)] = _shut_eyes(faces[list(SHUT)], face_set.template)
    return faces.numpy(), face_set.template


def test_rare_shut_eyes_are_drawn_more_often(faces_with_a_few_shut_eyes):
    faces, template = faces_with_a_few_shut_eyes
    rows = balanced_rows(ArrayReader(faces), range(len(faces)), template, strength=1.0, seed=0)
    counts = np.bincount(rows, minlength=len(faces))
    assert counts.min() >= 1 and set(rows) == set(range(len(faces)))  # every face still trains
    shut_share = counts[list(SHUT)].sum() / counts.sum()
    assert shut_share > 1.6 * len(SHUT) / len(faces), (shut_share, counts.tolist())  # 1.9x seen
    assert counts[list(SHUT)].min() > np.median(counts)


def test_the_same_faces_give_the_same_rows_and_strength_0_reads_nothing(faces_with_a_few_shut_eyes):
    faces, template = faces_with_a_few_shut_eyes
    first = balanced_rows(ArrayReader(faces), range(len(faces)), template, strength=0.5, seed=0)
    assert balanced_rows(ArrayReader(faces), range(len(faces)), template, strength=0.5, seed=0) == first  # resume
    reader = ArrayReader(faces)
    assert balanced_rows(reader, [5, 9, 11], template, strength=0.0) == [5, 9, 11] and reader.reads == 0


def test_repeats_even_out_cluster_shares():
    eyes = np.array([0] * 18 + [1] * 2)  # two faces show a rare look
    mouths = np.zeros(20, np.int64)
    times = repeats(eyes, mouths, strength=1.0)
    shares = [times[eyes == cluster].sum() / times.sum() for cluster in (0, 1)]
    assert times[18:].min() > times[:18].max() and shares[1] > 0.2  # was 0.1
    assert (repeats(eyes, mouths, strength=0.0) == 1).all()
    assert repeats(np.array([0] * 999 + [1]), np.zeros(1000, np.int64), 1.0).max() == MAX_REPEAT


@pytest.mark.parametrize("strength", [-0.1, 1.5])
def test_balance_out_of_range_is_refused(strength):
    with pytest.raises(UserError, match="--balance"):
        SwapTrainConfig(faces_a="a", faces_b="b", model_dir="m", balance=strength)


def test_training_with_balance_samples_the_repeated_rows(extracted_faces, tmp_path, caplog):
    import logging

    from faceswap.swap import train_swap
    from test_swap_support import TINY_MODEL, faces_subset

    faces = {side: faces_subset(extracted_faces[side], tmp_path / side, 24) for side in "ab"}
    with caplog.at_level(logging.INFO, logger="faceswap.swap"):
        train_swap(SwapTrainConfig(faces_a=str(faces["a"]), faces_b=str(faces["b"]), model_dir=str(tmp_path / "model"),
                                   batch_size=4, steps=2, eval_every=2, save_every=2, min_faces=10, threads=1, device="cpu",
                                   progress=False, segmenter="none", perceptual_weight=0.0, balance=1.0, **TINY_MODEL))
    lines = [line for line in caplog.text.splitlines() if "Balanced sampling of" in line]
    assert len(lines) == 2 and all("training rows from" in line for line in lines)
    assert (tmp_path / "model" / "model.safetensors").is_file()
