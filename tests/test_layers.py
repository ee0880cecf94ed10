"""Each layer imports only the layers below it (the engine's own guard is test_engine_imports.py).

From the bottom: video and align; identity; segment; extract; curate; swap (training); convert;
evaluate (reads what convert wrote, never a model); demo and the CLI on top. Nothing in faceswap
imports the classify package, which is built on faceswap's engine and backbones.

A private module or name (``_base.py``, ``_engine_config``) serves the folder that holds it alone:
an extract plugin family's ``detectors/_base.py`` only the detectors, a private function of
``swap/train.py`` only swap. What other code needs is public (the face types in
``extract/faces.py``, which sit below the plugins and the finder and import nothing from extract).
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


def _private_imports(roots: list[Path], package_dir: Path) -> set[str]:
    """Imports of a private module or name (``_base``, ``_engine_config``) from outside the folder
    that holds it: ``faceswap.extract.detectors._base`` serves ``extract/detectors/`` alone, a
    private function of ``swap/train.py`` serves ``swap/`` alone."""
    offenders = set()
    for path in sorted(p for root in roots for p in root.rglob("*.py")):
        for name in imported_modules(path):
            parts = name.split(".")
            private = next((i for i, part in enumerate(parts) if part.startswith("_") and not part.startswith("__")), None)
            if parts[0] != "faceswap" or private is None:
                continue
            owner = package_dir.joinpath(*parts[1:private])
            if private > 1 and parts[private - 1] in {p.stem for p in owner.parent.glob("*.py")}:
                owner = owner.parent  # a private name of a module: the module's folder owns it
            if owner not in path.parents:
                offenders.add(f"{path.name}: {name}")
    return offenders


def test_only_the_folder_that_holds_a_private_module_or_name_imports_it():
    assert not _private_imports([PACKAGE_DIR, REPO_DIR / "scripts", REPO_DIR / "classify"], PACKAGE_DIR)


def test_the_face_types_import_nothing_from_the_extract_stage():
    from faceswap.extract.faces import Detection, FoundFace, box_iou, nms  # noqa: F401 - the public names

    imported = imported_modules(PACKAGE_DIR / "extract" / "faces.py")
    assert "faceswap.align.alignments" in imported and not [name for name in imported if name.startswith("faceswap.extract")]


def test_the_guard_sees_a_private_import_from_outside_its_folder(tmp_path):
    package = tmp_path / "faceswap"
    detectors, swap = package / "extract" / "detectors", package / "swap"
    detectors.mkdir(parents=True)
    swap.mkdir()
    (swap / "train.py").write_text("def _engine_config():\n    pass\n")
    (detectors / "mine.py").write_text("from faceswap.extract.detectors._base import keep_large_enough\n")
    (swap / "task.py").write_text("from faceswap.swap.train import _engine_config\n")
    (package / "extract" / "tracking.py").write_text("from faceswap.extract.detectors._base import box_iou\n")
    (package / "demo.py").write_text("from faceswap.swap.train import _engine_config\nfrom faceswap.identity._dlib import landmarks\n")
    assert _private_imports([tmp_path], package) == {
        "tracking.py: faceswap.extract.detectors._base", "tracking.py: faceswap.extract.detectors._base.box_iou",
        "demo.py: faceswap.swap.train._engine_config", "demo.py: faceswap.identity._dlib",
        "demo.py: faceswap.identity._dlib.landmarks"}
