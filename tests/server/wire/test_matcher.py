"""The lazily built, per-prefix matchers answer exactly as one werkzeug Map of every rule:
for a path made from every emulated rule and for paths that match none."""
from __future__ import annotations

import re

from werkzeug.routing import Map, Rule

from mlemu.server import plugins
from mlemu.server.wire.matcher import DynamicRoutes, prefix

SAMPLES = {"path": "a/b.txt", "int": "7", "default": "x1"}


def _sample(rule: str) -> str:
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", lambda m: SAMPLES.get(m.group(1) or "default", "x1"), rule)


def test_lazy_matchers_agree_with_one_map_of_every_rule():
    routes = plugins.app().routes
    dynamic = [(r.method, r.rule, i) for i, r in enumerate(routes) if not r.is_static]
    assert dynamic, "the app has rules with variables"
    ours = DynamicRoutes(dynamic)
    full = {m: Map([Rule(rule, endpoint=i) for mm, rule, i in dynamic if mm == m],
                   strict_slashes=False, merge_slashes=False).bind("mlemu")
            for m in {d[0] for d in dynamic}}
    paths = {_sample(rule) for _, rule, _ in dynamic}
    paths |= {"/", "/api", "/api/2.0/unknown/thing", "/api/2.0/fs/files", "/no/such/prefix/x/y",
              "/ajax-api/2.0/mlflow/x", "/api/2.0/fs/files/", "//api//2.0"}
    for method, adapter in full.items():
        for path in sorted(paths):
            try:
                expected = adapter.match(path, method=method)
            except Exception:
                expected = None
            assert ours.match(method, path) == expected, (method, path)


def test_prefixes_come_from_rules_only():
    routes = DynamicRoutes([("GET", "/api/2.0/fs/files<path:p>", 0)])
    for i in range(50):
        assert routes.match("GET", f"/api/2.0/other{i}/x") is None
    assert len(routes._adapters) <= 2  # the rule's prefix and the catch-all, never one per request
    assert prefix("/api/2.0/fs/files/a") == "/api/2.0/fs" and prefix("/<x>/2.0/fs/y") is None
