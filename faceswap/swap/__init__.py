"""Face-swap training: one shared encoder, one decoder per person, on the shared engine.

    from faceswap.swap import SwapTrainConfig, train_swap, load_swap_model, ModelInfo
    train_swap(SwapTrainConfig(faces_a="out/a", faces_b="out/b", model_dir="models/ab", steps=20_000))
    model, info = load_swap_model("models/ab", "cuda")
    faces_b, masks = model.swap(faces_a_nchw_float01_rgb, "a2b")  # at info.resolution

``info.template`` is the alignment template the model was trained with (``template.fits``
tells whether other faces suit it); ``info.resolution`` is the model's face size.
"""
from faceswap.swap.config import SwapTrainConfig
from faceswap.swap.model_dir import ModelInfo, load_swap_model


def train_swap(config: SwapTrainConfig, callbacks=()) -> dict[str, float]:
    from faceswap.swap.train import train_swap as _train_swap

    return _train_swap(config, callbacks)


__all__ = ["ModelInfo", "SwapTrainConfig", "load_swap_model", "train_swap"]
