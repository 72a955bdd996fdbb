"""Strict, dependency-free structuring of JSON params into attrs classes.

cattrs coerces (`3` becomes `"3"`) and reports Python names; the wire contract wants strict
types and errors that name the camelCase field the client sent, so params are checked here.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import attrs

T = TypeVar("T")

_JSON_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


class ParamsError(ValueError):
    """Params that do not fit the method's type; the message names the field."""


def camel(name: str) -> str:
    """snake_case → camelCase, the wire's spelling of every field."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _check(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        errors = []
        for option in get_args(hint):
            try:
                return _check(value, option, where)
            except ParamsError as exc:
                if option is not type(None):
                    errors.append(str(exc))
        if len(errors) == 1:
            raise ParamsError(errors[0])
        raise ParamsError(f"{where}: unexpected {_describe(value)}")
    if origin is Literal:
        if value in get_args(hint):
            return value
        allowed = ", ".join(repr(a) for a in get_args(hint))
        raise ParamsError(f"{where}: must be one of {allowed}")
    if origin is list:
        if not isinstance(value, list):
            raise ParamsError(f"{where}: expected an array, got {_describe(value)}")
        (item,) = get_args(hint) or (Any,)
        return [_check(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ParamsError(f"{where}: expected an object, got {_describe(value)}")
        return value
    if attrs.has(hint):
        return structure(value, hint, where)
    if hint is type(None):
        if value is None:
            return None
        raise ParamsError(f"{where}: expected null, got {_describe(value)}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ParamsError(f"{where}: expected {_JSON_NAMES.get(hint, hint)}, got {_describe(value)}")


def _require_unicode(data: dict[str, Any]) -> None:
    """JSON may spell a lone surrogate (``"\\udcff"``), which no file or database can store."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ParamsError("params: a string holds a lone surrogate, which is not Unicode") from None


def structure(data: Any, cls: type[T], where: str = "params") -> T:
    """Build `cls` from JSON `data`, or raise ParamsError naming the offending field.

    Unknown fields are ignored (clients may be newer than the server); attrs validators run and
    their ValueErrors are reported against the field.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParamsError(f"{where}: expected an object, got {_describe(data)}")
    if where == "params":
        _require_unicode(data)
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for field in attrs.fields(cls):
        key = camel(field.name)
        path = f"{where}.{key}" if where != "params" else key
        if key not in data:
            if field.default is attrs.NOTHING:
                raise ParamsError(f"{path}: required field is missing")
            continue
        kwargs[field.name] = _check(data[key], hints[field.name], path)
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise ParamsError(str(exc)) from exc


def plain(value: Any) -> Any:
    """pygls hands untyped params and results over as namedtuples; turn them back into JSON."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
