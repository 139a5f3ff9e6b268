"""Matching request paths against the routes whose rules have variables (``<path:p>``):
werkzeug's matching rules, answered by one compiled regular expression per (method, path
prefix), built lazily on its first request.

A rule's *prefix* is its first three path segments when they hold no variable
(``/api/2.0/fs`` for ``/api/2.0/fs/files/<path:p>``); rules with a variable earlier share the
prefix ``None`` and join every group. A path can only match rules of its own prefix or of
``None``, so each small group answers exactly as one werkzeug ``Map`` of every rule would.
Prefixes come from the rules, never from requests: at most one matcher per rule prefix and method.

The rules mlemu declares use whole-segment variables only (``<name>``, ``<int:name>``, a
final ``<path:name>``). werkzeug matches those by walking a trie: static segments before
variables, ``int`` before plain before ``path``, a single trailing slash accepted after a rule
that does not end in ``path``. Rules sorted by that segment order become the alternatives of
one expression, so its first alternative that matches is werkzeug's rule, with the same
values (``tests/server/wire/test_matcher.py`` compares them on random paths). A group with
any other rule (a plugin's converter) is matched by werkzeug itself. Either way, werkzeug's
recursive matcher (about 15 us a path, several times that inside a client's flow) is not
paid per request.
"""
from __future__ import annotations

import re
from typing import Any

_SEGMENTS = 4  # "", "api", "2.0", "fs": the leading empty one and three segments


def prefix(path: str) -> str | None:
    parts = path.split("/", _SEGMENTS)
    if len(parts) <= _SEGMENTS or any("<" in p for p in parts[:_SEGMENTS]):
        return None
    return "/".join(parts[:_SEGMENTS])


class DynamicRoutes:
    """``match(method, path)`` -> ``(index, path variables)`` or None, over ``(method, rule,
    index)`` triples."""

    def __init__(self, rules: list[tuple[str, str, int]]) -> None:
        self._rules: dict[tuple[str, str | None], list[tuple[str, int]]] = {}
        for method, rule, index in rules:
            self._rules.setdefault((method, prefix(rule)), []).append((rule, index))
        self._adapters: dict[tuple[str, str | None], Any] = {}

    def match(self, method: str, path: str) -> tuple[int, dict[str, Any]] | None:
        key = (method, prefix(path))
        if key not in self._rules:
            key = (method, None)  # unknown prefixes share the catch-all group: no growth per request
            if key not in self._rules:
                return None
        adapter = self._adapters.get(key)
        if adapter is None:
            adapter = self._adapters[key] = self._build(key)
        try:
            index, args = adapter.match(path, method=method)
        except Exception:  # NotFound, werkzeug's redirects, ...: not an emulated route
            return None
        return index, args

    def _build(self, key: tuple[str, str | None]) -> Any:
        method, pfx = key
        specs = list(self._rules.get(key, ()))
        if pfx is not None:
            specs += self._rules.get((method, None), [])
        compiled = _RegexGroup.build(specs)
        if compiled is not None:
            return compiled
        from werkzeug.routing import Map

        return Map([_match_rule()(rule, endpoint=index) for rule, index in specs],
                   strict_slashes=False, merge_slashes=False).bind("mlemu")


_VARIABLE = re.compile(r"<(?:(int|path):)?([A-Za-z_][A-Za-z0-9_]*)>")
#: werkzeug's order at one segment: static, then variables by converter weight.
_RANK = {"static": 0, "int": 1, "": 2, "path": 3}
_PATTERN = {"int": r"\d+", "": r"[^/]+", "path": r"[^/].*"}


class _NoMatch(Exception):
    pass


class _RegexGroup:
    """One expression for a group of rules in werkzeug's order (see the module docstring)."""

    def __init__(self, regex: "re.Pattern[str]", rules: dict[str, tuple[int, list[tuple[str, str, str]]]]) -> None:
        self._regex = regex
        self._rules = rules  # alternative's group name -> (route index, [(group, variable, converter)])

    @classmethod
    def build(cls, specs: list[tuple[str, int]]) -> "_RegexGroup | None":
        """None when a rule is not made of whole-segment ``<name>``, ``<int:name>`` and a final
        ``<path:name>`` (werkzeug then matches the group)."""
        parsed = []
        for order, (rule, index) in enumerate(specs):
            segments = rule.split("/")
            kinds: list[tuple[str, str]] = []  # (converter or "static", literal or variable name)
            for i, segment in enumerate(segments):
                if "<" not in segment and ">" not in segment:
                    kinds.append(("static", segment))
                    continue
                m = _VARIABLE.fullmatch(segment)
                if m is None or (m.group(1) == "path" and i != len(segments) - 1):
                    return None
                kinds.append((m.group(1) or "", m.group(2)))
            if rule.endswith("/"):
                return None  # werkzeug's redirects to a trailing slash: not declared by mlemu
            parsed.append(([_RANK[k] for k, _ in kinds], order, index, kinds))
        parsed.sort(key=lambda p: (p[0], p[1]))
        alternatives, rules = [], {}
        for n, (_, _, index, kinds) in enumerate(parsed):
            name = f"r{n}"
            parts, variables = [], []
            for kind, text in kinds:
                if kind == "static":
                    parts.append(re.escape(text))
                else:
                    group = f"{name}_{len(variables)}"
                    variables.append((group, text, kind))
                    parts.append(f"(?P<{group}>{_PATTERN[kind]})")
            # A single trailing slash is accepted after any rule but a final <path:> (which
            # takes the slash into its value), as werkzeug does without strict slashes.
            tail = "" if kinds[-1][0] == "path" else "/?"
            alternatives.append(f"(?P<{name}>{'/'.join(parts)}{tail})")
            rules[name] = (index, variables)
        return cls(re.compile("|".join(alternatives)), rules)

    def match(self, path: str, method: str = "") -> tuple[int, dict[str, Any]]:
        m = self._regex.fullmatch(path)
        if m is None:
            raise _NoMatch(path)
        index, variables = self._rules[m.lastgroup]  # type: ignore[index]
        values: dict[str, Any] = {}
        for group, variable, kind in variables:
            value = m.group(group)
            values[variable] = int(value) if kind == "int" else value
        return index, values


def _match_rule() -> type:
    from werkzeug.routing import Rule

    global _MatchRule
    if _MatchRule is None:
        class MatchRule(Rule):
            """A rule that only matches. mlemu never builds URLs from rules, so werkzeug's URL
            builder (two ``compile()`` calls per rule) is never made."""

            def _compile_builder(self, append_unknown: bool = True) -> Any:
                return _no_url_building

        _MatchRule = MatchRule
    return _MatchRule


_MatchRule: type | None = None


def _no_url_building(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("mlemu's routes match requests; they do not build URLs")
