"""Each layer imports only the layers below it (the engine's own guard is test_engine_imports.py).

From the bottom: video and align; identity; segment; extract; curate; swap (training); convert;
evaluate (reads what convert wrote, never a model); demo and the CLI on top. Nothing in faceswap
imports the classify package, which is built on faceswap's engine and backbones.

Inside extract, a plugin family's private modules (``detectors/_base.py``, ``_onnx.py``) serve that
family alone; what other code needs is public (the face types in ``extract/faces.py``, which sit
below the plugins and the finder and import nothing from extract).
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


REPO_DIR = PACKAGE_DIR.parent
EXTRACT_PLUGIN_FAMILIES = ("detectors", "aligners", "maskers")


def _private_plugin_imports(roots: list[Path], package_dir: Path) -> set[str]:
    """Imports of an extract plugin family's private module (``_name``) from outside the family's folder."""
    offenders = set()
    for path in sorted(p for root in roots for p in root.rglob("*.py")):
        for name in imported_modules(path):
            for family in EXTRACT_PLUGIN_FAMILIES:
                if name.startswith(f"faceswap.extract.{family}._") and package_dir / "extract" / family not in path.parents:
                    offenders.add(f"{path.name}: {name}")
    return offenders


def test_only_a_plugin_family_imports_its_private_modules():
    assert not _private_plugin_imports([PACKAGE_DIR, REPO_DIR / "scripts"], PACKAGE_DIR)


def test_the_face_types_import_nothing_from_the_extract_stage():
    from faceswap.extract.faces import Detection, FoundFace, box_iou, nms  # noqa: F401 - the public names

    imported = imported_modules(PACKAGE_DIR / "extract" / "faces.py")
    assert "faceswap.align.alignments" in imported and not [name for name in imported if name.startswith("faceswap.extract")]


def test_the_guard_sees_a_private_plugin_import(tmp_path):
    detectors = tmp_path / "faceswap" / "extract" / "detectors"
    detectors.mkdir(parents=True)
    (detectors / "mine.py").write_text("from faceswap.extract.detectors._base import keep_large_enough\n")
    (tmp_path / "faceswap" / "extract" / "tracking.py").write_text("from faceswap.extract.detectors._base import box_iou\n")
    assert _private_plugin_imports([tmp_path], tmp_path / "faceswap") == {
        "tracking.py: faceswap.extract.detectors._base", "tracking.py: faceswap.extract.detectors._base.box_iou"}
