"""The search grammar of runs, experiments and logged models (mlflow's ``search_utils.py``
semantics, own small parser: mlemu never imports mlflow).

A filter is clauses joined by ``AND``; a clause is ``<identifier> <comparator> <value>``,
``<identifier> IS [NOT] NULL`` or ``<identifier> [NOT] IN (<'v'>, ...)``. Identifiers are
``<entity>.<key>`` (``metrics.acc``, ``params."my key"``, ``tags.`a-b```) or a bare attribute
(``run_name``). Each searchable kind has a :class:`Grammar` saying which entities, attributes
and comparators it allows. Parsing happens once per request; matching is a cheap per-object
call, so searching 10,000 runs stays linear.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

from mlemu.server.core.errors import invalid
from mlemu.server.core.patterns import like_regex
from mlemu.server.core.paging import Page

T = TypeVar("T")

METRIC, PARAM, TAG, ATTRIBUTE, DATASET = "metric", "parameter", "tag", "attribute", "dataset"

NUMERIC_COMPARATORS = frozenset({">", ">=", "!=", "=", "<", "<="})
STRING_COMPARATORS = frozenset({"!=", "=", "LIKE", "ILIKE", "IN", "NOT IN"})
TAG_COMPARATORS = frozenset({"!=", "=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"})


@dataclass(frozen=True)
class Grammar:
    """What one kind of search accepts."""

    entities: Mapping[str, str]             # spelling in the filter -> entity kind
    attributes: frozenset[str]              # searchable attribute keys (after aliases)
    numeric_attributes: frozenset[str]
    order_attributes: frozenset[str]
    comparators: Mapping[str, frozenset[str]]  # entity kind -> allowed comparators
    list_attributes: frozenset[str] | None = frozenset()  # None: any string attribute
    aliases: Mapping[str, str] = field(default_factory=dict)
    dataset_keys: frozenset[str] = frozenset()


_ENTITY_SPELLINGS = {
    "metric": METRIC, "metrics": METRIC,
    "parameter": PARAM, "parameters": PARAM, "param": PARAM, "params": PARAM,
    "tag": TAG, "tags": TAG,
    "attribute": ATTRIBUTE, "attributes": ATTRIBUTE, "attr": ATTRIBUTE, "run": ATTRIBUTE,
    "dataset": DATASET, "datasets": DATASET,
}

RUNS = Grammar(
    entities=_ENTITY_SPELLINGS,
    attributes=frozenset({"artifact_uri", "end_time", "run_id", "run_name", "start_time", "status",
                          "user_id"}),
    numeric_attributes=frozenset({"start_time", "end_time"}),
    order_attributes=frozenset({"artifact_uri", "end_time", "run_id", "run_name", "start_time",
                                "status", "user_id"}),
    comparators={METRIC: NUMERIC_COMPARATORS, PARAM: TAG_COMPARATORS, TAG: TAG_COMPARATORS,
                 DATASET: STRING_COMPARATORS},
    list_attributes=frozenset({"run_id"}),
    aliases={"created": "start_time", "Created": "start_time", "run name": "run_name",
             "Run name": "run_name", "Run Name": "run_name"},
    dataset_keys=frozenset({"name", "digest", "context"}),
)

EXPERIMENTS = Grammar(
    entities={"attribute": ATTRIBUTE, "tag": TAG, "tags": TAG},
    attributes=frozenset({"name", "experiment_id", "creation_time", "last_update_time"}),
    numeric_attributes=frozenset({"creation_time", "last_update_time"}),
    order_attributes=frozenset({"name", "experiment_id", "creation_time", "last_update_time"}),
    comparators={TAG: TAG_COMPARATORS},
    list_attributes=frozenset({"experiment_id"}),
)

LOGGED_MODELS = Grammar(
    entities=_ENTITY_SPELLINGS,
    attributes=frozenset({"name", "model_id", "model_type", "status", "source_run_id",
                          "creation_timestamp", "last_updated_timestamp"}),
    numeric_attributes=frozenset({"creation_timestamp", "last_updated_timestamp"}),
    order_attributes=frozenset({"name", "model_id", "model_type", "status", "source_run_id",
                                "creation_timestamp", "last_updated_timestamp"}),
    comparators={METRIC: NUMERIC_COMPARATORS, PARAM: STRING_COMPARATORS, TAG: STRING_COMPARATORS},
    list_attributes=None,
    aliases={"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"},
)


# -- tokens ------------------------------------------------------------------------------------
_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>'(?:[^'\\]|\\.|'')*')
  | (?P<num>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<ident>(?:[A-Za-z_][\w]*|"(?:[^"\\]|\\.)*"|`[^`]*`)(?:\.(?:[\w]+|"(?:[^"\\]|\\.)*"|`[^`]*`))*)
  | (?P<op>!=|<>|>=|<=|==|=|<|>)
  | (?P<lp>\()
  | (?P<rp>\))
  | (?P<comma>,)
""", re.VERBOSE)

