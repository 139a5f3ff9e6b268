"""The search grammar on its own (``mlemu.server.services.tracking.search``): parsing, LIKE, order_by,
page tokens. End-to-end behaviour is in test_search_runs.py."""
from __future__ import annotations

import pytest

from mlemu import ApiError
from mlemu.server.services.tracking import search as s


def _one(text, grammar=s.RUNS):
    [clause] = s.parse_filter(text, grammar)
    return clause.kind, clause.key, clause.comparator, clause.value


@pytest.mark.parametrize("text, expected", [
    ("metrics.acc > 0.5", ("metric", "acc", ">", 0.5)),
    ("metric.acc >= -1e3", ("metric", "acc", ">=", -1000.0)),
    ("params.lr = '0.1'", ("parameter", "lr", "=", "0.1")),
    ("param.`my param` != \"x\"", ("parameter", "my param", "!=", "x")),
    ('params."my-key" = \'it\'\'s\'', ("parameter", "my-key", "=", "it's")),
    ("tags.mlflow.runName = 'abc'", ("tag", "mlflow.runName", "=", "abc")),
    ("tags.x like '%a_'", ("tag", "x", "LIKE", "%a_")),
    ("tags.x IS NOT NULL", ("tag", "x", "IS NOT NULL", None)),
    ("run_name ILIKE 'A%'", ("attribute", "run_name", "ILIKE", "A%")),
    ("attr.start_time < 10", ("attribute", "start_time", "<", 10)),
    ("created >= 5", ("attribute", "start_time", ">=", 5)),
    ('"run name" = \'x\'', ("attribute", "run_name", "=", "x")),
    ("run_id in ('a', 'b')", ("attribute", "run_id", "IN", ("a", "b"))),
    ("attributes.run_id NOT IN ('a')", ("attribute", "run_id", "NOT IN", ("a",))),
    ("dataset.context = 'train'", ("dataset", "context", "=", "train")),
])
def test_clauses(text, expected):
    assert _one(text) == expected


def test_and_joins_clauses_case_insensitively():
    clauses = s.parse_filter("metrics.a > 1 and params.b = 'x' AND tags.c != 'y'", s.RUNS)
    assert [c.kind for c in clauses] == ["metric", "parameter", "tag"]
    assert s.parse_filter("   ", s.RUNS) == [] and s.parse_filter(None, s.RUNS) == []


@pytest.mark.parametrize("pattern, text, ignore_case, expected", [
    ("a%", "abc", False, True),
    ("a%", "bac", False, False),
    ("%c", "abc", False, True),
    ("a_c", "abc", False, True),
    ("a_c", "abbc", False, False),
    ("a.c", "abc", False, False),  # '.' is literal, not a regex wildcard
    ("(x)%", "(x)yz", False, True),
    ("ABC", "abc", False, False),
    ("ABC", "abc", True, True),
    ("%", "", False, True),
])
def test_like(pattern, text, ignore_case, expected):
    assert (s.like_regex(pattern, ignore_case).fullmatch(text) is not None) is expected


@pytest.mark.parametrize("text", [
    "metrics.a > 'x'", "params.a = 1", "params.a = b", "a.b = 'x'", "colour = 'x'",
    "metrics.a LIKE 'x'", "status IN ('A')", "metrics.a > 1 OR metrics.a < 0", "metrics.a >",
    "metrics.a > 1 AND", "tags.x IS NULL NULL", "metrics.a IS NULL", "run_id IN ('a',", "metrics.a ~ 1",
])
def test_invalid_filters(text):
    with pytest.raises(ApiError) as e:
        s.parse_filter(text, s.RUNS)
    assert e.value.code == "INVALID_PARAMETER_VALUE"


def test_grammars_differ_per_entity():
    assert _one("name LIKE 'x%'", s.EXPERIMENTS)[:3] == ("attribute", "name", "LIKE")
    assert _one("experiment_id IN ('1', '2')", s.EXPERIMENTS)[3] == ("1", "2")
    with pytest.raises(ApiError):
        s.parse_filter("metrics.a > 1", s.EXPERIMENTS)
    assert _one("creation_time > 3", s.LOGGED_MODELS)[1] == "creation_timestamp"
    assert _one("tags.t IN ('a')", s.LOGGED_MODELS)[2] == "IN"
    with pytest.raises(ApiError):
        s.parse_filter("dataset.name = 'x'", s.LOGGED_MODELS)


@pytest.mark.parametrize("text, expected", [
    ("metrics.acc", s.OrderKey("metric", "acc", True)),
    ("metrics.acc DESC", s.OrderKey("metric", "acc", False)),
    ("params.`a b` asc", s.OrderKey("parameter", "a b", True)),
    ("start_time", s.OrderKey("attribute", "start_time", True)),
    ("attribute.end_time DESC", s.OrderKey("attribute", "end_time", False)),
])
def test_order_by(text, expected):
    assert s.parse_order_by(text, s.RUNS) == expected


@pytest.mark.parametrize("text", ["metrics.acc UP", "", "a, b", "colour", "dataset.name"])
def test_bad_order_by(text):
    with pytest.raises(ApiError):
        s.parse_order_by(text, s.RUNS)


def test_missing_values_sort_last():
    items = [{"v": 2}, {"v": None}, {"v": 1}, {"v": float("nan")}, {"v": 3}]
    for asc, first in ((True, [1, 2, 3]), (False, [3, 2, 1])):
        out = s.apply_order(items, [s.OrderKey("metric", "v", asc)], lambda it, k: it["v"])
        assert [it["v"] for it in out[:3]] == first
        assert out[3]["v"] is None or out[3]["v"] != out[3]["v"]


def test_page_tokens():
    items = list(range(10))
    q = s.fingerprint("runs", ["1"], None)
    page, token = s.paginate(items, None, 4, q)
    assert page == [0, 1, 2, 3] and token
    page, token2 = s.paginate(items, token, 4, q)
    assert page == [4, 5, 6, 7]
    page, last = s.paginate(items, token2, 4, q)
    assert page == [8, 9] and last is None
    assert s.paginate(items, token, 4, q) == s.paginate(items, token, 4, q)  # deterministic
    for bad in ("%%%", "bm90IGpzb24=", token.replace("=", "")):
        with pytest.raises(ApiError):
            s.paginate(items, bad, 4, q)
    with pytest.raises(ApiError):
        s.paginate(items, token, 4, s.fingerprint("another query"))
