"""Synthetic blinks: the warp that closes a training face's eyes, on real faces of the sample video."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from faceswap.align.template import Template
from faceswap.errors import UserError
from faceswap.swap import SwapTrainConfig
from faceswap.swap.augment import AugmentSettings, augment
from faceswap.swap.blink import EYE_HALF_WIDTH, LID_SKIN, LOWER_LID, UPPER_LID, blink_offsets, eye_centres, random_closure

SIZE = 128
STILL = dict(warp=0.0, rotation=0.0, zoom=0.0, shift=0.0, flip=0.0, colour=0.0, ramp_calls=0)


@pytest.fixture(scope="module")
def open_eyed_faces(extracted_faces):
    """Faces of the man in the sample video, who keeps his eyes open throughout."""
    from faceswap.swap.data import load_face_set

    return load_face_set(extracted_faces["b"], SIZE, min_faces=2).faces[::12]


def _grid(count: int) -> torch.Tensor:
    identity = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).expand(count, 2, 3)
    return F.affine_grid(identity, [count, 3, SIZE, SIZE], align_corners=False)


def _eye_boxes(template: Template, below: float = LOWER_LID, above: float = UPPER_LID + LID_SKIN) -> torch.Tensor:
    """(H, W) True over each eye's width, from ``above`` over its centre to ``below`` under it (eye distances)."""
    centres = eye_centres(template)
    eye_distance = torch.linalg.vector_norm(centres[1] - centres[0])
    grid = _grid(1)[0]
    inside = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    for x, y in centres:
        inside |= ((grid[..., 0] - x).abs() <= EYE_HALF_WIDTH * eye_distance) \
            & (grid[..., 1] >= y - above * eye_distance) & (grid[..., 1] <= y + below * eye_distance)
    return inside


def _openings(template: Template) -> torch.Tensor:
    """(H, W) True inside the modelled eye openings (between the lids)."""
    return _eye_boxes(template, below=LOWER_LID / 2, above=UPPER_LID / 2)


def _dark_share(images: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
    """(N,) share of ``where`` darker than 60% of the face's median brightness: iris, pupil and lashes."""
    grey = images.mean(dim=1)
    median = grey[:, SIZE // 3:SIZE * 3 // 4, SIZE // 4:SIZE * 3 // 4].flatten(1).median(dim=1).values
    return ((grey < 0.6 * median.view(-1, 1, 1)) & where).flatten(1).sum(dim=1) / where.sum()


def test_offsets_move_only_lid_skin_over_the_eyes_and_only_when_closing():
    template = Template(size=SIZE)
    grid = _grid(3)
    offsets = blink_offsets(grid, eye_centres(template), torch.tensor([0.0, 0.7, 1.0]))
    assert torch.equal(offsets[0], torch.zeros_like(offsets[0]))  # open: nothing moves
    assert torch.equal(offsets[..., 0], torch.zeros_like(offsets[..., 0]))  # lids move vertically only
    moved = offsets[1:, ..., 1] != 0
    assert moved.any() and not (moved & ~_eye_boxes(template)).any()
    assert (offsets[1:, ..., 1] <= 0).all()  # each closed pixel shows lid skin from above it
    assert offsets[2, ..., 1].abs().max() > offsets[1, ..., 1].abs().max()  # shut moves the lid further than 0.7


def test_closing_covers_the_iris_of_real_open_eyes(open_eyed_faces):
    template = Template(size=SIZE)
    generator = torch.Generator().manual_seed(0)
    open_ = augment(open_eyed_faces, torch.ones(1, 1, SIZE, SIZE), SIZE, AugmentSettings(**STILL), generator,
                    eye_centres(template))
    shut = augment(open_eyed_faces, torch.ones(1, 1, SIZE, SIZE), SIZE, AugmentSettings(blink=1.0, **STILL), generator,
                   eye_centres(template))
    before, after = _dark_share(open_.targets, _openings(template)), _dark_share(shut.targets, _openings(template))
    assert before.mean() > 0.25  # his open eyes: iris and lashes fill much of the opening
    assert after.mean() < 0.5 * before.mean()
    assert torch.equal(shut.inputs, shut.targets)  # the model is asked to draw the closed eyes it is shown
    away = ~_eye_boxes(template)
    assert torch.equal(shut.targets[..., away], open_.targets[..., away])


def test_a_share_of_faces_is_closed_nearly_or_fully():
    closure = random_closure(4000, 0.25, torch.Generator().manual_seed(1), torch.device("cpu"))
    closed = closure[closure > 0]
    assert 0.22 < len(closed) / len(closure) < 0.28
    assert closed.min() >= 0.7 and closed.max() <= 1.0
    assert not random_closure(100, 0.0, torch.Generator(), torch.device("cpu")).any()


def test_blink_share_outside_zero_to_one_is_a_user_error():
    with pytest.raises(UserError, match="--blink"):
        SwapTrainConfig(faces_a="a", faces_b="b", model_dir="m", blink=1.5)