_KEYWORDS = frozenset({"AND", "OR", "LIKE", "ILIKE", "IN", "NOT", "IS", "NULL"})


@dataclass(frozen=True)
class _Tok:
    kind: str   # str | num | ident | op | kw | lp | rp | comma
    text: str


def _tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise invalid(f"Invalid clause(s) in filter string: '{text[pos:]}'")
        kind = m.lastgroup or ""
        pos = m.end()
        if kind == "ws":
            continue
        tok = m.group()
        if kind == "ident" and tok.upper() in _KEYWORDS:
            kind, tok = "kw", tok.upper()
        out.append(_Tok(kind, tok))
    return out


def _unquote(s: str) -> str:
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'`":
        body = s[1:-1]
        if s[0] == "'":
            body = body.replace("''", "'")
        return body.replace("\\'", "'").replace('\\"', '"')
    return s


def _split_identifier(raw: str) -> tuple[str | None, str]:
    """``entity.key`` -> (entity, key) splitting on the first dot outside quotes."""
    quote = ""
    for i, ch in enumerate(raw):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"`":
            quote = ch
        elif ch == ".":
            return raw[:i], raw[i + 1:]
    return None, raw


# -- clauses -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clause:
    """One parsed comparison. ``test(lhs)`` answers it for a value (None: the key is absent)."""

    kind: str
    key: str
    comparator: str
    value: Any
    test: Callable[[Any], bool] = field(compare=False, repr=False)


def make_test(comparator: str, value: Any) -> Callable[[Any], bool]:
    if comparator == "IS NULL":
        return lambda lhs: lhs is None
    if comparator == "IS NOT NULL":
        return lambda lhs: lhs is not None
    if comparator in ("LIKE", "ILIKE"):
        rx = like_regex(value, comparator == "ILIKE")
        return lambda lhs: lhs is not None and rx.fullmatch(lhs) is not None
    if comparator == "IN":
        options = frozenset(value)
        return lambda lhs: lhs is not None and lhs in options
    if comparator == "NOT IN":
        options = frozenset(value)
        return lambda lhs: lhs is not None and lhs not in options
    import operator
    fn = {"=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
          "<": operator.lt, "<=": operator.le}[comparator]
    return lambda lhs: lhs is not None and fn(lhs, value)


def _identifier(raw: str, grammar: Grammar, attributes: frozenset[str]) -> tuple[str, str]:
    entity, key = _split_identifier(raw)
    if entity is None:
        kind = ATTRIBUTE
    else:
        entity = _unquote(entity)
        kind = grammar.entities.get(entity)  # type: ignore[assignment]
        if kind is None or (kind != ATTRIBUTE and kind not in grammar.comparators):
            valid = sorted({k for k in grammar.entities.values() if k == ATTRIBUTE or k in grammar.comparators})
            raise invalid(f"Invalid entity type '{entity}'. Valid values are {valid}")
    key = _unquote(key)
    if kind == ATTRIBUTE:
        key = grammar.aliases.get(key, key)
        if key not in attributes:
            raise invalid(f"Invalid attribute key '{key}' specified. Valid keys are '{sorted(attributes)}'")
    elif kind == DATASET and key not in grammar.dataset_keys:
        raise invalid(f"Invalid dataset key '{key}' specified. Valid keys are '{sorted(grammar.dataset_keys)}'")
    return kind, key


