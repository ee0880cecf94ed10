"""Shared fixtures: real sample media from the asset cache, faces extracted from it once per
session, a briefly trained swap model, and a way to install a small third-party distribution."""
from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from faceswap import assets


@pytest.fixture(scope="session")
def asset():
    """``asset("video_wolfgang")`` -> path of a cached asset (fetched on first use)."""
    return assets.ensure


@pytest.fixture(scope="module")
def one_torch_thread():
    """Small models run fastest on one thread on a 2-core machine (see ASSETS.md pitfalls)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def extracted_faces(tmp_path_factory, asset):
    """Faces of both sample talking-head videos, extracted once with the default settings.

    Returns {"a": faces dir of WolfgangLanger_Pexels.mp4, "b": faces dir of single_face.mp4}.
    """
    from faceswap.extract import ExtractConfig, extract

    root = tmp_path_factory.mktemp("extracted")
    dirs = {}
    for side, name in (("a", "video_wolfgang"), ("b", "video_single_face")):
        dirs[side] = root / side
        extract(ExtractConfig(input=str(asset(name)), output_dir=str(dirs[side])))
    return dirs


@pytest.fixture(scope="session")
def trained_segmenter(tmp_path_factory, extracted_faces):
    """The default Tiramisu segmenter fitted briefly on both sample faces folders."""
    from faceswap.segment import SegmentTrainConfig, train_segmenter

    out = tmp_path_factory.mktemp("segmenter") / "seg"
    train_segmenter(SegmentTrainConfig(faces=(str(extracted_faces["a"]), str(extracted_faces["b"])), out_dir=str(out),
                                       steps=SEGMENTER_TEST_STEPS, max_faces=200, progress=False, seed=0,
                                       threads=1))  # two test workers share the cores: no thread timing
    return out


SEGMENTER_TEST_STEPS = 200
SWAP_TEST_STEPS = 200  # test_swap_train.py checks that the loss falls and the faces are learnt by then


@pytest.fixture(scope="session")
def trained_swap_model(tmp_path_factory, extracted_faces, trained_segmenter):
    """A 64 px `original` model trained for a couple of hundred steps on the two sample faces, with the
    session's segmenter as its mask source (and so beside it for convert). Without the perceptual
    term, which would cost a third more time: test_swap_train.py trains with it on its own."""
    from faceswap.swap import SwapTrainConfig, train_swap

    model_dir = tmp_path_factory.mktemp("swap_model")
    train_swap(SwapTrainConfig(faces_a=str(extracted_faces["a"]), faces_b=str(extracted_faces["b"]),
                               model_dir=str(model_dir), preset="original", steps=SWAP_TEST_STEPS, seed=0,
                               segmenter=str(trained_segmenter), perceptual_weight=0.0, threads=1))
    return model_dir


class DistributionInstaller:
    """Installs a tiny distribution (package + dist-info with entry points) on sys.path.

    That is how a third-party plugin package looks to importlib.metadata once pip installed
    it; subprocesses see it through PYTHONPATH.
    """

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self.monkeypatch = monkeypatch

    def install(self, dist_name: str, modules: dict[str, str], entry_points: dict[str, dict[str, str]]) -> Path:
        site = self.root / f"site-{dist_name}"
        for module_path, source in modules.items():
            target = site / module_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(source))
        dist_info = site / f"{dist_name.replace('-', '_')}-0.1.0.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 0.1.0\n")
        lines = []
        for group, members in entry_points.items():
            lines.append(f"[{group}]")
            lines += [f"{name} = {value}" for name, value in members.items()]
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        self.monkeypatch.syspath_prepend(str(site))
        self.monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
        return site


@pytest.fixture
def install_distribution(tmp_path, monkeypatch):
    return DistributionInstaller(tmp_path, monkeypatch).install


def run_cli(*argv: str, env: dict | None = None, cwd: str | None = None):
    """Run the installed console script in a subprocess, as a user would."""
    import subprocess

    executable = Path(sys.executable).parent / argv[0]
    return subprocess.run([str(executable), *argv[1:]], capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd)


@pytest.fixture
def cli():
    """``cli("faceswap", "extract", ...)`` -> CompletedProcess of the console script."""
    return run_cli
