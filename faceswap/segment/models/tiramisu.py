"""FC-DenseNet ("The One Hundred Layers Tiramisu", Jégou et al. 2017) as a face segmenter.

Dense blocks go down through max-pools and back up through transposed convolutions, with skips
at each size. Going up, only the feature maps a dense block adds are upsampled, not its input,
so the up path stays cheap. ``tiramisu`` is small enough for a CPU; ``tiramisu56`` is the
paper's FC-DenseNet56 (first width 48, growth 12, five down blocks and a bottleneck of 4 layers
each) at 128 px for a GPU.
"""
from __future__ import annotations

import torch
from torch import nn

from faceswap.errors import UserError
from faceswap.registry import register


def _dense_layer(in_channels: int, growth: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
                         nn.Conv2d(in_channels, growth, 3, padding=1), nn.Dropout(dropout))


class DenseBlock(nn.Module):
    """Each layer sees the block input and every earlier layer's maps; returns all of them
    stacked, input first, so the new maps are the last ``out_channels`` channels."""

    def __init__(self, in_channels: int, growth: int, layers: int, dropout: float):
        super().__init__()
        self.layers = nn.ModuleList(_dense_layer(in_channels + i * growth, growth, dropout) for i in range(layers))
        self.out_channels = growth * layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], 1)
        return x


def _transition_down(channels: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 1),
                         nn.Dropout(dropout), nn.MaxPool2d(2))


def _transition_up(channels: int) -> nn.ConvTranspose2d:
    # padding 1 + output_padding 1 doubles the size exactly, so it lines up with the skip
    return nn.ConvTranspose2d(channels, channels, 3, stride=2, padding=1, output_padding=1)


class Tiramisu(nn.Module):
    """Images NCHW RGB [0, 1] -> face logits N1HW at the same size (see the family docstring)."""

    def __init__(self, resolution: int, growth: int, first_width: int, down_layers: tuple[int, ...],
                 bottleneck_layers: int, dropout: float):
        super().__init__()
        _check_layout(resolution, growth, first_width, down_layers, bottleneck_layers, dropout)
        self.resolution = resolution
        self.options = {"resolution": resolution, "growth": growth, "first_width": first_width,
                        "down_layers": list(down_layers), "bottleneck_layers": bottleneck_layers, "dropout": dropout}
        self.first_conv = nn.Conv2d(3, first_width, 3, padding=1)
        self.down_blocks, self.downs, skip_channels = nn.ModuleList(), nn.ModuleList(), []
        channels = first_width
        for layers in down_layers:
            self.down_blocks.append(DenseBlock(channels, growth, layers, dropout))
            channels += growth * layers  # going down, a block's input is kept beside its new maps
            skip_channels.append(channels)
            self.downs.append(_transition_down(channels, dropout))
        self.bottleneck = DenseBlock(channels, growth, bottleneck_layers, dropout)
        self.ups, self.up_blocks = nn.ModuleList(), nn.ModuleList()
        new_channels = self.bottleneck.out_channels
        for layers, skip in zip(reversed(down_layers), reversed(skip_channels)):
            self.ups.append(_transition_up(new_channels))
            self.up_blocks.append(DenseBlock(new_channels + skip, growth, layers, dropout))
            channels, new_channels = new_channels + skip, growth * layers
        self.to_logits = nn.Conv2d(channels + new_channels, 1, 1)

    @property
    def size_multiple(self) -> int:
        return 2 ** len(self.down_blocks)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-1] % self.size_multiple or images.shape[-2] % self.size_multiple:
            raise UserError(f"Image size {tuple(images.shape[-2:])} must be a multiple of {self.size_multiple} "
                            "for this segmenter; resize the crops.")
        # centre on 0 (no BN before the first conv); channels-last spares oneDNN (CPU) and tensor
        # cores (GPU) a layout reorder around every conv: about 1.5x faster on a CPU
        x = self.first_conv((images * 2 - 1).contiguous(memory_format=torch.channels_last))
        skips = []
        for block, down in zip(self.down_blocks, self.downs):
            x = block(x)
            skips.append(x)
            x = down(x)
        x = self.bottleneck(x)
        for up, block, skip in zip(self.ups, self.up_blocks, reversed(skips)):
            new_maps = x[:, x.shape[1] - up.in_channels:]  # upsample only what the last block added
            x = block(torch.cat([up(new_maps), skip], 1))
        return self.to_logits(x)  # the last block keeps its input too, as in the paper


