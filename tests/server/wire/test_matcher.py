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


_FILLERS = ["x1", "7", "007", "\u0661\u0662", "a/b.txt", "a/b/", "a//b", "", "/", "-1", "a\nb", "..",
            "v%2F1", "main.default.m", "Volumes/c/s/v/f.bin", "1" * 5000, "\u00e9"]


def _full_maps(dynamic):
    return {m: Map([Rule(rule, endpoint=i) for mm, rule, i in dynamic if mm == m],
                   strict_slashes=False, merge_slashes=False).bind("mlemu")
            for m in {d[0] for d in dynamic}}


def _werkzeug(adapter, method, path):
    try:
        return adapter.match(path, method=method)
    except Exception:
        return None


def test_compiled_matchers_agree_with_werkzeug_on_random_paths():
    """Every rule filled with awkward values (empty, slashes, newlines, unicode digits, 5,000
    digits), with a trailing slash, a segment more or less: mlemu's expressions pick the rule
    werkzeug picks, with the same values."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    routes = plugins.app().routes
    dynamic = [(r.method, r.rule, i) for i, r in enumerate(routes) if not r.is_static]
    ours = DynamicRoutes(dynamic)
    full = _full_maps(dynamic)
    variable = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")

    @settings(max_examples=1500, deadline=None, derandomize=True)
    @given(st.sampled_from(dynamic), st.lists(st.sampled_from(_FILLERS) | st.text(max_size=4), min_size=3, max_size=3),
           st.sampled_from(["", "/", "//", "/extra", "/x/y"]), st.booleans(), st.sampled_from(sorted(full)))
    def check(spec, fillers, tail, drop_last, method):
        _, rule, _ = spec
        it = iter(fillers)
        path = variable.sub(lambda m: next(it, "z"), rule)
        if drop_last:
            path = path.rsplit("/", 1)[0]
        path += tail
        assert ours.match(method, path) == _werkzeug(full[method], method, path), (method, path)

    check()


def test_a_rule_outside_the_compiled_forms_is_matched_by_werkzeug():
    """A plugin's rule with a converter's options or a variable inside a segment: its group
    is matched by werkzeug itself."""
    dynamic = [("GET", "/api/2.0/fs/files<path:p>", 0), ("GET", "/api/2.0/fs/x/<int(min=3):n>", 1),
               ("GET", "/api/2.0/fs/y/<n>", 2)]
    routes = DynamicRoutes(dynamic)
    full = _full_maps(dynamic)["GET"]
    for path in ("/api/2.0/fs/files/a/b", "/api/2.0/fs/filesa/b", "/api/2.0/fs/x/5", "/api/2.0/fs/x/2",
                 "/api/2.0/fs/y/q"):
        assert routes.match("GET", path) == _werkzeug(full, "GET", path), path
    assert routes.match("GET", "/api/2.0/fs/x/5") == (1, {"n": 5})
    assert routes.match("GET", "/api/2.0/fs/x/2") is None
    assert type(routes._adapters[("GET", "/api/2.0/fs")]).__module__.startswith("werkzeug")


def test_overlapping_rules_are_ordered_as_werkzeug_orders_them():
    """Rules that can match the same path (none of mlemu's own do much of that): static before
    int before plain before path, at every segment."""
    rules = ["/r/a/<int:n>", "/r/a/<x>", "/r/a/<path:p>", "/r/a/<x>/b", "/r/a/b/<x>", "/r/a/<x>/<int:n>",
             "/r/<y>/b/<path:p>", "/r/<int:k>/<x>"]
    dynamic = [("GET", rule, i) for i, rule in enumerate(rules)]
    ours = DynamicRoutes(dynamic)
    full = _full_maps(dynamic)["GET"]
    segments = ["a", "b", "7", "x", "", "b/c"]
    paths = {"/r/" + "/".join(combo) for n in range(1, 4)
             for combo in __import__("itertools").product(segments, repeat=n)}
    for path in sorted(paths | {p + "/" for p in paths}):
        assert ours.match("GET", path) == _werkzeug(full, "GET", path), path