def _allowed(grammar: Grammar, kind: str, key: str) -> frozenset[str]:
    if kind == ATTRIBUTE:
        return NUMERIC_COMPARATORS if key in grammar.numeric_attributes else STRING_COMPARATORS
    return grammar.comparators[kind]


def _string_value(tok: _Tok, kind: str) -> str:
    if tok.kind == "str" or (tok.kind == "ident" and tok.text[:1] in "\"`"):
        return _unquote(tok.text)
    if tok.kind == "ident":
        raise invalid("Parameter value is either not quoted or unidentified quote types used for "
                      f"string value {tok.text}. Use either single or double quotes.")
    raise invalid(f"Expected a quoted string value for {kind} (e.g. 'my-value'). Got value {tok.text}")


def parse_filter(text: str | None, grammar: Grammar) -> list[Clause]:
    """Parse a filter string into clauses; an empty filter matches everything."""
    if not text or not text.strip():
        return []
    toks = _tokenize(text)
    clauses: list[Clause] = []
    i = 0
    n = len(toks)

    def bad(from_index: int) -> Exception:
        rest = " ".join(t.text for t in toks[from_index:]) or text
        return invalid(f"Invalid clause(s) in filter string: '{rest}'")

    while True:
        if i >= n or toks[i].kind != "ident":
            raise bad(i)
        kind, key = _identifier(toks[i].text, grammar, grammar.attributes)
        start = i
        i += 1
        if i >= n:
            raise bad(start)
        tok = toks[i]
        # comparator
        if tok.kind == "op":
            comparator = "!=" if tok.text == "<>" else ("=" if tok.text == "==" else tok.text)
            i += 1
        elif tok.kind == "kw" and tok.text in ("LIKE", "ILIKE", "IN"):
            comparator = tok.text
            i += 1
        elif tok.kind == "kw" and tok.text == "NOT" and i + 1 < n and toks[i + 1].text == "IN":
            comparator = "NOT IN"
            i += 2
        elif tok.kind == "kw" and tok.text == "IS":
            if i + 1 < n and toks[i + 1].text == "NULL":
                comparator, i = "IS NULL", i + 2
            elif i + 2 < n and toks[i + 1].text == "NOT" and toks[i + 2].text == "NULL":
                comparator, i = "IS NOT NULL", i + 3
            else:
                raise bad(start)
        else:
            raise bad(start)
        allowed = _allowed(grammar, kind, key)
        if comparator not in allowed:
            raise invalid(f"Invalid comparator '{comparator}' not one of '{sorted(allowed)}'")
        # value
        value: Any = None
        if comparator in ("IS NULL", "IS NOT NULL"):
            if kind in (ATTRIBUTE, METRIC, DATASET):  # key-value entities only (tags, params, metadata)
                raise invalid("IS NULL / IS NOT NULL is only supported for tags and params, "
                              f"not for '{kind}' '{key}'")
        elif comparator in ("IN", "NOT IN"):
            if kind == ATTRIBUTE and grammar.list_attributes is not None and key not in grammar.list_attributes:
                raise invalid(f"Only {sorted(grammar.list_attributes)} attributes support comparison "
                              "with a list of quoted string values.")
            if i >= n or toks[i].kind != "lp":
                raise bad(start)
            i += 1
            items: list[str] = []
            while True:
                if i >= n:
                    raise bad(start)
                if toks[i].kind != "str" and not (toks[i].kind == "ident" and toks[i].text[:1] == '"'):
                    raise invalid("While parsing a list in the query, expected string value, "
                                  f"punctuation, or whitespace, but got different type in list: {toks[i].text}")
                items.append(_unquote(toks[i].text))
                i += 1
                if i < n and toks[i].kind == "comma":
                    i += 1
                    continue
                if i < n and toks[i].kind == "rp":
                    i += 1
                    break
                raise bad(start)
            value = tuple(items)
        else:
            if i >= n:
                raise bad(start)
            vt = toks[i]
            i += 1
            numeric = kind == METRIC or (kind == ATTRIBUTE and key in grammar.numeric_attributes)
            if numeric:
                if vt.kind != "num":
                    what = "metric" if kind == METRIC else f"numeric attribute: {key}"
                    raise invalid(f"Expected numeric value type for {what}. Found {vt.text}")
                value = float(vt.text) if kind == METRIC or not _is_int(vt.text) else int(vt.text)
            else:
                value = _string_value(vt, kind)
        clauses.append(Clause(kind, key, comparator, value, make_test(comparator, value)))
        if i >= n:
            return clauses
        if toks[i].kind == "kw" and toks[i].text == "AND":
            i += 1
            continue
        raise bad(i)


