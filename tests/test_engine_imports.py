"""The engine knows nothing about faces or classes: no import of face or classifier code."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import faceswap.engine

FORBIDDEN = ("faceswap.extract", "faceswap.swap", "faceswap.convert", "faceswap.align", "faceswap.video", "classify")
ENGINE_DIR = Path(faceswap.engine.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module an engine file imports (relative imports resolved)."""
    package = "faceswap.engine"  # every engine file is a module of this package
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def is_forbidden(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in FORBIDDEN)


def test_engine_sources_import_no_face_or_classifier_code():
    files = sorted(ENGINE_DIR.rglob("*.py"))
    assert len(files) >= 8
    offenders = {f"{path.name}: {name}" for path in files for name in imported_modules(path) if is_forbidden(name)}
    assert not offenders


def test_importing_the_engine_loads_no_face_or_classifier_module():
    code = ("import sys, faceswap.engine, faceswap.engine.checkpoint, faceswap.engine.trainer; "
            "print('\\n'.join(sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.split()
    assert "faceswap.engine.trainer" in loaded
    assert [name for name in loaded if is_forbidden(name)] == []


def test_forbidden_check_catches_a_face_import(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text("from faceswap.extract import extract\nimport classify.models\nfrom ..swap import x\n")
    assert {name for name in imported_modules(source) if is_forbidden(name)} >= {
        "faceswap.extract", "classify.models", "faceswap.swap"}
