"""Built-in presets of the shared-encoder autoencoder.

``original`` keeps the classic layout (64 px, four stride-2 convolutions, a dense bottleneck,
pixel-shuffle decoders that also draw a mask) at widths small enough to train on a laptop CPU in
minutes; ``original_wide`` is the same layout at the classic widths (128..1024) for a GPU;
``lite128`` is that layout at 128 px with narrow early layers, four times the pixels at ~0.45x
the examples/s on a CPU: it needs runs longer than the demo's 10 minutes to overtake ``original``;
``large128`` works at 128 px with more capacity and residual decoders; ``gpu256`` is the residual
layout at 256 px for a GPU.
"""
from __future__ import annotations

from faceswap.registry import register


def _build(defaults: dict, resolution: int, encoder_widths: tuple[int, ...], bottleneck: int,
           decoder_widths: tuple[int, ...]):
    from faceswap.swap.models.autoencoder import SwapAutoencoder

    return SwapAutoencoder(
        resolution=resolution or defaults["resolution"],
        encoder_widths=tuple(encoder_widths) or defaults["encoder_widths"],
        bottleneck=bottleneck or defaults["bottleneck"],
        decoder_widths=tuple(decoder_widths) or defaults["decoder_widths"],
        residual=defaults["residual"],
    )


ORIGINAL = {"resolution": 64, "encoder_widths": (16, 32, 64, 128), "bottleneck": 128,
            "decoder_widths": (48, 24, 12), "residual": False}
ORIGINAL_WIDE = {"resolution": 64, "encoder_widths": (128, 256, 512, 1024), "bottleneck": 512,
                 "decoder_widths": (256, 128, 64), "residual": False}
LITE128 = {"resolution": 128, "encoder_widths": (8, 16, 32, 64, 128), "bottleneck": 128,
           "decoder_widths": (48, 24, 12, 8), "residual": False}
GPU256 = {"resolution": 256, "encoder_widths": (32, 64, 128, 256, 512, 1024), "bottleneck": 512,
          "decoder_widths": (512, 256, 128, 64, 32), "residual": True}
LARGE128 = {"resolution": 128, "encoder_widths": (64, 128, 256, 512, 1024), "bottleneck": 512,
            "decoder_widths": (512, 256, 128, 64), "residual": True}


@register("swap_model", "original")
def original(resolution: int = 0, encoder_widths: tuple[int, ...] = (), bottleneck: int = 0,
             decoder_widths: tuple[int, ...] = ()):
    """64 px classic: conv downscales, dense bottleneck, upscaling decoders with a mask output."""
    return _build(ORIGINAL, resolution, encoder_widths, bottleneck, decoder_widths)


@register("swap_model", "original_wide")
def original_wide(resolution: int = 0, encoder_widths: tuple[int, ...] = (), bottleneck: int = 0,
                  decoder_widths: tuple[int, ...] = ()):
    """64 px classic at the classic widths: the same layout as ``original`` with ~16x the compute."""
    return _build(ORIGINAL_WIDE, resolution, encoder_widths, bottleneck, decoder_widths)


@register("swap_model", "large128")
def large128(resolution: int = 0, encoder_widths: tuple[int, ...] = (), bottleneck: int = 0,
             decoder_widths: tuple[int, ...] = ()):
    """128 px, wider, with residual blocks in the decoders: for GPU training."""
    return _build(LARGE128, resolution, encoder_widths, bottleneck, decoder_widths)


@register("swap_model", "lite128")
def lite128(resolution: int = 0, encoder_widths: tuple[int, ...] = (), bottleneck: int = 0,
            decoder_widths: tuple[int, ...] = ()):
    """128 px classic with narrow early layers: twice the detail of ``original`` at ~0.45x its CPU speed."""
    return _build(LITE128, resolution, encoder_widths, bottleneck, decoder_widths)


@register("swap_model", "gpu256")
def gpu256(resolution: int = 0, encoder_widths: tuple[int, ...] = (), bottleneck: int = 0,
           decoder_widths: tuple[int, ...] = ()):
    """256 px, residual decoders, ~100M parameters: for a GPU (batch 32+, bf16)."""
    return _build(GPU256, resolution, encoder_widths, bottleneck, decoder_widths)
