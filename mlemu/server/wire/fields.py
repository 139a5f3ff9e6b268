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

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

#: How a field's JSON value is checked, by the scalar types its annotation allows.
_KINDS: dict[frozenset[type], str] = {
    frozenset({str}): "string", frozenset({int}): "number", frozenset({float}): "number",
    frozenset({int, float}): "number", frozenset({bool}): "bool",
    frozenset({str, int}): "enum",  # a proto enum: its name or its number
}


class WireArgs(BaseModel):
    """A request model whose scalar fields accept only their proto3 JSON types.

    One check per model instance, before pydantic converts anything (a validator per field
    cost a Python call each, several per request): the common values pass by their class
    alone; any other value is checked field by field, in declaration order, and a refusal
    names its field in the error's context (``ctx["field"]``, read by
    :func:`mlemu.server.wire.app.validation_error`). Like a proto3 JSON parser, a wrong JSON
    type is refused before missing fields are looked for."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _proto3_json(cls, data: Any) -> Any:
        if data.__class__ is not dict:  # pydantic refuses a non-object itself
            return _checked(cls, data) if isinstance(data, dict) else data
        passes = cls.__dict__.get("_mlemu_passes")
        if passes is None:
            passes = _passes_of(cls)
        for key, value in data.items():
            classes = passes.get(key)
            if classes is not None and value.__class__ not in classes:
                return _checked(cls, data)
        return data


#: Value classes a field of each kind takes without a closer look (None: the field is unset).
_PASSES: dict[str, frozenset[type]] = {
    "string": frozenset({str, type(None)}),
    "number": frozenset({int, float, str, type(None)}),  # a decimal string is a valid number
    "enum": frozenset({str, int, type(None)}),
    "bool": frozenset({bool, type(None)}),  # "true"/"false" strings are converted: a closer look
}
_REPEATED_PASSES: frozenset[type] = frozenset({type(None)})


def _passes_of(cls: type[WireArgs]) -> dict[str, frozenset[type]]:
    passes = {key: (_REPEATED_PASSES if repeated else _PASSES[kind])
              for key, (kind, repeated) in _kinds_of(cls).items()}
    type.__setattr__(cls, "_mlemu_passes", passes)
    return passes


def _checked(cls: type[WireArgs], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each checked field's value checked (and query-string booleans converted),
    or the first refusal in declaration order."""
    out = data
    for key, (kind, repeated) in _kinds_of(cls).items():
        if key not in data:
            continue
        value = data[key]
        if repeated and not isinstance(value, list):
            continue  # pydantic refuses a non-list
        try:
            checked = [_check(kind, item) for item in value] if repeated else _check(kind, value)
        except PydanticCustomError:
            raise PydanticCustomError("proto3_type", "not a proto3 JSON {kind}",
                                      {"kind": kind, "field": key, "value": value}) from None
        if (checked != value) if repeated else (checked is not value):  # booleans converted
            if out is data:
                out = dict(data)
            out[key] = checked
    return out


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
    """(kind, repeated) of each checked field, by its name on the wire, in declaration order."""
    kinds = cls.__dict__.get("_mlemu_kinds")
    if kinds is None:
        kinds = {f.alias or name: _kind(f.annotation) for name, f in cls.model_fields.items()}
        kinds = {name: k for name, k in kinds.items() if k[0]}
        type.__setattr__(cls, "_mlemu_kinds", kinds)
    return kinds


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
