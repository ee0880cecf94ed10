"""One plugin registry for every family: detectors, aligners, maskers, segmenters, swap models,
classifier models and heads, colour matchers, hand finders, face identity descriptors, video writers.

Built-ins register with the ``@register(family, name)`` decorator in the modules of their
family's package; third-party packages publish ``importlib.metadata`` entry points in the
group ``faceswap.<family>``. Lookups are lazy: a family's built-in modules are imported the
first time the family is used (they keep heavy imports inside functions), and an entry point
is loaded only when its name is chosen. Packages that bring families of their own (classify: its
models and heads) declare them in the entry point group ``faceswap.families``.
"""
from __future__ import annotations

import functools
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


CORE_FAMILIES = (
    Family("detector", "faceswap.extract.detectors", "find faces and 5 landmarks in a frame"),
    Family("aligner", "faceswap.extract.aligners", "landmarks for a detected face"),
    Family("masker", "faceswap.extract.maskers", "face-region mask for an aligned face"),
    Family("segmenter", "faceswap.segment.models", "networks that segment the visible face in an aligned crop"),
    Family("swap_model", "faceswap.swap.models", "shared-encoder / two-decoder autoencoders"),
    Family("color_matcher", "faceswap.convert.color", "colour correction of a swapped face"),
    Family("hands", "faceswap.hands", "hands in a frame, kept in front of the swapped face by convert"),
    Family("face_mesh", "faceswap.face_mesh", "dense landmarks on an aligned face (convert keeps the original's expression with them)"),
    Family("identity", "faceswap.identity", "face descriptors that tell who a face is (evaluate's identity check)"),
    Family("video_writer", "faceswap.video.writers", "where converted frames go"),
)
# Other packages add whole families (classify adds its models and heads) through entry points in
# this group, each pointing at a sequence of Family: faceswap itself never names them.
FAMILY_GROUP = "faceswap.families"

_builtins: dict[str, dict[str, Any]] = {}
_imported_families: set[str] = set()


@functools.cache
def families() -> dict[str, Family]:
    """Every plugin family: faceswap's own, then those installed packages declare."""
    found = {family.name: family for family in CORE_FAMILIES}
    for entry_point in sorted(entry_points(group=FAMILY_GROUP), key=lambda ep: ep.name):
        for family in entry_point.load():
            found.setdefault(family.name, family)
    return found


def _family(family: str) -> Family:
    known = families()
    if family not in known:
        raise UserError(f"Unknown plugin family '{family}'; families are: {', '.join(known)}.")
    return known[family]


def register(family: str, name: str) -> Callable[[T], T]:
    """Decorator for built-in plugins: ``@register("detector", "centerface")``."""
    _family(family)

    def decorate(obj: T) -> T:
        _builtins.setdefault(family, {})[name] = obj
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
    return sorted(set(_builtins.get(family, {})) | set(_entry_points(family)))


def get(family: str, name: str) -> Any:
    """The registered object for ``name``; unknown names list what is available."""
    _import_builtins(family)
    builtins = _builtins.get(family, {})
    if name in builtins:
        return builtins[name]
    third_party = _entry_points(family)
    if name in third_party:
        return third_party[name].load()
    available = ", ".join(names(family)) or "none"
    raise UserError(f"Unknown {family} '{name}'; available: {available}.")


def source(family: str, name: str) -> str:
    """Where a plugin comes from: 'built-in' or the distribution that ships it."""
    _import_builtins(family)
    if name in _builtins.get(family, {}):
        return "built-in"
    entry_point = _entry_points(family).get(name)
    if entry_point is None:
        return "unknown"
    dist = getattr(entry_point, "dist", None)
    return f"{dist.name} {dist.version}" if dist else entry_point.value
