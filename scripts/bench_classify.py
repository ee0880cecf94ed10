"""Images/s of every classify model at its demo size, training and inference, against bare loops.

For each model (at the size and channels ``classify demo`` uses it), times
  * training: classify's path (ClassificationTask on the Classifier, the engine's Trainer, fp32,
    no checkpoints inside the timed steps) against a bare loop (forward, cross-entropy, backward,
    AdamW step) on the same model, tensors and batch;
  * inference: ``classify.inference.probabilities`` (what eval and predict run) against a bare
    ``torch.no_grad()`` forward + softmax over the same uint8 images;
and prints images/s of both and the ratio classify/bare, measured in the same run. Step times
are medians, so a busy neighbour's spikes count less; on a shared machine compare ratios, not
absolute figures.

    python scripts/bench_classify.py                       # every demo model, 1 thread
    python scripts/bench_classify.py --models lenet,vgg_small --threads 2 --device cuda
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from classify.inference import probabilities
from classify.network import ModelSpec, build_classifier
from classify.samples import to_tensor_NCHW
from classify.task import ClassificationTask
from faceswap.engine import Callback, TrainConfig, Trainer
from faceswap.runtime import pick_device, set_threads

# (image side, channels) as in classify demo; alexnet and vgg16 at ImageNet size for reference
DEMO_SIZES = {"perceptron": (28, 1), "mlp": (28, 1), "lenet": (28, 1), "small_cnn": (28, 1), "alexnet_small": (64, 1),
              "vgg_small": (64, 1), "mobilenet_v2": (96, 3), "alexnet": (224, 3), "vgg16": (224, 3)}
DEFAULT_MODELS = "perceptron,mlp,lenet,small_cnn,alexnet_small,vgg_small,mobilenet_v2"
CLASSES = 10


def classifier_for(name: str, device: torch.device) -> torch.nn.Module:
    size, channels = DEMO_SIZES[name]
    spec = ModelSpec(model=name, head="linear", classes=tuple(str(k) for k in range(CLASSES)), img_size=size,
                     channels=channels, mean=(0.5,) * channels, std=(0.25,) * channels)
    torch.manual_seed(0)
    return build_classifier(spec).to(device)


def median_rate(marks: list[float], batch: int) -> float:
    steps = sorted(b - a for a, b in zip(marks, marks[1:]))
    return batch / steps[len(steps) // 2]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_training(model, images, labels, batch: int, steps: int, device) -> float:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    marks = []
    for step in range(steps + 3):
        index = torch.randint(0, len(images), (batch,))
        loss = torch.nn.functional.cross_entropy(model(images[index].to(device)), labels[index].to(device))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step >= 2:
            sync(device)
            marks.append(time.perf_counter())
    return median_rate(marks, batch)


class _Clock(Callback):
    def __init__(self, device):
        self.marks, self.device = [], device

    def on_step_end(self, trainer, step, metrics):
        if step >= 3:
            sync(self.device)
            self.marks.append(time.perf_counter())


def classify_training(model, images, labels, batch: int, steps: int, device, threads: int) -> float:
    clock = _Clock(device)
    with tempfile.TemporaryDirectory() as out_dir:
        config = TrainConfig(out_dir=out_dir, epochs=None, max_steps=steps + 3, batch_size=batch, lr=1e-3,
                             device=str(device), threads=threads, precision="fp32", drop_last=True, progress=False,
                             save_every=10**9, tensorboard=False)
        Trainer(ClassificationTask(model), config, callbacks=[clock]).fit(
            torch.utils.data.TensorDataset(images, labels))
    return median_rate(clock.marks, batch)


@torch.no_grad()
def bare_inference(model, images_uint8: np.ndarray, batch: int, device) -> float:
    model.eval()
    marks = []
    for start in range(0, len(images_uint8) - batch + 1, batch):
        torch.softmax(model(to_tensor_NCHW(images_uint8[start:start + batch]).to(device)), dim=1).cpu()
        marks.append(time.perf_counter())
    return median_rate(marks, batch)


def classify_inference(model, images_uint8: np.ndarray, batch: int) -> float:
    model.eval()
    marks = []
    for start in range(0, len(images_uint8) - batch + 1, batch):
        probabilities(model, images_uint8[start:start + batch], batch)
        marks.append(time.perf_counter())
    return median_rate(marks, batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated, from {', '.join(DEMO_SIZES)}")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=12, help="timed training steps per loop")
    args = parser.parse_args()
    set_threads(args.threads)
    device = pick_device(args.device)
    print(f"device {device}, {args.threads} thread(s), batch {args.batch}; images/s (median step)")
    print(f"{'model':<14} {'size':>7} {'train bare':>10} {'classify':>9} {'ratio':>6} {'infer bare':>10} {'classify':>9} {'ratio':>6}")
    for name in args.models.split(","):
        size, channels = DEMO_SIZES[name]
        generator = torch.Generator().manual_seed(0)
        images = torch.rand(args.batch * 4, channels, size, size, generator=generator)
        labels = torch.randint(0, CLASSES, (len(images),), generator=generator)
        images_uint8 = (images.permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8)
        train_bare = bare_training(classifier_for(name, device), images, labels, args.batch, args.steps, device)
        train_ours = classify_training(classifier_for(name, device), images, labels, args.batch, args.steps, device,
                                       args.threads)
        model = classifier_for(name, device)
        infer_bare = bare_inference(model, np.concatenate([images_uint8] * 2), args.batch, device)
        infer_ours = classify_inference(model, np.concatenate([images_uint8] * 2), args.batch)
        print(f"{name:<14} {f'{channels}x{size}':>7} {train_bare:>10.0f} {train_ours:>9.0f} {train_ours / train_bare:>6.2f} "
              f"{infer_bare:>10.0f} {infer_ours:>9.0f} {infer_ours / infer_bare:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
