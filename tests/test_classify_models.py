"""Contract tests over every registered classifier model and head, MobileNetV2's compatibility
with torchvision's ImageNet weights, and a third-party head installed as a distribution."""
from __future__ import annotations


import pytest
import torch

import classify
from classify.network import ModelSpec, build_backbone, build_classifier, build_head, parameter_count
from faceswap import registry

CLASSES = 3


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _input_size(name: str) -> int:
    return max(32, getattr(registry.get("classifier_model", name), "min_img_size", 1))


GIANT = 20_000_000  # parameters: ImageNet-size AlexNet/VGG run on the meta device (shapes and gradients, no values)


def _is_giant(name: str) -> bool:
    with torch.device("meta"):
        return parameter_count(build_backbone(name, 3, _input_size(name), {})) > GIANT


@pytest.mark.parametrize("name", registry.names("classifier_model"))
@pytest.mark.parametrize("channels", [1, 3])
def test_every_model_forward_backward(name, channels):
    torch.manual_seed(0)
    size = _input_size(name)
    giant = _is_giant(name)
    spec = ModelSpec(model=name, head="linear", classes=tuple("abc"), img_size=size, channels=channels,
                     mean=(0.5,) * channels, std=(0.25,) * channels)
    with torch.device("meta" if giant else "cpu"):
        classifier = build_classifier(spec).train()
        images = torch.rand(2, channels, size, size)
    features = classifier.features(images)
    assert features.shape == (2, classifier.backbone.feature_size)
    logits = classifier(images)
    assert logits.shape == (2, CLASSES) and (giant or torch.isfinite(logits).all())
    logits.logsumexp(dim=1).sum().backward()
    trainable = [p for p in classifier.parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None and p.grad.shape == p.shape for p in trainable)
    assert giant or any(p.grad.abs().sum() > 0 for p in classifier.head.parameters())


@pytest.mark.parametrize("head_name", registry.names("classifier_head"))
@pytest.mark.parametrize("model_name", ["perceptron", "lenet", "mobilenet_v2"])
def test_every_head_sits_on_any_backbone(head_name, model_name):
    backbone = build_backbone(model_name, 3, 32, {})
    head = build_head(head_name, backbone.feature_size, 5, {})
    logits = head(backbone(torch.rand(4, 3, 32, 32)))
    assert logits.shape == (4, 5)
    logits.sum().backward()
    assert all(p.grad is not None for p in head.parameters())


def test_mlp_options_change_the_network():
    mlp = build_backbone("mlp", 1, 28, {"hidden_sizes": [64, 32, 16], "activation": "tanh"})
    linears = [m for m in mlp.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [64, 32, 16] and mlp.feature_size == 16
    assert sum(isinstance(m, torch.nn.Tanh) for m in mlp.modules()) == 3
    for activation in ("sigmoid", "tanh", "relu", "leaky_relu", "elu"):
        assert build_backbone("mlp", 1, 8, {"activation": activation})(torch.rand(2, 1, 8, 8)).shape == (2, 128)


def test_mobilenet_v2_names_match_torchvision_weights_exactly(asset):
    from classify.models.mobilenet_v2 import MobileNetV2, MobileNetV2Backbone

    state_dict = torch.load(asset("mobilenet_v2_imagenet"), map_location="cpu", weights_only=True)
    ours = MobileNetV2().state_dict()
    assert list(ours) == list(state_dict)
    assert all(ours[k].shape == state_dict[k].shape for k in ours)
    backbone = MobileNetV2Backbone()
    assert set(backbone.state_dict()) == {k for k in state_dict if k.startswith("features.")}
    head = backbone.load_pretrained("imagenet")
    assert torch.equal(backbone.features[18][0].weight, state_dict["features.18.0.weight"])
    assert torch.equal(head["weight"], state_dict["classifier.1.weight"])


def test_mobilenet_v2_imagenet_top5_on_sample_photos(asset, tmp_path):
    run = classify.export_pretrained(tmp_path / "imagenet")
    photos = sorted(asset("imagenet_samples").glob("imagenet_*.jpg"))
    assert len(photos) == 20
    predictions = classify.predict(run, photos, top_k=5, threads=1)
    names = classify.imagenet_class_names()  # read as data from torchvision's wheel
    assert len(names) == 1000 and names[0] == "tench" and names[243] == "bull mastiff"
    labels = [names[int(photo.stem.split("_")[2])] for photo in photos]  # imagenet_NN_INDEX.jpg
    top5_hits = sum(label in [name for name, _ in p.top] for label, p in zip(labels, predictions))
    top1_hits = sum(label == p.label for label, p in zip(labels, predictions))
    assert top5_hits >= 18, f"top-5 {top5_hits}/20, top-1 {top1_hits}/20"
    assert top1_hits >= 14


THIRD_PARTY_HEAD = '''
import torch
from torch import nn


class CosineHead(nn.Module):
    """Cosine-similarity head with a learned scale."""

    def __init__(self, in_features, num_classes, scale=10.0):
        super().__init__()
        self.prototypes = nn.Parameter(torch.randn(num_classes, in_features) * 0.01)
        self.scale = nn.Parameter(torch.tensor(float(scale)))

    def forward(self, features):
        features = nn.functional.normalize(features, dim=1)
        return self.scale * features @ nn.functional.normalize(self.prototypes, dim=1).t()
'''


def test_third_party_head_from_an_installed_distribution_trains(install_distribution, tmp_path):
    install_distribution("tiny-cosine-head", modules={"tiny_cosine_head/__init__.py": THIRD_PARTY_HEAD},
                         entry_points={"faceswap.classifier_head": {"cosine": "tiny_cosine_head:CosineHead"}})
    assert "cosine" in registry.names("classifier_head")
    assert registry.source("classifier_head", "cosine").startswith("tiny-cosine-head")
    listed = {(p.family, p.name): p for p in classify.list_models()}
    assert listed[("classifier_head", "cosine")].parameters == 10 * 512 + 1

    data = classify.write_dataset("digits", tmp_path / "digits")
    result = classify.train(classify.TrainClassifierConfig(
        data=str(data.out / "train"), model="mlp", head="cosine", out=str(tmp_path / "run"), epochs=3,
        augment="none", val_fraction=0.0, threads=1, progress=False, hidden_sizes=(64,)))
    info = (result.run_dir / "model.json").read_text()
    assert '"head": "cosine"' in info
    report = classify.evaluate(result.run_dir, data.out / "test", write_files=False)
    assert report.accuracy >= 0.85, report.accuracy
