"""Typed frozen dataclasses are the one source of defaults.

``add_arguments`` turns a config dataclass into CLI flags (help text from field metadata),
``from_args`` builds the config back from parsed flags and an optional JSON config file
(flags win over the file, the file over the defaults), and ``write_resolved`` stores the
config that a run actually used beside its output.

Declare a field's help with ``field(default=..., metadata={"help": "..."})``; a field whose
metadata has ``"cli": False`` gets no flag.

A stage config can hold another config (the engine's TrainConfig) in one field made by ``nested``
and decorated with ``@flat_settings``: the settings it shows of the inner config become flat
flags, flat config-file keys, flat keyword arguments and flat attributes of the stage config,
under the stage's own names, defaults and help text; the inner config declares them once.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import operator
import re
import typing
from pathlib import Path
from typing import Any, Callable, TypeVar

from faceswap.errors import UserError
from faceswap.fileio import read_json, write_json_atomic

C = TypeVar("C")
INNER_DEFAULT: Any = object()  # Shown.default when the stage keeps the inner config's default
CONFIG_FILE_FIX = 'write the settings as one JSON object, e.g. {"steps": 1000}'


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _base_type(annotation: Any) -> tuple[Any, bool]:
    """(scalar type, is_optional) for annotations such as ``int | None`` or ``tuple[int, ...]``."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    optional = type(None) in typing.get_args(annotation)
    if optional and len(args) == 1:
        return _base_type(args[0])[0], True
    if origin in (tuple, list):
        return (origin, args[0] if args else str), optional
    if origin is typing.Literal:
        return (typing.Literal, tuple(typing.get_args(annotation))), optional
    return annotation, optional


@dataclasses.dataclass(frozen=True)
class Shown:
    """How a stage shows one setting of a nested config, where it differs from the inner declaration."""
    name: str = ""  # the flat name (flag, config-file key, keyword, attribute); "": the inner field's own
    default: Any = INNER_DEFAULT  # the stage's default
    help: str = ""  # the stage's help text; "": the inner field's


def nested(config_class: type, shown: dict[str, Shown], hidden: dict[str, Any] | None = None) -> Any:
    """A dataclass field holding one ``config_class``: ``shown`` (inner name: how the stage shows it) lists
    the inner settings a user may set, flat; ``hidden`` fixes inner defaults the stage does not show."""
    unknown = sorted((set(shown) | set(hidden or {})) - {f.name for f in dataclasses.fields(config_class)})
    if unknown:
        raise TypeError(f"{config_class.__name__} has no setting(s) {', '.join(unknown)}")
    if set(shown) & set(hidden or {}):
        raise TypeError(f"{', '.join(sorted(set(shown) & set(hidden or {})))}: shown or hidden, not both")
    defaults = {name: s.default for name, s in shown.items() if s.default is not INNER_DEFAULT} | (hidden or {})
    return dataclasses.field(default_factory=functools.partial(config_class, **defaults),
                             metadata={"nested": shown, "cli": False})


@dataclasses.dataclass(frozen=True)
class Setting:
    """One flat setting of a config class: a direct field, or a shown field of a nested config."""
    name: str
    hint: Any
    default: Any
    help: str
    cli: bool
    inner: tuple[str, str] | None = None  # (nested field, inner field name) for a shown nested setting


def settings(config_class: type) -> dict[str, Setting]:
    """Every flat setting of ``config_class`` in declaration order (a nested field's shown ones at its place)."""
    return dict(_settings(config_class))


@functools.cache
def _settings(config_class: type) -> dict[str, Setting]:
    hints = typing.get_type_hints(config_class)
    found: dict[str, Setting] = {}
    for field in dataclasses.fields(config_class):
        shown = field.metadata.get("nested")
        if shown is None:
            default = field.default if field.default is not dataclasses.MISSING else None
            found[field.name] = Setting(field.name, hints[field.name], default, field.metadata.get("help", ""),
                                        field.metadata.get("cli", True) is not False)
            continue
        inner_class, inner_default = hints[field.name], field.default_factory()
        inner_hints, inner_fields = typing.get_type_hints(inner_class), inner_class.__dataclass_fields__
        for inner, how in shown.items():
            name = how.name or inner
            found[name] = Setting(name, inner_hints[inner], getattr(inner_default, inner),
                                  how.help or inner_fields[inner].metadata.get("help", ""), True, (field.name, inner))
    return found


def flat_settings(config_class: type[C]) -> type[C]:
    """Class decorator (above ``@dataclass``): let a config with ``nested`` fields take, and show, the shown
    inner settings flat: ``Stage(batch_size=8)``, ``stage.batch_size``, ``dataclasses.replace(stage, lr=0.1)``.

    A flat name that is also a direct field is refused here, at import: a setting is declared once."""
    direct = {f.name for f in dataclasses.fields(config_class)}
    flat = {name: s.inner for name, s in _settings(config_class).items() if s.inner is not None}
    twice = sorted(direct & set(flat))
    if twice:
        raise TypeError(f"{config_class.__name__} declares {', '.join(twice)} itself and through a nested config; "
                        "declare each setting once")
    for name, (outer, inner) in flat.items():
        setattr(config_class, name, property(operator.attrgetter(f"{outer}.{inner}")))
    config_class.__init__ = _flat_init(config_class.__init__, flat, {  # type: ignore[misc]
        f.name: f.default_factory for f in dataclasses.fields(config_class) if "nested" in f.metadata})
    return config_class


