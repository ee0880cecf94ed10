"""`faceswap ui` without a browser: the CLI without the extra, listening beyond this machine, and
the path and upload checks every request goes through (the browser tests are in test_ui.py)."""
from __future__ import annotations

import asyncio
import sys

import pytest

from faceswap.cli.main import main
from faceswap.errors import UserError


def test_ui_without_the_extra_names_the_install_command(monkeypatch, capsys, tmp_path):
    for module in [name for name in sys.modules if name.startswith("faceswap.ui")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if the ui extra were not installed
    assert main(["ui", str(tmp_path / "ws")]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "pip install '.[ui]'" in error and "fastapi" in error


def test_core_commands_do_not_need_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "fastapi", None)
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0 and " ui " in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["--host", "0.0.0.0"], "--host 0.0.0.0 lets other machines reach the page; pass --token"),
    (["--host", "0.0.0.0", "--token", "short"], "use at least 16"),
    (["--max-upload-mb", "0"], "--max-upload-mb must be at least 1"),
])
def test_listening_beyond_this_machine_needs_a_token(capsys, tmp_path, argv, words):
    assert main(["ui", str(tmp_path / "ws"), "--port", "0", *argv]) == 2
    assert words in capsys.readouterr().err


def test_paths_are_resolved_inside_the_workspace(tmp_path):
    from faceswap.ui.workspace import Workspace

    workspace = Workspace.open(tmp_path / "ws")
    (workspace.root / "videos").mkdir()
    (workspace.root / "videos/a.mp4").write_bytes(b"x")
    (workspace.root / "out").symlink_to(tmp_path, target_is_directory=True)
    (workspace.root / "videos/in").symlink_to(workspace.root / "videos", target_is_directory=True)
    assert workspace.resolve("videos/a.mp4", must_exist=True) == workspace.root / "videos/a.mp4"
    assert workspace.resolve("videos/in/a.mp4") == workspace.root / "videos/a.mp4"  # a link that stays inside is fine
    assert workspace.resolve("results/new.mp4") == workspace.root / "results/new.mp4"
    for path, sentence in (("../x", "leaves the workspace"), ("videos/../../x", "leaves the workspace"),
                           ("..\\x", "leaves the workspace"), ("/etc/passwd", "is absolute"), ("C:\\x", "is absolute"),
                           ("out/secret", "through a link"), ("", "is empty"), ("videos/b.mp4", "does not exist")):
        with pytest.raises(UserError, match=sentence):
            workspace.resolve(path, must_exist=True)


def test_uploads_are_type_checked_and_size_limited(tmp_path):
    from faceswap.ui.uploads import save_upload, upload_name

    async def body(*chunks: bytes):
        for chunk in chunks:
            yield chunk

    assert upload_name("../../My Video (1).MP4") == "My_Video_1.mp4"
    with pytest.raises(UserError, match="not a video or image this page takes"):
        upload_name("run.sh")
    mp4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100
    assert asyncio.run(save_upload(body(mp4[:10], mp4[10:]), tmp_path / "a.mp4", 1000)) == len(mp4)
    assert (tmp_path / "a.mp4").read_bytes() == mp4
    with pytest.raises(UserError, match="larger than the upload limit"):
        asyncio.run(save_upload(body(mp4, mp4), tmp_path / "b.mp4", 150))
    with pytest.raises(UserError, match="is not a PNG file"):
        asyncio.run(save_upload(body(b"GIF89a" + b"\x00" * 20), tmp_path / "c.png", 1000))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.mp4"]  # nothing half-written left behind


def test_the_ui_sits_on_top_nothing_else_imports_it():
    """The page is a layer over the CLI and Python API: no stage imports it (and so none needs its extra)."""
    import ast
    from pathlib import Path

    import faceswap

    root = Path(faceswap.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.is_relative_to(root / "ui") or path == root / "cli" / "ui.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(root)}: {name}" for name in names if name.startswith("faceswap.ui")]
    assert not offenders
