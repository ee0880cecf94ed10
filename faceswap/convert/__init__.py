"""Convert: swap faces in a video with a trained model, streaming from decode to encode.

    from faceswap.convert import ConvertConfig, convert
    summary = convert(ConvertConfig(input="in.mp4", model_dir="model", output="out.mp4"))

Per frame: faces (from an earlier extract's alignments file, or found on the fly) -> aligned
crops batched across frames through the model and the masker (by default the model folder's
segmenter: the visible face) -> mask feathered inward -> colour match -> inverse warp -> blend ->
encode with the input's audio, through a ``video_writer`` plugin. Masks in ``masks.py``. See ``pipeline.py``; batches of videos in
``batch.py``. On CUDA the model runs in bf16 and faces are warped and blended by torch (``paste_torch.py``);
paste workers (``paste_workers.py``) and the encoder are chosen in ``choices.py`` and printed at start. How good a swap is: faceswap/evaluate/; the whole path on sample media: faceswap/demo.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faceswap.convert.config import ConvertConfig

if TYPE_CHECKING:
    from faceswap.convert.pipeline import ConvertSummary, convert

__all__ = ["ConvertConfig", "ConvertSummary", "convert"]


def __getattr__(name: str) -> Any:
    # the pipeline pulls in torch and video code; keep `import faceswap.convert.color` light
    if name in ("convert", "ConvertSummary"):
        from faceswap.convert import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