def _flat_init(init: Callable, flat: dict[str, tuple[str, str]], factories: dict[str, Callable]) -> Callable:
    @functools.wraps(init)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for outer, factory in factories.items():
            names = {name: inner for name, (field_name, inner) in flat.items() if field_name == outer}
            given = {names[name]: kwargs.pop(name) for name in list(kwargs) if name in names}
            if given:  # flat keywords win over a nested config passed alongside them (dataclasses.replace)
                base = kwargs[outer] if outer in kwargs else factory()
                kwargs[outer] = _replace_naming(base, given, names)
        init(self, *args, **kwargs)
    return __init__


def _replace_naming(base: Any, given: dict[str, Any], names: dict[str, str]) -> Any:
    """``replace(base, **given)``, its errors naming the settings as the stage shows them (steps, not max_steps)."""
    try:
        return dataclasses.replace(base, **given)
    except UserError as error:
        message = str(error)
        for name, inner in names.items():
            if name != inner:
                message = re.sub(rf"\b{inner}\b", name, message)
        raise UserError(message) from error


def add_arguments(parser: argparse.ArgumentParser, config_class: type, skip: tuple[str, ...] = ()) -> None:
    """Add one flag per setting; defaults stay None so that ``from_args`` can tell what was set."""
    for setting in _settings(config_class).values():
        if setting.name in skip or not setting.cli:
            continue
        kind, _ = _base_type(setting.hint)
        help_text = setting.help
        if setting.default is not None and setting.default != ():
            help_text = f"{help_text} (default: {setting.default})".strip()
        flag, dest = _flag(setting.name), setting.name
        if kind is bool:
            parser.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif isinstance(kind, tuple) and kind[0] is typing.Literal:
            parser.add_argument(flag, dest=dest, choices=kind[1], default=None, help=help_text)
        elif isinstance(kind, tuple):
            parser.add_argument(flag, dest=dest, type=kind[1], nargs="+", default=None, help=help_text)
        else:
            parser.add_argument(flag, dest=dest, type=kind if kind in (int, float) else str, default=None, help=help_text)


def from_args(config_class: type[C], args: argparse.Namespace, config_file: str | None = None, **overrides: Any) -> C:
    """Defaults < config file < command-line flags < explicit overrides."""
    values: dict[str, Any] = {}
    names = set(_settings(config_class))
    if config_file:
        values.update(read_json(config_file, "config file", fix=CONFIG_FILE_FIX))
        written_for = values.pop("config_type", config_class.__name__)  # a resolved config (write_resolved) fits too
        if written_for != config_class.__name__:
            raise UserError(f"The config file '{config_file}' holds {written_for} settings, not {config_class.__name__}; "
                            "pass a config file of this command.")
        _check_file_values(config_class, {k: v for k, v in values.items() if k in names}, config_file)
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            values[name] = value
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - names)
    if unknown:
        raise UserError(f"Unknown setting(s) {', '.join(unknown)} for {config_class.__name__}; remove them from the config file.")
    return build(config_class, values)


_KIND_NAMES = {int: "a whole number", float: "a number", str: "a string", bool: "a true/false value"}


def _check_file_values(config_class: type, values: dict[str, Any], config_file: str) -> None:
    """Refuse a config-file value of the wrong JSON type, by name (flags are typed by argparse already)."""
    known = _settings(config_class)
    for name, value in values.items():
        kind, optional = _base_type(known[name].hint)
        expected = _expected(kind, value)
        if expected and not (optional and value is None):
            raise UserError(f"The setting \"{name}\" in the config file '{config_file}' is {json.dumps(value)}, not "
                            f"{expected}{' (or null)' if optional else ''}; correct it.")


def _expected(kind: Any, value: Any) -> str | None:
    """What ``value`` should have been for a field of ``kind``, or None when it fits."""
    if isinstance(kind, tuple) and kind[0] is typing.Literal:
        return None if value in kind[1] else "one of " + ", ".join(map(json.dumps, kind[1]))
    if isinstance(kind, tuple):
        if isinstance(value, list) and not any(_expected(kind[1], item) for item in value):
            return None
        return f"a list of {_KIND_NAMES.get(kind[1], 'a value').removeprefix('a ')}s"
    fits = {int: lambda v: isinstance(v, int) and not isinstance(v, bool),
            float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            str: lambda v: isinstance(v, str), bool: lambda v: isinstance(v, bool)}.get(kind)
    return None if fits is None or fits(value) else _KIND_NAMES[kind]


def build(config_class: type[C], values: dict[str, Any]) -> C:
    """Construct a config from plain (flat) values (JSON lists become tuples, paths become str)."""
    known = _settings(config_class)
    coerced = {}
    for name, value in values.items():
        kind, _ = _base_type(known[name].hint) if name in known else (None, False)
        if isinstance(kind, tuple) and kind[0] is tuple and isinstance(value, list):
            value = tuple(value)
        if isinstance(value, Path):
            value = str(value)
        coerced[name] = value
    try:
        return config_class(**coerced)
    except (TypeError, ValueError) as error:
        raise UserError(f"Invalid {config_class.__name__} settings: {error}.") from error


def to_dict(config: Any) -> dict[str, Any]:
    """The config as flat JSON values: a nested config's shown settings under their flat names, the
    hidden ones left out (the stage fixes them), so files keep one flat format."""
    values = {}
    for name, setting in _settings(type(config)).items():
        value = getattr(config, name)
        values[name] = dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value
    return json.loads(json.dumps(values, default=str))


def write_resolved(config: Any, path: str | Path) -> None:
    """Write the settings a run used, so it can be repeated or inspected later."""
    write_json_atomic(path, {"config_type": type(config).__name__, **to_dict(config)})
