"""The `faceswap` console script: version, help, assets, and the one-line error contract."""
from __future__ import annotations

import pytest

from faceswap import __version__, assets
from faceswap.cli.main import PROGRAM_DESCRIPTION, build_parser


def _command_names() -> list[str]:
    parser = build_parser("faceswap", PROGRAM_DESCRIPTION, "faceswap.cli")
    (subparsers,) = [action for action in parser._actions if action.__class__.__name__ == "_SubParsersAction"]
    return list(subparsers.choices)


def test_version(cli):
    result = cli("faceswap", "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"faceswap {__version__}"


def test_help_lists_every_command(cli):
    result = cli("faceswap", "--help")
    assert result.returncode == 0
    commands = _command_names()
    assert {"assets", "plugins"} <= set(commands)
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("    ") and line.split()}
    assert set(commands) <= listed


def test_no_command_prints_help_and_fails(cli):
    result = cli("faceswap")
    assert result.returncode == 1 and "usage: faceswap" in result.stdout


def test_assets_list_shows_the_real_cache(cli, asset):
    asset("video_wolfgang")
    result = cli("faceswap", "assets", "list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"cache: {assets.cache_dir()}"
    (line,) = [line for line in result.stdout.splitlines() if line.split()[:1] == ["video_wolfgang"]]
    assert line.split()[1] == "cached"


def test_unknown_asset_exits_2_with_one_line(cli, tmp_path):
    result = cli("faceswap", "assets", "fetch", "no_such_asset", env={assets.CACHE_ENV: str(tmp_path)})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Unknown asset 'no_such_asset'")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, expected", [
    (["--minutes", "0"], "--minutes must be positive"),
    (["--device", "tpu"], "Unknown device 'tpu'"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
])
def test_demo_refuses_bad_settings_before_any_work(cli, tmp_path, argv, expected):
    result = cli("faceswap", "demo", "--out", str(tmp_path / "demo"), *argv)
    assert result.returncode == 2 and expected in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "demo").exists()
