"""Typed frozen dataclasses are the one source of defaults.

``add_arguments`` turns a config dataclass into CLI flags (help text from field metadata),
``from_args`` builds the config back from parsed flags and an optional JSON config file
(flags win over the file, the file over the defaults), and ``write_resolved`` stores the
config that a run actually used beside its output.

Declare a field's help with ``field(default=..., metadata={"help": "..."})``; a field whose
metadata has ``"cli": False`` gets no flag.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from pathlib import Path
from typing import Any, TypeVar

from faceswap.errors import UserError
from faceswap.fileio import read_json, write_json_atomic

C = TypeVar("C")
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


def add_arguments(parser: argparse.ArgumentParser, config_class: type, skip: tuple[str, ...] = ()) -> None:
    """Add one flag per dataclass field; defaults stay None so that ``from_args`` can tell what was set."""
    hints = typing.get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
        if field.name in skip or field.metadata.get("cli", True) is False:
            continue
        kind, _ = _base_type(hints[field.name])
        default = field.default if field.default is not dataclasses.MISSING else None
        help_text = field.metadata.get("help", "")
        if default is not None and default != ():
            help_text = f"{help_text} (default: {default})".strip()
        flag = _flag(field.name)
        if kind is bool:
            parser.add_argument(flag, dest=field.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif isinstance(kind, tuple) and kind[0] is typing.Literal:
            parser.add_argument(flag, dest=field.name, choices=kind[1], default=None, help=help_text)
        elif isinstance(kind, tuple):
            parser.add_argument(flag, dest=field.name, type=kind[1], nargs="+", default=None, help=help_text)
        else:
            parser.add_argument(flag, dest=field.name, type=kind if kind in (int, float) else str, default=None, help=help_text)


def from_args(config_class: type[C], args: argparse.Namespace, config_file: str | None = None, **overrides: Any) -> C:
    """Defaults < config file < command-line flags < explicit overrides."""
    values: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(config_class)}
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
    hints = typing.get_type_hints(config_class)
    for name, value in values.items():
        kind, optional = _base_type(hints[name])
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
    """Construct a config from plain values (JSON lists become tuples, paths become str)."""
    hints = typing.get_type_hints(config_class)
    coerced = {}
    for name, value in values.items():
        kind, _ = _base_type(hints[name])
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
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))


def write_resolved(config: Any, path: str | Path) -> None:
    """Write the settings a run used, so it can be repeated or inspected later."""
    write_json_atomic(path, {"config_type": type(config).__name__, **to_dict(config)})
