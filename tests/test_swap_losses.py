"""The optional swap loss terms: the perceptual loss on frozen ImageNet features and the
adversarial loss with its discriminator, and how both sit in the task (gradients, state, config)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from faceswap.align.template import Template
from faceswap.engine.checkpoint import load_model_weights
from faceswap.errors import UserError
from faceswap.fileio import write_weights_atomic
from faceswap.registry import get
from faceswap.swap.adversarial import AdversarialLoss
from faceswap.swap.config import SwapTrainConfig
from faceswap.swap.task import build_swap_task

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"resolution": 32, "encoder_widths": (8, 16), "bottleneck": 8, "decoder_widths": (8,)}


def _config(**overrides) -> SwapTrainConfig:
    return SwapTrainConfig(faces_a="a", faces_b="b", model_dir="m", **overrides)


def _task(**overrides):
    torch.manual_seed(0)
    return build_swap_task(get("swap_model", "original")(**TINY), Template(), 64, _config(**overrides))


def _faces(count: int = 2, size: int = 64, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (count, 4, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def perceptual(asset):
    from faceswap.swap.perceptual import PerceptualLoss

    asset("mobilenet_v2_imagenet")
    return PerceptualLoss()


# ----------------------------------------------------------------------------- adversarial
def _adversarial_grads(weight: float, seed: int = 0):
    """(generator grads, discriminator grads) of one adversarial loss call on a tiny generator."""
    torch.manual_seed(seed)
    generator = nn.Conv2d(3, 3, 3, padding=1)
    adversarial = AdversarialLoss(weight, widths=(4, 8))
    inputs, targets = torch.rand(4, 3, 32, 32), torch.rand(4, 3, 32, 32)
    masks = (torch.rand(4, 1, 32, 32) > 0.3).float()
    result = adversarial(torch.sigmoid(generator(inputs)), targets, masks)
    result["loss"].backward()
    return ([p.grad.clone() for p in generator.parameters()],
            [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in adversarial.discriminator.parameters()])


def test_adversarial_terms_reach_disjoint_parameters():
    generator_only_d_term, discriminator_only_d_term = _adversarial_grads(weight=0.0)
    generator_both, discriminator_both = _adversarial_grads(weight=1.0)
    # the discriminator term (on detached fakes) gives the generator nothing
    assert all(torch.count_nonzero(g) == 0 for g in generator_only_d_term)
    # the generator term (through detached discriminator parameters) gives the discriminator nothing
    assert all(torch.equal(a, b) for a, b in zip(discriminator_only_d_term, discriminator_both))
    assert all(torch.count_nonzero(g) > 0 for g in generator_both)
    assert all(torch.count_nonzero(d) > 0 for d in discriminator_both)


def test_generator_term_moves_fakes_towards_what_the_discriminator_calls_real():
    torch.manual_seed(0)
    adversarial = AdversarialLoss(1.0, widths=(4, 8))
    fakes = torch.rand(2, 3, 32, 32, requires_grad=True)
    masks = torch.ones(2, 1, 32, 32)
    adversarial(fakes, torch.rand(2, 3, 32, 32), masks)["loss"].backward()
    with torch.no_grad():
        before = adversarial.discriminator(fakes).mean()
        after = adversarial.discriminator(fakes - 0.01 * fakes.grad.sign()).mean()
    assert after > before


def test_discriminator_is_in_the_task_state_not_in_the_swap_model(tmp_path):
    task = _task(adversarial_weight=0.1)
    assert any(key.startswith("adversarial.discriminator.") for key in task.state_dict())
    assert not any("discriminator" in key for key in task.model.state_dict())
    trained = task.train()((_faces(), _faces(seed=1)))
    assert {"adv_g", "adv_d"} <= set(trained)
    # a checkpoint of the task carries the discriminator; a task without one refuses it in one sentence
    write_weights_atomic(tmp_path / "task.safetensors", task, "test")
    resumed = _task(adversarial_weight=0.1)
    load_model_weights(resumed, tmp_path / "task.safetensors")
    assert torch.equal(resumed.adversarial.discriminator.body[0].weight, task.adversarial.discriminator.body[0].weight)
    with pytest.raises(UserError, match="do not fit"):
        load_model_weights(_task(), tmp_path / "task.safetensors")


def test_adversarial_loss_plays_only_while_training():
    with_gan, without = _task(adversarial_weight=0.1).eval(), _task().eval()
    batch = (_faces(), _faces(seed=1))
    with torch.no_grad():
        validated, plain = with_gan(batch), without(batch)
    assert "adv_g" not in validated
    assert torch.allclose(validated["loss"], plain["loss"])


# ------------------------------------------------------------------------------ perceptual
def test_perceptual_network_is_frozen_and_never_saved(perceptual):
    assert list(perceptual.parameters()) == [] and perceptual.state_dict() == {}
    assert not any(isinstance(m, nn.BatchNorm2d) for m in perceptual.modules())  # folded: train() cannot change it
    images, targets, weights = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64), torch.ones(2, 1, 64, 64)
    in_eval = perceptual.eval()(images, targets, weights)
    assert torch.allclose(perceptual.train()(images, targets, weights), in_eval)


def test_perceptual_distance_sees_blur_and_respects_the_weights(perceptual):
    faces = F.interpolate(torch.rand(2, 3, 16, 16), size=(64, 64), mode="bicubic", align_corners=False).clamp(0, 1)
    weights = torch.ones(2, 1, 64, 64)
    assert perceptual(faces, faces, weights) == 0
    blurred = F.avg_pool2d(faces, 5, 1, 2, count_include_pad=False)
    assert perceptual(blurred, faces, weights) > 0.05
    # a change far outside the weighted region costs (almost) nothing
    right_half = torch.zeros_like(weights)
    right_half[..., 48:] = 1
    changed = faces.clone()
    changed[..., :12] = 1 - changed[..., :12]
    assert perceptual(changed, faces, right_half) < 0.01 * perceptual(changed, faces, weights)


def test_perceptual_loss_is_float32_under_autocast(perceptual):
    images = torch.rand(2, 3, 64, 64, requires_grad=True)
    targets, weights = torch.rand(2, 3, 64, 64), torch.ones(2, 1, 64, 64)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = perceptual(images.bfloat16(), targets.bfloat16(), weights)
    assert value.dtype == torch.float32 and torch.isfinite(value)
    value.backward()
    assert torch.isfinite(images.grad).all() and images.grad.abs().sum() > 0


def test_perceptual_term_adds_no_parameters_or_state_to_the_task(asset):
    asset("mobilenet_v2_imagenet")
    task, plain = _task(perceptual_weight=1.0), _task()
    assert task.state_dict().keys() == plain.state_dict().keys()
    assert [p.shape for p in task.parameters()] == [p.shape for p in plain.parameters()]
    result = task.train()((_faces(), _faces(seed=1)))
    assert result["perceptual_a"] > 0 and result["loss"] > plain.train()((_faces(), _faces(seed=1)))["loss"] - 1e-6


def test_perceptual_off_never_loads_the_network(monkeypatch):
    import faceswap.backbones.mobilenet_v2 as backbone

    def refuse():
        raise AssertionError("the ImageNet network was loaded with perceptual_weight 0")

    monkeypatch.setattr(backbone, "load_imagenet_model", refuse)
    assert _task(perceptual_weight=0.0).loss.perceptual is None


# -------------------------------------------------------------------------- configuration
def test_warp_grid_reaches_the_augmentation():
    assert _task(warp_grid=9, warp=0.05).augment_settings.warp_grid == 9


@pytest.mark.parametrize("overrides, words", [
    ({"warp_grid": 1}, "--warp-grid"),
    ({"perceptual_weight": -1.0}, "perceptual_weight"),
    ({"adversarial_weight": -0.1}, "adversarial_weight"),
])
def test_bad_loss_settings_are_user_errors(overrides, words):
    with pytest.raises(UserError, match=words):
        _config(**overrides)
