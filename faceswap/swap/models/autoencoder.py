"""The shared-encoder / two-decoder autoencoder that every built-in swap preset builds.

The encoder squeezes a face through stride-2 convolutions and a dense bottleneck into a code
that is meant to hold pose, expression and lighting but not identity; each decoder renders
that code as its own person, plus a mask of where the face is. Trained on both people with one
encoder, decoding A's code with B's decoder is the swap.

Faces are RGB floats in [0, 1], NCHW, at ``resolution`` pixels.
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Direction = Literal["a2b", "b2a"]


def _act() -> nn.Module:
    return nn.LeakyReLU(0.1, inplace=True)


class Downscale(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.Conv2d(in_channels, out_channels, 5, stride=2, padding=2), _act())


class Upscale(nn.Sequential):
    """Conv to 4x the channels, then pixel shuffle: doubles the size without checkerboards."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.Conv2d(in_channels, out_channels * 4, 3, padding=1), _act(), nn.PixelShuffle(2))


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), _act(), nn.Conv2d(channels, channels, 3, padding=1))
        self.act = _act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


class Encoder(nn.Module):
    """Downscales, dense bottleneck, dense back out, one upscale: faces -> latent feature map."""

    def __init__(self, resolution: int, widths: tuple[int, ...], bottleneck: int):
        super().__init__()
        channels = (3, *widths)
        self.convs = nn.Sequential(*(Downscale(c_in, c_out) for c_in, c_out in zip(channels, channels[1:])))
        self.code_size = resolution // 2 ** len(widths)
        self.code_channels = widths[-1]
        flat = self.code_channels * self.code_size**2
        self.to_code = nn.Linear(flat, bottleneck)
        self.from_code = nn.Linear(bottleneck, flat)
        self.upscale = Upscale(self.code_channels, self.code_channels // 2)
        self.out_channels = self.code_channels // 2

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        features = self.convs(faces * 2 - 1)
        code = self.to_code(features.flatten(1))
        features = self.from_code(code).view(-1, self.code_channels, self.code_size, self.code_size)
        return self.upscale(features)


class Decoder(nn.Module):
    """Latent feature map -> (face RGB in [0, 1], mask in [0, 1]) at full resolution."""

    def __init__(self, in_channels: int, widths: tuple[int, ...], resolution: int, residual: bool = False):
        super().__init__()
        channels = (in_channels, *widths)
        layers: list[nn.Module] = []
        for c_in, c_out in zip(channels, channels[1:]):
            layers.append(Upscale(c_in, c_out))
            if residual:
                layers.append(ResidualBlock(c_out))
        self.body = nn.Sequential(*layers)
        self.to_face_and_mask = nn.Conv2d(widths[-1], 4, 3, padding=1)  # RGB + mask logits in one conv
        # A per-pixel output bias: aligned faces share their layout, so the decoder can start from
        # its person's mean face and mask (see init_from_faces) and learn only what differs.
        self.pixel_bias = nn.Parameter(torch.zeros(1, 4, resolution, resolution))

    def forward(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        face_and_mask = torch.sigmoid(self.to_face_and_mask(self.body(latent)) + self.pixel_bias)
        return face_and_mask[:, :3], face_and_mask[:, 3:]

    @torch.no_grad()
    def init_from_faces(self, mean_face_and_mask: torch.Tensor) -> None:
        """Set the pixel bias to the logit of a (4, H, W) mean face + mask in [0, 1]."""
        self.pixel_bias.copy_(torch.logit(mean_face_and_mask.clamp(0.02, 0.98)).unsqueeze(0).to(self.pixel_bias))


class SwapAutoencoder(nn.Module):
    """One encoder, decoders ``decoder_a`` and ``decoder_b``.

    ``options`` holds the preset factory's arguments that rebuild this model (saved in model.json).
    """

    def __init__(self, resolution: int, encoder_widths: tuple[int, ...], bottleneck: int,
                 decoder_widths: tuple[int, ...], residual: bool = False):
        super().__init__()
        encoder_widths, decoder_widths = tuple(encoder_widths), tuple(decoder_widths)
        _check_layout(resolution, encoder_widths, decoder_widths, bottleneck)
        self.resolution = resolution
        self.options = {"resolution": resolution, "encoder_widths": list(encoder_widths), "bottleneck": bottleneck,
                        "decoder_widths": list(decoder_widths)}
        self.encoder = Encoder(resolution, encoder_widths, bottleneck)
        self.decoder_a = Decoder(self.encoder.out_channels, decoder_widths, resolution, residual)
        self.decoder_b = Decoder(self.encoder.out_channels, decoder_widths, resolution, residual)

    def forward(self, faces_a: torch.Tensor, faces_b: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Reconstruct both people in one pass, so every parameter takes part (DDP needs that).

        Returns (faces_a, masks_a, faces_b, masks_b) as rebuilt by each person's own decoder.
        """
        latent = self.encoder(torch.cat([faces_a, faces_b]))
        latent_a, latent_b = latent.split([len(faces_a), len(faces_b)])
        return (*self.decoder_a(latent_a), *self.decoder_b(latent_b))

    def init_from_faces(self, faces_a: torch.Tensor, faces_b: torch.Tensor) -> None:
        """Start each decoder from its person's mean face and mask: (N, 4, S, S) uint8 RGB + mask."""
        for decoder, faces in ((self.decoder_a, faces_a), (self.decoder_b, faces_b)):
            mean = resize_faces(faces.float().mean(0, keepdim=True) / 255, self.resolution)[0]
            decoder.init_from_faces(mean)

    def decode(self, faces: torch.Tensor, side: Literal["a", "b"]) -> tuple[torch.Tensor, torch.Tensor]:
        decoder = self.decoder_a if side == "a" else self.decoder_b
        return decoder(self.encoder(faces))

    @torch.no_grad()
    def swap(self, faces: torch.Tensor, direction: Direction) -> tuple[torch.Tensor, torch.Tensor]:
        """Faces NCHW RGB float [0, 1] of any square size -> (swapped faces, masks N1HW) at ``resolution``."""
        if direction not in ("a2b", "b2a"):
            raise ValueError(f"direction must be 'a2b' or 'b2a', not {direction!r}")
        faces = resize_faces(faces.float(), self.resolution)
        return self.decode(faces, "b" if direction == "a2b" else "a")


def resize_faces(faces: torch.Tensor, size: int) -> torch.Tensor:
    """Resize square faces to ``size``: a box average for whole-number factors (what training
    sees: area-resized crops, sampled at pixel centres), else an antialiased bilinear resize."""
    current = faces.shape[-1]
    if current == size:
        return faces
    if current % size == 0:
        return F.avg_pool2d(faces, current // size)
    return F.interpolate(faces, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def _check_layout(resolution: int, encoder_widths: tuple[int, ...], decoder_widths: tuple[int, ...], bottleneck: int) -> None:
    from faceswap.errors import UserError

    if not encoder_widths or not decoder_widths or bottleneck < 1:
        raise UserError("A swap model needs encoder widths, decoder widths and a bottleneck of at least 1.")
    if len(decoder_widths) != len(encoder_widths) - 1:
        raise UserError(f"The decoder needs one width fewer than the encoder ({len(encoder_widths) - 1}), "
                        f"got {len(decoder_widths)}; adjust --decoder-widths.")
    if resolution % 2 ** len(encoder_widths) or resolution < 2 ** len(encoder_widths):
        raise UserError(f"Resolution {resolution} must be a multiple of {2 ** len(encoder_widths)} "
                        f"for {len(encoder_widths)} encoder widths; choose another --resolution.")
    if encoder_widths[-1] % 2:
        raise UserError(f"The last encoder width must be even, not {encoder_widths[-1]}.")
