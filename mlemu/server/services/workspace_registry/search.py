"""The filter and order grammar of the workspace registry's ``registered-models/search`` and
``model-versions/search``.

Clauses joined by ``AND``: ``name = | != | LIKE | ILIKE '<value>'`` (``%`` and ``_``
wildcards), ``tags.<key> = '<value>'`` and, for versions, ``run_id = '<id>'`` /
``run_id IN ('<id>', ...)``. ``order_by`` for models takes ``name``, ``timestamp`` /
``last_updated_timestamp``, for versions ``name``, ``version_number``, ``creation_timestamp``,
``last_updated_timestamp`` and ``current_stage``, each with ``ASC``/``DESC``. Anything else is INVALID_PARAMETER_VALUE
(never a silent empty result). Tokens are the same as the UC registry's filters.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from mlemu.server.core.errors import ApiError, invalid
from mlemu.server.core.patterns import like_regex
from mlemu.server.services.registry.search import tokenize

_MODEL_KEYS = ("name",)
_VERSION_KEYS = ("name", "run_id")
_OPS = ("=", "!=", "LIKE", "ILIKE")


@dataclass(frozen=True)
class Clause:
    key: str        # "name", "run_id" or "tags.<key>"
    op: str         # = != LIKE ILIKE IN
    values: tuple[str, ...]

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        if self.op == "=":
            return value == self.values[0]
        if self.op == "!=":
            return value != self.values[0]
        if self.op == "IN":
            return value in self.values
        return like_regex(self.values[0], self.op == "ILIKE").fullmatch(value) is not None


def model_predicate(filter_string: str | None) -> Callable[[Any], bool]:
    clauses = _parse(filter_string, _MODEL_KEYS)
    return lambda m: all(c.matches(_field(m, c.key)) for c in clauses)


def version_predicate(filter_string: str | None) -> Callable[[Any], bool]:
    clauses = _parse(filter_string, _VERSION_KEYS)
    return lambda mv: all(c.matches(_field(mv, c.key)) for c in clauses)


def model_order(order_by: list[str]) -> Callable[[list[Any]], list[Any]]:
    """A sort over registered models; by name when no ``order_by`` is given."""
    keys = _order_keys(order_by, _MODEL_ORDER, "registered models can be ordered by name, timestamp "
                       "or last_updated_timestamp")
    if not any(k == "name" for k, _ in keys):
        keys.append(("name", False))
    return _sorter(keys)


def version_order(order_by: list[str]) -> Callable[[list[Any]], list[Any]]:
    """A sort over model versions. Without ``order_by``: last updated first; ties (and every
    given order) end by name ascending, then version descending, as Databricks documents."""
    keys = _order_keys(order_by, _VERSION_ORDER, "model versions can be ordered by name, "
                       "version_number, creation_timestamp, last_updated_timestamp or current_stage")
    if not keys:
        keys.append(("last_updated_timestamp", True))
    if not any(k == "name" for k, _ in keys):
        keys.append(("name", False))
    if not any(k == "version" for k, _ in keys):
        keys.append(("version", True))
    return _sorter(keys)


#: order_by column -> attribute, for models and for versions (``timestamp`` is mlflow's alias).
_MODEL_ORDER = {"name": "name", "timestamp": "last_updated_timestamp",
                "last_updated_timestamp": "last_updated_timestamp"}
_VERSION_ORDER = {"name": "name", "version_number": "version", "version": "version",
                  "creation_timestamp": "creation_timestamp", "timestamp": "creation_timestamp",
                  "last_updated_timestamp": "last_updated_timestamp", "current_stage": "current_stage",
                  "stage": "current_stage"}


def _order_keys(order_by: list[str], columns: dict[str, str], allowed: str) -> list[tuple[str, bool]]:
    """``["name DESC", ...]`` -> ``[("name", True), ...]``; a malformed, unknown or repeated
    column is INVALID_PARAMETER_VALUE."""
    keys: list[tuple[str, bool]] = []
    for item in order_by or []:
        parts = item.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC")):
            raise invalid(f"Invalid order_by clause '{item}'.")
        column = columns.get(parts[0].strip("`").lower())
        if column is None:
            raise invalid(f"Invalid order_by clause '{item}': {allowed}.")
        if any(k == column for k, _ in keys):
            raise invalid(f"`order_by` contains duplicate fields: {list(order_by)}")
        keys.append((column, len(parts) == 2 and parts[1].upper() == "DESC"))
    return keys


def _sorter(keys: list[tuple[str, bool]]) -> Callable[[list[Any]], list[Any]]:
    def order(items: list[Any]) -> list[Any]:
        out = list(items)
        for column, desc in reversed(keys):  # stable sorts, least significant key first
            out.sort(key=lambda m: getattr(m, column), reverse=desc)
        return out
    return order


def _field(entity: Any, key: str) -> str | None:
    if key.startswith("tags."):
        return entity.tags.get(key[len("tags."):])
    return getattr(entity, key)


def _parse(s: str | None, keys: tuple[str, ...]) -> list[Clause]:
    if s is None or not s.strip():
        return []
    bad = _bad_for(keys)
    tokens = tokenize(s, bad)
    clauses: list[Clause] = []
    i = 0
    while True:
        clause, i = _clause(tokens, i, s, keys)
        clauses.append(clause)
        if i == len(tokens):
            return clauses
        if tokens[i][0] != "word" or tokens[i][1].upper() != "AND":
            raise bad(s)
        i += 1


def _clause(tokens: list[tuple[str, str]], i: int, s: str, keys: tuple[str, ...]) -> tuple[Clause, int]:
    bad = _bad_for(keys)
    if i + 2 >= len(tokens) or tokens[i][0] != "word":
        raise bad(s)
    key = tokens[i][1]
    if key.startswith("tags."):
        key = "tags." + key[len("tags."):].strip("`")
    elif key.lower() in keys:
        key = key.lower()
    else:
        raise invalid(f"Invalid attribute key '{key}' in filter '{s}'. {_help(keys)}")
    op = tokens[i + 1][1].upper()
    if op == "IN" and key == "run_id":
        values: list[str] = []
        j = i + 2
        if tokens[j] != ("op", "("):
            raise bad(s)
        j += 1
        while j < len(tokens) and tokens[j][0] == "str":
            values.append(tokens[j][1])
            j += 1
            if j < len(tokens) and tokens[j] == ("op", ","):
                j += 1
            elif j < len(tokens) and tokens[j] == ("op", ")"):
                return Clause(key, "IN", tuple(values)), j + 1
        raise bad(s)
    allowed = ("=",) if key == "run_id" or key.startswith("tags.") else _OPS
    if op not in allowed or tokens[i + 2][0] != "str":
        raise invalid(f"Invalid comparison '{tokens[i + 1][1]}' for '{key}' in filter '{s}'. "
                      f"{_help(keys)}")
    return Clause(key, op, (tokens[i + 2][1],)), i + 3


def _help(keys: tuple[str, ...]) -> str:
    extra = " and run_id = '<id>' / run_id IN (...)" if "run_id" in keys else ""
    return (f"Supported: name = | != | LIKE | ILIKE '<value>', tags.<key> = '<value>'{extra}, "
            "joined with AND.")


def _bad_for(keys: tuple[str, ...]) -> Callable[[str], ApiError]:
    return lambda s: invalid(f"Invalid filter '{s}'. {_help(keys)}")
