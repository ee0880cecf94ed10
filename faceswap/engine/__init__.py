"""The training engine: fits any task (an nn.Module whose forward(batch) returns a dict with a
scalar "loss" and other scalar metrics). It knows nothing about faces or classes.

    from faceswap.engine import Trainer, TrainConfig, Callback
    trainer = Trainer(task, TrainConfig(out_dir="runs/x", epochs=5))
    metrics = trainer.fit(train_dataset, val_dataset)

Weights for inference: ``load_model_weights(module, best_model_path(run_dir))``.

Exact resume (``deterministic=True``, ``resume=True``): the data order is a function of (seed,
epoch) and a resumed run skips the batches its epoch already used; the global RNGs (Python,
numpy, torch) are restored. Randomness drawn from those RNGs in the main process (num_workers=0)
or on the device is therefore replayed exactly. With num_workers > 0, draw augmentation
randomness from a generator seeded per sample (a dataset may define ``set_epoch(epoch)``; the
engine calls it before each epoch).

Names resolve lazily, so that stage configs can import ``faceswap.engine.config`` (no torch)
while a CLI builds its parsers.
"""
from __future__ import annotations

from faceswap.lazy import lazy_getattr

_EXPORTS = {
    "Callback": "faceswap.engine.callbacks",
    "EveryNSteps": "faceswap.engine.callbacks",
    "best_model_path": "faceswap.engine.checkpoint",
    "latest_model_path": "faceswap.engine.checkpoint",
    "load_model_weights": "faceswap.engine.checkpoint",
    "TrainConfig": "faceswap.engine.config",
    "seed_everything": "faceswap.engine.seeding",
    "Trainer": "faceswap.engine.trainer",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
