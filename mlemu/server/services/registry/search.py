"""The filter grammar of Unity Catalog ``model-versions/search``.

Unity Catalog accepts far less than the OSS registry: equality on the registered model's
full ``name`` and on the source ``run_id`` (``run_id IN ('a', 'b')`` too), combined with
``AND``. Values are single- or double-quoted strings; keywords are case-insensitive and
names compare case-insensitively (UC names are lower-case). Anything else - ``LIKE``,
``tags.x``, ``OR``, ``version_number`` - is refused with ``INVALID_PARAMETER_VALUE``
rather than silently matching nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from mlemu.server.core.errors import invalid

if TYPE_CHECKING:
    from mlemu.server.services.registry.state import ModelVersion

_TOKEN = re.compile(r"""\s*(?:
    (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>!=|=|,|\(|\))
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
)""", re.VERBOSE)

_KEYS = ("name", "run_id")
_HELP = ("Unity Catalog model version search supports only \"name = '<catalog.schema.model>'\" "
         "and \"run_id = '<run id>'\" (or \"run_id IN ('<id>', ...)\"), joined with AND.")


@dataclass(frozen=True)
class Clause:
    key: str
    values: tuple[str, ...]

    def matches(self, mv: "ModelVersion") -> bool:
        if self.key == "name":
            return mv.model.full_name in self.values
        return mv.run_id in self.values


def parse(filter_string: str | None) -> list[Clause]:
    """The AND-ed clauses of a filter; an empty filter matches every version."""
    if filter_string is None or not filter_string.strip():
        return []
    tokens = _tokenize(filter_string)
    clauses: list[Clause] = []
    i = 0
    while True:
        clause, i = _clause(tokens, i, filter_string)
        clauses.append(clause)
        if i == len(tokens):
            return clauses
        kind, text = tokens[i]
        if kind != "word" or text.upper() != "AND":
            raise _bad(filter_string)
        i += 1


def predicate(filter_string: str | None) -> Callable[["ModelVersion"], bool]:
    clauses = parse(filter_string)
    return lambda mv: all(c.matches(mv) for c in clauses)


def tokenize(s: str, bad: Callable[[str], Exception] | None = None) -> list[tuple[str, str]]:
    """``(kind, text)`` tokens of a filter: ``str`` (unquoted), ``op``, ``word``. ``bad`` makes
    the error for an untokenizable filter (shared with the workspace registry's grammar)."""
    return _tokenize(s, bad or _bad)


def _tokenize(s: str, bad: Callable[[str], Exception] | None = None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(s):
        if s[pos:].strip() == "":
            break
        m = _TOKEN.match(s, pos)
        if m is None or m.end() == pos:
            raise (bad or _bad)(s)
        kind = m.lastgroup or ""
        text = m.group(kind)
        if kind == "str":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        out.append((kind, text))
        pos = m.end()
    return out


def _clause(tokens: list[tuple[str, str]], i: int, s: str) -> tuple[Clause, int]:
    if i >= len(tokens) or tokens[i][0] != "word":
        raise _bad(s)
    key = tokens[i][1].lower()
    if key not in _KEYS:
        raise invalid(f"Invalid filter '{s}': unsupported attribute '{tokens[i][1]}'. {_HELP}")
    if i + 1 >= len(tokens):
        raise _bad(s)
    kind, op = tokens[i + 1]
    if kind == "op" and op == "=":
        if i + 2 >= len(tokens) or tokens[i + 2][0] != "str":
            raise _bad(s)
        return Clause(key, (_norm(key, tokens[i + 2][1]),)), i + 3
    if kind == "word" and op.upper() == "IN":
        values: list[str] = []
        j = i + 2
        if j >= len(tokens) or tokens[j] != ("op", "("):
            raise _bad(s)
        j += 1
        while True:
            if j >= len(tokens) or tokens[j][0] != "str":
                raise _bad(s)
            values.append(_norm(key, tokens[j][1]))
            j += 1
            if j < len(tokens) and tokens[j] == ("op", ","):
                j += 1
                continue
            if j < len(tokens) and tokens[j] == ("op", ")"):
                return Clause(key, tuple(values)), j + 1
            raise _bad(s)
    raise invalid(f"Invalid filter '{s}': unsupported comparison '{op}'. {_HELP}")


def _norm(key: str, value: str) -> str:
    return value.lower() if key == "name" else value


def _bad(s: str):  # type: ignore[no-untyped-def]
    return invalid(f"Invalid filter '{s}'. {_HELP}")
