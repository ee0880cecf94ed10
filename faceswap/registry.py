"""One plugin registry for every family: detectors, aligners, maskers, segmenters, swap models,
classifier models and heads, colour matchers, face identity descriptors, video writers.

Built-ins register with the ``@register(family, name)`` decorator in the modules of their
family's package; third-party packages publish ``importlib.metadata`` entry points in the
group ``faceswap.<family>``. Lookups are lazy: a family's built-in modules are imported the
first time the family is used (they keep heavy imports inside functions), and an entry point
is loaded only when its name is chosen.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Callable, TypeVar

from faceswap.errors import UserError

T = TypeVar("T")


@dataclass(frozen=True)
class Family:
    name: str
    builtin_package: str
    description: str

    @property
    def entry_point_group(self) -> str:
        return f"faceswap.{self.name}"


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("detector", "faceswap.extract.detectors", "find faces and 5 landmarks in a frame"),
        Family("aligner", "faceswap.extract.aligners", "landmarks for a detected face"),
        Family("masker", "faceswap.extract.maskers", "face-region mask for an aligned face"),
        Family("segmenter", "faceswap.segment.models", "networks that segment the visible face in an aligned crop"),
        Family("swap_model", "faceswap.swap.models", "shared-encoder / two-decoder autoencoders"),
        Family("color_matcher", "faceswap.convert.color", "colour correction of a swapped face"),
        Family("identity", "faceswap.identity", "face descriptors that tell who a face is (evaluate's identity check)"),
        Family("video_writer", "faceswap.video.writers", "where converted frames go"),
        Family("classifier_model", "classify.models", "image classifier backbones and models"),
        Family("classifier_head", "classify.heads", "heads that sit on any classifier backbone"),
    )
}

_builtins: dict[str, dict[str, Any]] = {name: {} for name in FAMILIES}
_imported_families: set[str] = set()


def _family(family: str) -> Family:
    if family not in FAMILIES:
        raise UserError(f"Unknown plugin family '{family}'; families are: {', '.join(FAMILIES)}.")
    return FAMILIES[family]


def register(family: str, name: str) -> Callable[[T], T]:
    """Decorator for built-in plugins: ``@register("detector", "centerface")``."""
    _family(family)

    def decorate(obj: T) -> T:
        _builtins[family][name] = obj
        return obj

    return decorate


def _import_builtins(family: str) -> None:
    if family in _imported_families:
        return
    _imported_families.add(family)
    package_name = _family(family).builtin_package
    try:
        package = importlib.import_module(package_name)
    except ModuleNotFoundError as error:
        if error.name and package_name.startswith(error.name):
            return  # the family's package is not part of this install
        raise
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package_name}.{module.name}")


def _entry_points(family: str) -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=_family(family).entry_point_group)}


def names(family: str) -> list[str]:
    """Every registered name in a family, built-in and third-party, without loading the latter."""
    _import_builtins(family)
    return sorted(set(_builtins[family]) | set(_entry_points(family)))


def get(family: str, name: str) -> Any:
    """The registered object for ``name``; unknown names list what is available."""
    _import_builtins(family)
    if name in _builtins[family]:
        return _builtins[family][name]
    third_party = _entry_points(family)
    if name in third_party:
        return third_party[name].load()
    available = ", ".join(names(family)) or "none"
    raise UserError(f"Unknown {family} '{name}'; available: {available}.")


def source(family: str, name: str) -> str:
    """Where a plugin comes from: 'built-in' or the distribution that ships it."""
    _import_builtins(family)
    if name in _builtins[family]:
        return "built-in"
    entry_point = _entry_points(family).get(name)
    if entry_point is None:
        return "unknown"
    dist = getattr(entry_point, "dist", None)
    return f"{dist.name} {dist.version}" if dist else entry_point.value
