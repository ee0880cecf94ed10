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
    if config_file:
        values.update(read_json(config_file, "config file"))
    names = {f.name for f in dataclasses.fields(config_class)}
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            values[name] = value
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - names)
    if unknown:
        raise UserError(f"Unknown setting(s) {', '.join(unknown)} for {config_class.__name__}; remove them from the config file.")
    return build(config_class, values)


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
