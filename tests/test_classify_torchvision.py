"""AlexNet and VGG against torchvision's own definitions, read as data from torchvision's wheel
(the ``torchvision_model_source`` asset): the class bodies are parsed out of alexnet.py and
vgg.py and built here, torchvision itself is never imported."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch
from torch import nn

from classify.network import build_backbone, build_head
from faceswap.errors import UserError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

KEEP = {"AlexNet", "VGG", "make_layers", "cfgs"}  # the definitions; weights enums and builders need torchvision


def _torchvision_definitions(source_dir: Path) -> dict:
    namespace = {"torch": torch, "nn": nn, "Any": object, "Optional": object, "Union": object,
                 "cast": lambda _type, value: value, "_log_api_usage_once": lambda _module: None}
    for file in ("alexnet.py", "vgg.py"):
        tree = ast.parse((source_dir / file).read_text(encoding="utf-8"))
        kept = [node for node in tree.body
                if (isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name in KEEP)
                or (isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) in KEEP)]
        exec(compile(ast.Module(body=kept, type_ignores=[]), file, "exec"), namespace)  # noqa: S102
    return namespace


@pytest.fixture(scope="module")
def torchvision_models(asset):
    return _torchvision_definitions(Path(asset("torchvision_model_source")))


def _ours_with_head(name: str) -> dict[str, tuple]:
    """Our backbone's keys and shapes, then the 1000-class linear head's as torchvision names it."""
    backbone = build_backbone(name, 3, 224, {})
    head = build_head("linear", backbone.feature_size, 1000, {})
    shapes = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    shapes.update({f"classifier.6.{k}": tuple(v.shape) for k, v in head[1].state_dict().items()})
    return shapes


@pytest.mark.parametrize("name, build, first_linear", [
    ("alexnet", lambda tv: tv["AlexNet"](), "classifier.1.weight"),
    ("vgg11", lambda tv: tv["VGG"](tv["make_layers"](tv["cfgs"]["A"])), "classifier.0.weight"),
    ("vgg16", lambda tv: tv["VGG"](tv["make_layers"](tv["cfgs"]["D"])), "classifier.0.weight"),
])
def test_state_dict_keys_and_shapes_match_torchvision(torchvision_models, name, build, first_linear):
    with torch.device("meta"):  # shapes only: no memory for 138M parameters
        theirs = {k: tuple(v.shape) for k, v in build(torchvision_models).state_dict().items()}
        ours = _ours_with_head(name)
    assert list(ours) == list(theirs)
    assert ours == theirs
    assert ours["features.0.weight"][1] == 3 and ours[first_linear][0] == 4096


def test_torchvision_alexnet_weights_give_torchvision_outputs(torchvision_models, tmp_path):
    torch.manual_seed(0)
    theirs = torchvision_models["AlexNet"]().eval()
    weights = tmp_path / "alexnet-random.pth"
    torch.save(theirs.state_dict(), weights)
    backbone = build_backbone("alexnet", 3, 224, {}).eval()
    head = build_head("linear", backbone.feature_size, 1000, {})
    head_weights = backbone.load_pretrained(weights)
    head[1].load_state_dict(head_weights)
    images = torch.rand(2, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(head.eval()(backbone(images)), theirs(images))


def test_weights_of_another_architecture_are_one_clear_error(asset):
    backbone = build_backbone("alexnet", 3, 224, {})
    before = backbone.features[0].weight.clone()
    with pytest.raises(UserError, match=r"does not hold AlexNet weights \(12 of its 14 tensors missing, e\.g\. features\.0\.weight\)"):
        backbone.load_pretrained(asset("mobilenet_v2_imagenet"))  # torchvision's MobileNetV2 file
    assert torch.equal(backbone.features[0].weight, before)


def test_alexnet_refuses_images_too_small_for_its_pools():
    with pytest.raises(UserError, match="'alexnet' needs images of at least 63 px; pass --img-size 63"):
        build_backbone("alexnet", 3, 32, {})
    with torch.device("meta"):  # shapes only
        assert build_backbone("alexnet", 3, 63, {})(torch.rand(1, 3, 63, 63)).shape == (1, 4096)