def _check_layout(resolution: int, growth: int, first_width: int, down_layers: tuple[int, ...],
                  bottleneck_layers: int, dropout: float) -> None:
    if growth < 1 or first_width < 1:
        raise UserError(f"Segmenter growth ({growth}) and first width ({first_width}) must be at least 1; "
                        "choose positive values.")
    if not down_layers or min(down_layers) < 1 or bottleneck_layers < 1:
        raise UserError(f"Segmenter down layers {tuple(down_layers)} and bottleneck layers ({bottleneck_layers}) "
                        "need at least one block with at least one layer each; give positive layer counts.")
    multiple = 2 ** len(down_layers)
    if resolution < multiple or resolution % multiple:
        raise UserError(f"Segmenter resolution {resolution} must be a multiple of {multiple} for "
                        f"{len(down_layers)} down blocks; choose another resolution.")
    if not 0 <= dropout < 1:
        raise UserError(f"Segmenter dropout {dropout} must be in [0, 1); choose another dropout.")


def _build(preset: dict, resolution: int, growth: int, first_width: int, down_layers: tuple[int, ...],
           bottleneck_layers: int, dropout: float) -> Tiramisu:
    return Tiramisu(resolution=resolution or preset["resolution"], growth=growth or preset["growth"],
                    first_width=first_width or preset["first_width"],
                    down_layers=tuple(down_layers) or preset["down_layers"],
                    bottleneck_layers=bottleneck_layers or preset["bottleneck_layers"],
                    dropout=preset["dropout"] if dropout < 0 else dropout)


# Full-resolution layers cost the most on a CPU (memory traffic, not FLOPs), so the default keeps one
# layer in the first block and spends its depth at 16 and 8 px: ~93k parameters, ~46 MMAC a crop.
# No dropout by default: its random numbers cost ~10% of a CPU step, and the occluders and
# augmentation already regularise (held-out IoU was no worse without it).
TIRAMISU = {"resolution": 64, "growth": 8, "first_width": 12, "down_layers": (1, 2, 3), "bottleneck_layers": 4,
            "dropout": 0.0}
# FC-DenseNet56 of the paper: 1.37M parameters (the paper quotes 1.5M), ~2.9 GMAC a crop at 128 px.
TIRAMISU56 = {"resolution": 128, "growth": 12, "first_width": 48, "down_layers": (4, 4, 4, 4, 4),
              "bottleneck_layers": 4, "dropout": 0.2}


@register("segmenter", "tiramisu")
def tiramisu(resolution: int = 0, growth: int = 0, first_width: int = 0, down_layers: tuple[int, ...] = (),
             bottleneck_layers: int = 0, dropout: float = -1.0) -> Tiramisu:
    """64 px, three down blocks: fast enough to train and run on a CPU."""
    return _build(TIRAMISU, resolution, growth, first_width, down_layers, bottleneck_layers, dropout)


@register("segmenter", "tiramisu56")
def tiramisu56(resolution: int = 0, growth: int = 0, first_width: int = 0, down_layers: tuple[int, ...] = (),
               bottleneck_layers: int = 0, dropout: float = -1.0) -> Tiramisu:
    """The paper's FC-DenseNet56 at 128 px: for a GPU."""
    return _build(TIRAMISU56, resolution, growth, first_width, down_layers, bottleneck_layers, dropout)