def _is_int(text: str) -> bool:
    return re.fullmatch(r"[-+]?\d+", text) is not None


# -- order_by ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderKey:
    kind: str
    key: str
    ascending: bool


def parse_order_by(text: str, grammar: Grammar) -> OrderKey:
    """``metrics.acc DESC``, ``start_time``, ``params.`a b` ASC``."""
    try:
        toks = _tokenize(text)
    except Exception:
        toks = []
    ascending = True
    if len(toks) == 2 and toks[1].kind == "ident" and toks[1].text.lower() in ("asc", "desc"):
        ascending = toks[1].text.lower() == "asc"
        toks = toks[:1]
    elif len(toks) == 2 and toks[1].kind == "ident":
        raise invalid(f"Invalid ordering key in order_by clause '{text}'.")
    if len(toks) != 1 or toks[0].kind != "ident":
        raise invalid(f"Invalid order_by clause '{text}'. Could not be parsed.")
    kind, key = _identifier(toks[0].text, grammar, grammar.order_attributes)
    if kind == DATASET:
        raise invalid(f"Invalid order_by entity type '{kind}'")
    return OrderKey(kind, key, ascending)


def sort_value(value: Any, ascending: bool) -> tuple[bool, Any]:
    """A sort key that puts missing values (and NaN) last in either direction (mlflow's rule)."""
    is_none = value is None
    is_nan = isinstance(value, float) and math.isnan(value)
    fill = (1 if ascending else -1) * math.inf
    if is_none:
        value = fill
    elif is_nan:
        value = -fill
    missing = is_none or is_nan
    return (missing, value) if ascending else (not missing, value)


def apply_order(items: list[Any], keys: Sequence[OrderKey], value_of: Callable[[Any, OrderKey], Any]) -> list[Any]:
    """Stable-sort ``items`` (already in their base order) by ``keys``, the first key winning."""
    for ok in reversed(keys):
        items = sorted(items, key=lambda it, ok=ok: sort_value(value_of(it, ok), ok.ascending),
                       reverse=not ok.ascending)
    return items


# -- page tokens -------------------------------------------------------------------------------
def fingerprint(*parts: Any) -> str:
    """A short stable digest of a query, so a token is only valid for the query it came from."""
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def make_page_token(offset: int, query: str) -> str:
    return base64.b64encode(json.dumps({"offset": offset, "query": query}).encode()).decode()


def read_page_token(token: str | None, query: str) -> int:
    """The offset a token encodes; INVALID_PARAMETER_VALUE for anything not made by this query."""
    if not token:
        return 0
    try:
        data = json.loads(base64.b64decode(token.encode(), validate=True))
        offset = int(data["offset"])
        same = data.get("query") == query
    except (ValueError, TypeError, KeyError, binascii.Error, AttributeError):
        raise invalid(f"Invalid page token '{token}'.") from None
    if offset < 0 or not same:
        raise invalid(f"Invalid page token '{token}': it does not belong to this query.")
    return offset


def paginate(items: Sequence[T], token: str | None, max_results: int, query: str) -> Page[T]:
    start = read_page_token(token, query)
    end = start + max_results
    return Page(items[start:end], make_page_token(end, query) if end < len(items) else None)


def matches_all(clauses: Iterable[Clause], value_of: Callable[[Clause], Any]) -> bool:
    return all(c.test(value_of(c)) for c in clauses)
