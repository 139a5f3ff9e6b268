"""The base of every request model: proto3 JSON typing, enforced in one place.

Databricks (and mlflow's server) parse request bodies as proto3 JSON, where a ``string`` field
takes only a JSON string, a number field takes a number (or a decimal string) but never
``true``/``false``, and a ``bool`` takes ``true``/``false`` (``"true"``/``"false"`` in a query
string). pydantic's lax mode is looser (it reads ``True`` as ``1`` and ``"yes"`` as ``True``),
so :class:`WireArgs` checks each field's JSON type against its declared Python type before
pydantic converts it. A refused value reads, through :func:`mlemu.server.wire.app.validation_error`,
``Invalid value 41 for parameter 'value' supplied: Hint: Value was of type 'int'.``, the
sentence mlflow's server writes.

Request models derive from :class:`WireArgs` and declare concrete types (``Any`` only for
free-form JSON objects); ``tests/server/wire/test_fields.py`` audits every route's model.
"""
from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

#: How a field's JSON value is checked, by the scalar types its annotation allows.
_KINDS: dict[frozenset[type], str] = {
    frozenset({str}): "string", frozenset({int}): "number", frozenset({float}): "number",
    frozenset({int, float}): "number", frozenset({bool}): "bool",
    frozenset({str, int}): "enum",  # a proto enum: its name or its number
}


class WireArgs(BaseModel):
    """A request model whose scalar fields accept only their proto3 JSON types."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _proto3_json(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or (value.__class__ is str and info.field_name not in _bool_fields(cls)):
            return value  # the common case, and a decimal string is a valid number or enum
        kind, repeated = _kinds_of(cls).get(info.field_name or "", ("", False))
        if not kind:
            return value
        if repeated:
            if isinstance(value, list):
                return [_check(kind, item) for item in value]
            return value  # pydantic refuses a non-list
        return _check(kind, value)


def _check(kind: str, value: Any) -> Any:
    """``value`` if a proto3 JSON parser takes it for a field of ``kind``, else a type error."""
    if value is None:
        return value
    if kind == "string":
        if isinstance(value, str):
            return value
    elif kind == "number" or kind == "enum":
        if not isinstance(value, (bool, dict, list)):
            return value
    elif kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    raise PydanticCustomError("proto3_type", "not a proto3 JSON {kind}", {"kind": kind})


def _kinds_of(cls: type[WireArgs]) -> dict[str, tuple[str, bool]]:
    kinds = cls.__dict__.get("_mlemu_kinds")
    if kinds is None:
        kinds = {name: _kind(f.annotation) for name, f in cls.model_fields.items()}
        kinds = {name: k for name, k in kinds.items() if k[0]}
        type.__setattr__(cls, "_mlemu_kinds", kinds)
    return kinds


def _bool_fields(cls: type[WireArgs]) -> frozenset[str]:
    names = cls.__dict__.get("_mlemu_bools")
    if names is None:
        names = frozenset(n for n, (k, _) in _kinds_of(cls).items() if k == "bool")
        type.__setattr__(cls, "_mlemu_bools", names)
    return names


def _kind(annotation: Any) -> tuple[str, bool]:
    """(kind, repeated) of an annotation: ``str | None`` -> ("string", False),
    ``list[int]`` -> ("number", True); ("", False) for objects and free-form JSON."""
    repeated = False
    args = _flatten(annotation)
    lists = [a for a in args if typing.get_origin(a) in (list, tuple, set)]
    if lists and len(lists) == len(args):
        repeated = True
        args = [x for a in lists for x in _flatten(typing.get_args(a)[0] if typing.get_args(a) else Any)]
    scalars = frozenset(args)
    return _KINDS.get(scalars, ""), repeated


def _flatten(annotation: Any) -> list[Any]:
    """The member types of an annotation, without ``None`` and ``Annotated`` metadata."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _flatten(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [t for a in typing.get_args(annotation) for t in _flatten(a)]
    if annotation is type(None):
        return []
    if typing.get_origin(annotation) is typing.Literal:
        return sorted({type(v) for v in typing.get_args(annotation)}, key=lambda t: t.__name__)
    return [annotation]
