"""Contract over every registered swap model, and the model folder round trip."""
from __future__ import annotations

import pytest
import torch

from faceswap import registry
from faceswap.errors import UserError


@pytest.fixture
def one_thread():
    """Big presets on a shared 2-core machine: one torch thread is far faster than a contended two."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# GPU-class presets run the contract at a fraction of their widths (their layout, resolution and
# residual blocks unchanged): full width takes seconds per forward/backward on a CPU, and
# `faceswap models` (below) builds every preset at full width anyway.
REDUCED_WIDTHS = {
    "original_wide": {"encoder_widths": (16, 32, 64, 128), "bottleneck": 64, "decoder_widths": (32, 16, 8)},
    "large128": {"encoder_widths": (8, 16, 32, 64, 128), "bottleneck": 64, "decoder_widths": (64, 32, 16, 8)},
    "gpu256": {"encoder_widths": (4, 8, 16, 32, 64, 128), "bottleneck": 64, "decoder_widths": (64, 32, 16, 8, 4)},
}


@pytest.mark.parametrize("name", registry.names("swap_model"))
def test_swap_model_contract(name, one_thread):
    torch.manual_seed(0)
    model = registry.get("swap_model", name)(**REDUCED_WIDTHS.get(name, {}))
    size = model.resolution
    faces_a, faces_b = torch.rand(1, 3, size, size), torch.rand(1, 3, size, size)
    out_a, masks_a, out_b, masks_b = model(faces_a, faces_b)
    assert out_a.shape == faces_a.shape and out_b.shape == faces_b.shape
    assert masks_a.shape == (1, 1, size, size) and masks_b.shape == (1, 1, size, size)
    for tensor in (out_a, masks_a, out_b, masks_b):
        assert tensor.min() >= 0 and tensor.max() <= 1 and torch.isfinite(tensor).all()
    (out_a.mean() + masks_a.mean() + out_b.mean() + masks_b.mean()).backward()
    without_grad = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not without_grad, f"one forward must reach every parameter (DDP), these got no gradient: {without_grad[:5]}"
    # swap: any input size in, the model's resolution out, the other person's decoder used
    swapped, masks = model.swap(torch.rand(1, 3, size * 2, size * 2), "a2b")
    assert swapped.shape == (1, 3, size, size) and masks.shape == (1, 1, size, size)
    assert not swapped.requires_grad
    assert not torch.allclose(model.swap(faces_a, "b2a")[0], model.swap(faces_a, "a2b")[0])
    with pytest.raises(ValueError):
        model.swap(faces_a, "a2a")
    rebuilt = registry.get("swap_model", name)(**{k: tuple(v) if isinstance(v, list) else v for k, v in model.options.items()})
    assert rebuilt.state_dict().keys() == model.state_dict().keys()


def test_widths_and_resolution_are_configurable(one_thread):
    model = registry.get("swap_model", "original")(resolution=128, encoder_widths=(8, 16, 32, 64, 64), bottleneck=16,
                                                   decoder_widths=(16, 16, 8, 8))
    out = model(torch.rand(1, 3, 128, 128), torch.rand(1, 3, 128, 128))
    assert out[0].shape == (1, 3, 128, 128)
    assert model.options["encoder_widths"] == [8, 16, 32, 64, 64]


@pytest.mark.parametrize("options, words", [
    ({"resolution": 60}, "multiple of 16"),
    ({"decoder_widths": (8, 8)}, "one width fewer"),
])
def test_bad_layouts_are_user_errors(options, words):
    with pytest.raises(UserError, match=words):
        registry.get("swap_model", "original")(**options)


def test_models_cli_lists_presets_with_parameter_counts(cli):
    result = cli("faceswap", "models")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert {"original", "large128"} <= set(lines)
    original = sum(p.numel() for p in registry.get("swap_model", "original")().parameters())
    assert f"{original:,}" in lines["original"] and " 64 " in lines["original"]
    assert " 128 " in lines["large128"]
