"""Contract over every registered segmenter, and proof that the default one learns to find a
face-like ellipse behind an occluder."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from faceswap import registry
from faceswap.errors import UserError


def _rebuild(name: str, model: torch.nn.Module) -> torch.nn.Module:
    """What a model folder does: the options saved as JSON (lists) go back through the factory."""
    options = {key: tuple(value) if isinstance(value, list) else value for key, value in model.options.items()}
    return registry.get("segmenter", name)(**options)


def test_the_cpu_default_is_registered():
    assert "tiramisu" in registry.names("segmenter")


@pytest.mark.parametrize("name", registry.names("segmenter"))
def test_segmenter_contract(name, one_torch_thread):
    torch.manual_seed(0)
    model = registry.get("segmenter", name)()
    size = model.resolution
    logits = model(torch.rand(2, 3, size, size))
    assert logits.shape == (2, 1, size, size) and torch.isfinite(logits).all()
    logits.mean().backward()
    without_grad = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not without_grad, f"one forward must reach every parameter (DDP), these got no gradient: {without_grad[:5]}"
    rebuilt = _rebuild(name, model)
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
    assert rebuilt.options == model.options
    model.eval()
    with torch.inference_mode():  # a model may run at another size than it was built for
        assert model(torch.rand(1, 3, size * 2, size * 2)).shape == (1, 1, size * 2, size * 2)
    with pytest.raises(UserError, match="resolution"):
        registry.get("segmenter", name)(resolution=size + 4)


@pytest.mark.parametrize("options, words", [
    ({"resolution": 60}, "multiple of 8"),
    ({"growth": -1}, "growth"),
    ({"down_layers": (2, 0)}, "layer"),
    ({"dropout": 1.5}, "dropout"),
])
def test_bad_settings_are_user_errors(options, words):
    with pytest.raises(UserError, match=words):
        registry.get("segmenter", "tiramisu")(**options)


def test_images_of_a_size_the_model_cannot_take_are_user_errors():
    with pytest.raises(UserError, match="multiple of 8"):
        registry.get("segmenter", "tiramisu")()(torch.rand(1, 3, 60, 60))


def test_settings_override_the_preset():
    model = registry.get("segmenter", "tiramisu")(resolution=32, growth=4, down_layers=(1, 1), dropout=0.0)
    assert model.options == {"resolution": 32, "growth": 4, "first_width": 12, "down_layers": [1, 1],
                             "bottleneck_layers": 4, "dropout": 0.0}
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 1, 32, 32)


def synthetic_crops(count: int, size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy one-colour backgrounds, a central ellipse of another colour (the face) and a rectangle
    of a third colour coming in from a random side (a hand, a microphone).

    Returns (images NCHW RGB [0, 1], masks N1HW {0, 1} of ellipse minus rectangle)."""
    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator)

    grid = (torch.arange(size) + 0.5) / size
    x, y = grid.view(1, 1, -1).expand(1, size, size), grid.view(1, -1, 1).expand(1, size, size)
    centre, radii = 0.4 + rand(2, count, 1, 1) * 0.2, 0.2 + rand(2, count, 1, 1) * 0.15
    ellipse = ((x - centre[0]) / radii[0]) ** 2 + ((y - centre[1]) / radii[1]) ** 2 <= 1
    side = torch.randint(0, 4, (count,), generator=generator)  # left, right, top, bottom
    inward, across = torch.cat([x, 1 - x, y, 1 - y])[side], torch.cat([y, y, x, x])[side]
    depth, start, length = 0.2 + rand(count, 1, 1) * 0.25, 0.2 + rand(count, 1, 1) * 0.35, 0.15 + rand(count, 1, 1) * 0.25
    rectangle = (inward <= depth) & (across >= start) & (across <= start + length)
    background = rand(count, 3, 1, 1)
    face = (background + 0.3 + 0.4 * rand(count, 3, 1, 1)) % 1  # every channel 0.3+ away from the background
    occluder = (face + 0.3 + 0.4 * rand(count, 3, 1, 1)) % 1
    images = torch.where(rectangle.unsqueeze(1), occluder, torch.where(ellipse.unsqueeze(1), face, background))
    images = (images + 0.08 * torch.randn(count, 3, size, size, generator=generator)).clamp(0, 1)
    return images, (ellipse & ~rectangle).unsqueeze(1).float()


def test_default_segmenter_learns_a_face_behind_an_occluder(one_torch_thread):
    """300 Adam steps of 8 crops at 24 px (the model runs at any multiple of 8): ~10 s on one thread."""
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    model = registry.get("segmenter", "tiramisu")()
    steps, size = 300, 24
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 1e-2, total_steps=steps, pct_start=0.2)
    for _ in range(steps):
        images, masks = synthetic_crops(8, size, generator)
        loss = F.binary_cross_entropy_with_logits(model(images), masks)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    images, masks = synthetic_crops(64, size, torch.Generator().manual_seed(1))
    model.eval()
    with torch.inference_mode():
        found = model(images) > 0
    face = masks > 0
    iou = (found & face).sum() / (found | face).sum()
    assert iou >= 0.9, f"IoU {iou:.3f} on held-out crops"
