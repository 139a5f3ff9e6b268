"""Matching request paths against the routes whose rules have variables (``<path:p>``), with
werkzeug's rule matcher, built lazily: one ``Map`` per (method, path prefix) on its first
request, so a test that only reaches static paths (matched by dict in ``App``) never imports
werkzeug, and one that reaches a few prefixes builds only those.

A rule's *prefix* is its first three path segments when they hold no variable
(``/api/2.0/fs`` for ``/api/2.0/fs/files<path:p>``); rules with a variable earlier share the
prefix ``None`` and go into every ``Map``. A path can only match rules of its own prefix or of
``None``, so each small ``Map`` answers exactly as one ``Map`` of every rule would. Prefixes
come from the rules, never from requests: at most one ``Map`` per rule prefix and method.
"""
from __future__ import annotations

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
            key = (method, None)  # unknown prefixes share the catch-all map: no growth per request
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
        from werkzeug.routing import Map

        method, pfx = key
        specs = list(self._rules.get(key, ()))
        if pfx is not None:
            specs += self._rules.get((method, None), [])
        return Map([_match_rule()(rule, endpoint=index) for rule, index in specs],
                   strict_slashes=False, merge_slashes=False).bind("mlemu")


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
