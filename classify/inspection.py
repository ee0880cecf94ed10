"""``classify.inspect_run``: what a network learned, as pictures.

Every tile is captioned with its channel (or unit) and every picture with the layer's name.
filters.png tiles the first layer's weights (a convolution's kernels, or for models without
convolutions the first linear layer's rows shaped as images); with an image, feature_maps_*.png
tiles the outputs of the first and of the deepest convolution that still has a spatial layout.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classify.images import prepare, read_image
from classify.rundir import read_model_json
from faceswap.errors import UserError

MAX_TILES = 64


@dataclass
class InspectResult:
    filters_png: str
    first_layer: str
    feature_maps: list[str] = field(default_factory=list)


def _first_layer(classifier, spec):
    """(name, weights as image tiles (N, H, W[, 3]) float)."""
    from torch import nn

    pixels = spec.channels * spec.img_size * spec.img_size
    for name, module in classifier.named_modules():
        if isinstance(module, nn.Conv2d):
            weight = module.weight.detach().float().cpu().numpy()  # (out, in/groups, kh, kw)
            tiles = weight.transpose(0, 2, 3, 1) if weight.shape[1] == 3 else weight.mean(axis=1)
            return name, tiles[:MAX_TILES]
        if isinstance(module, nn.Linear) and module.in_features == pixels:
            weight = module.weight.detach().float().cpu().numpy().reshape(-1, spec.channels, spec.img_size, spec.img_size)
            tiles = weight.transpose(0, 2, 3, 1) if spec.channels == 3 else weight[:, 0]
            return name, tiles[:MAX_TILES]
    raise UserError("This model has neither a convolution nor a linear layer on the pixels to show.")


def _feature_maps(classifier, image_NHWC_uint8: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(layer name, maps (C, H, W)) of the first and of the deepest spatial convolution."""
    import torch
    from torch import nn

    from classify.samples import to_tensor_NCHW

    outputs: list[tuple[str, np.ndarray]] = []
    hooks = [module.register_forward_hook(lambda _m, _i, out, name=name: outputs.append((name, out[0].detach().float().cpu().numpy())))
             for name, module in classifier.named_modules() if isinstance(module, nn.Conv2d)]
    try:
        with torch.no_grad():
            classifier(to_tensor_NCHW(image_NHWC_uint8).to(next(classifier.parameters()).device))
    finally:
        for hook in hooks:
            hook.remove()
    spatial = [(name, maps) for name, maps in outputs if min(maps.shape[1:]) >= 2]
    if not spatial:
        return []
    chosen = [spatial[0]] if len(spatial) == 1 else [spatial[0], spatial[-1]]
    return [(name, np.maximum(maps, 0)[:MAX_TILES]) for name, maps in chosen]


def inspect_run(run_dir: str | Path, image: str | Path | None = None, out_dir: str | Path | None = None,
                device: str = "cpu") -> InspectResult:
    """Write filters.png (and feature_maps_*.png for ``image``) into out_dir (default RUN/inspect)."""
    info = read_model_json(run_dir)
    decoded = None
    if image is not None:
        picture = read_image(image)
        if picture is None:
            raise UserError(f"The image '{image}' does not exist or cannot be read; pass an image file.")
        decoded = prepare(picture, info["img_size"], info["channels"], info.get("crop_ratio", 1.0))[None]
    from classify.drawing import grid, labelled_grid, normalise_each, write_png
    from classify.rundir import load_run

    classifier, spec, _ = load_run(run_dir, device)
    out_dir = Path(out_dir or Path(run_dir) / "inspect")
    name, tiles = _first_layer(classifier, spec)
    kind = "unit" if tiles.ndim >= 3 and tiles.shape[1] == spec.img_size else "filter"
    write_png(out_dir / "filters.png", labelled_grid(
        normalise_each(tiles), [[f"{kind} {k}"] for k in range(len(tiles))], tile_px=48 if tiles.shape[1] <= 12 else 64,
        title=f"{name}: first {len(tiles)} {kind}s"))
    result = InspectResult(str(out_dir / "filters.png"), name)
    if decoded is not None:
        write_png(out_dir / "input.png", grid(decoded[..., 0] if spec.channels == 1 else decoded, tile_px=128))
        for layer, maps in _feature_maps(classifier, decoded):
            path = out_dir / f"feature_maps_{layer.replace('.', '_')}.png"
            write_png(path, labelled_grid(normalise_each(maps), [[f"channel {k}"] for k in range(len(maps))], tile_px=64,
                                          title=f"{layer}: {len(maps)} channels, {maps.shape[1]}x{maps.shape[2]} (ReLU)"))
            result.feature_maps.append(str(path))
    return result
