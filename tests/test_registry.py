"""Plugin registry: decorator registration, clear unknown-name errors, third-party plugins
through entry points loaded lazily, and `faceswap plugins` listing them."""
from __future__ import annotations

import sys

import pytest

from faceswap import registry
from faceswap.errors import UserError

THIRD_PARTY_MODULE = "fs_acme_writer"
THIRD_PARTY_SOURCE = """
    from faceswap.video.writers._base import FrameWriter

    class AcmeWriter(FrameWriter):
        def __init__(self, path, width, height, fps, **options):
            self.path = path
"""


@pytest.fixture
def scratch_registry(monkeypatch):
    """A copy of the built-in tables, so test registrations vanish afterwards."""
    monkeypatch.setattr(registry, "_builtins", {family: dict(members) for family, members in registry._builtins.items()})
    return registry


@pytest.fixture
def acme_distribution(install_distribution, monkeypatch):
    monkeypatch.delitem(sys.modules, THIRD_PARTY_MODULE, raising=False)
    install_distribution("acme-writers", modules={f"{THIRD_PARTY_MODULE}/__init__.py": THIRD_PARTY_SOURCE},
                         entry_points={"faceswap.video_writer": {"acme": f"{THIRD_PARTY_MODULE}:AcmeWriter"}})
    yield "acme"
    sys.modules.pop(THIRD_PARTY_MODULE, None)


def test_decorator_registers_a_builtin(scratch_registry):
    @scratch_registry.register("color_matcher", "test_identity")
    def identity(face):
        return face

    assert "test_identity" in scratch_registry.names("color_matcher")
    assert scratch_registry.get("color_matcher", "test_identity") is identity
    assert scratch_registry.source("color_matcher", "test_identity") == "built-in"


def test_builtin_families_are_found_on_first_lookup():
    assert {"mp4", "png_folder"} <= set(registry.names("video_writer"))
    assert registry.source("video_writer", "mp4") == "built-in"


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(UserError) as error:
        registry.get("video_writer", "gif")
    message = str(error.value)
    assert "gif" in message and "mp4" in message and "png_folder" in message and "\n" not in message


def test_unknown_family_lists_the_families():
    with pytest.raises(UserError, match="video_writer"):
        registry.names("video_readers")
    with pytest.raises(UserError, match="families"):
        registry.register("nonsense", "x")


def test_third_party_plugin_is_listed_without_loading_and_loads_on_get(acme_distribution):
    assert acme_distribution in registry.names("video_writer")
    assert THIRD_PARTY_MODULE not in sys.modules  # listing does not import it
    assert registry.source("video_writer", "acme") == "acme-writers 0.1.0"
    assert THIRD_PARTY_MODULE not in sys.modules
    writer_class = registry.get("video_writer", "acme")
    assert THIRD_PARTY_MODULE in sys.modules and writer_class.__name__ == "AcmeWriter"
    assert writer_class("out", 4, 4, 24.0).path == "out"


def test_plugins_command_lists_families_and_third_party_members(acme_distribution, cli):
    result = cli("faceswap", "plugins")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for family in registry.families():
        assert any(line.startswith(f"{family}:") for line in lines)
    assert any(line.split()[:1] == ["acme"] and "acme-writers 0.1.0" in line for line in lines)
    assert any(line.split()[:2] == ["mp4", "built-in"] for line in lines)


def test_classify_brings_its_families_through_an_entry_point():
    assert not any(family.builtin_package.startswith("classify") for family in registry.CORE_FAMILIES)
    families = registry.families()
    assert families["classifier_model"].builtin_package == "classify.models"
    assert "lenet" in registry.names("classifier_model") and "linear" in registry.names("classifier_head")
    with pytest.raises(UserError, match="Unknown plugin family 'nope'"):
        registry.names("nope")
