"""Classification as an engine task: forward(batch) -> {"loss", "accuracy"}."""
from __future__ import annotations

import torch
from torch import nn


def _unpack(batch) -> tuple[torch.Tensor, torch.Tensor]:
    if isinstance(batch, dict):
        return batch["image"], batch["label"]
    inputs, labels = batch
    return inputs, labels


class ClassificationTask(nn.Module):
    """Cross-entropy on a model's logits; the model may be a whole classifier (images in) or a
    head alone (cached backbone features in), the task does not care."""

    def __init__(self, model: nn.Module, label_smoothing: float = 0.0):
        super().__init__()
        self.model = model
        self.label_smoothing = label_smoothing

    def forward(self, batch) -> dict[str, torch.Tensor]:
        inputs, labels = _unpack(batch)
        logits = self.model(inputs)
        loss = nn.functional.cross_entropy(logits.float(), labels, label_smoothing=self.label_smoothing)
        accuracy = (logits.argmax(dim=1) == labels).float().mean()
        return {"loss": loss, "accuracy": accuracy.detach()}
