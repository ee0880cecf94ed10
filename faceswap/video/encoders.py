"""Which FFmpeg video encoder a writer opens: libx264, or NVENC on an NVIDIA GPU with a clean fallback.

pip's PyAV wheels are built with NVENC, so ``h264_nvenc`` is usually *listed* even without a GPU;
it then fails only when opened (no libcuda, no device). So NVENC is opened once, small, before
the real stream is made, and any failure becomes libx264 plus one sentence saying why.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

NVENC_CODECS = {"nvenc": "h264_nvenc", "nvenc_hevc": "hevc_nvenc"}
NVENC_PRESET = "p4"  # NVENC's middle preset (p1 fastest .. p7 best): real time at 1080p with x264-medium-like quality
ENCODER_NAMES = ("x264", *NVENC_CODECS)


@dataclass(frozen=True)
class EncoderChoice:
    codec: str  # the FFmpeg encoder: libx264, h264_nvenc or hevc_nvenc
    options: dict[str, str]  # its private options (quality, preset)
    warning: str | None = None  # why NVENC was asked for but x264 is used

    def describe(self) -> str:
        quality = f"cq {self.options['cq']}" if "cq" in self.options else f"crf {self.options['crf']}"
        return f"{self.codec} ({self.options['preset']}, {quality})"


def choose_encoder(requested: str, width: int, height: int, rate: Fraction, crf: int, preset: str) -> EncoderChoice:
    """``requested`` is x264, nvenc or nvenc_hevc; NVENC that is missing or does not open falls back to x264."""
    x264 = EncoderChoice("libx264", {"crf": str(crf), "preset": preset})
    if requested == "x264":
        return x264
    if requested not in NVENC_CODECS:
        raise ValueError(f"unknown encoder {requested!r}; use one of {', '.join(ENCODER_NAMES)}")
    codec = NVENC_CODECS[requested]
    nvenc = EncoderChoice(codec, {"preset": NVENC_PRESET, "rc": "vbr", "cq": str(max(crf, 1)), "b": "0"})
    reason = nvenc_problem(codec, width, height, rate, nvenc.options)
    if reason is None:
        return nvenc
    return EncoderChoice(x264.codec, x264.options, f"--encoder {requested} is not usable here ({reason}); encoding with libx264 instead")


def nvenc_problem(codec: str, width: int, height: int, rate: Fraction, options: dict[str, str]) -> str | None:
    """None if ``codec`` opens at this size, else the reason in a few words."""
    import av

    if codec not in av.codecs_available:
        return f"this PyAV's FFmpeg has no {codec}"
    try:
        context = av.CodecContext.create(codec, "w")
        context.width, context.height, context.pix_fmt = width + width % 2, height + height % 2, "yuv420p"
        context.time_base = 1 / rate
        context.options = dict(options)
        context.open()
    except (av.error.FFmpegError, OSError, ValueError) as error:
        return f"{codec} did not open: {getattr(error, 'strerror', None) or error}"  # e.g. no NVIDIA driver or GPU
    return None
