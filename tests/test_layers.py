"""Each layer imports only the layers below it (the engine's own guard is test_engine_imports.py).

From the bottom: video and align; identity; segment; extract; curate; swap (training); convert;
evaluate (reads what convert wrote, never a model); demo and the CLI on top. Nothing in faceswap
imports the classify package, which is built on faceswap's engine and backbones.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_engine_imports import imported_modules

import faceswap

PACKAGE_DIR = Path(faceswap.__file__).parent
TOP = ("demo", "cli", "classify")
NOT_ALLOWED = {
    "video": ("align", "identity", "segment", "extract", "curate", "swap", "convert", "evaluate", "engine"),
    "align": ("identity", "segment", "extract", "curate", "swap", "convert", "evaluate", "engine"),
    "identity": ("segment", "extract", "curate", "swap", "convert", "evaluate", "engine"),
    "segment": ("extract", "curate", "swap", "convert", "evaluate"),
    "extract": ("curate", "swap", "convert", "evaluate", "engine"),
    "curate": ("swap", "convert", "evaluate", "engine"),
    "swap": ("extract", "curate", "convert", "evaluate"),
    "convert": ("curate", "evaluate"),
    "evaluate": ("swap", "curate", "convert", "engine"),
}


def _offenders(layer: str) -> set[str]:
    above = tuple(f"faceswap.{name}" for name in NOT_ALLOWED[layer] + TOP[:2]) + ("classify",)
    return {f"{path.relative_to(PACKAGE_DIR)}: {name}" for path in sorted((PACKAGE_DIR / layer).rglob("*.py"))
            for name in imported_modules(path) if any(name == prefix or name.startswith(prefix + ".") for prefix in above)}


@pytest.mark.parametrize("layer", sorted(NOT_ALLOWED))
def test_a_layer_imports_nothing_from_the_layers_above_it(layer):
    assert (PACKAGE_DIR / layer / "__init__.py").is_file()
    assert not _offenders(layer)


def test_the_guard_sees_an_import_from_above(tmp_path, monkeypatch):
    layer = tmp_path / "faceswap" / "extract"
    layer.mkdir(parents=True)
    (layer / "__init__.py").write_text("")
    (layer / "leak.py").write_text("from faceswap.convert.pipeline import convert\nimport classify.models\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE_DIR", tmp_path / "faceswap")
    assert _offenders("extract") == {"extract/leak.py: faceswap.convert.pipeline", "extract/leak.py: faceswap.convert.pipeline.convert",
                                     "extract/leak.py: classify.models"}
