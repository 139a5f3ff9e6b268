"""docs/limitations.md never calls "not emulated" what the coverage page (docs/coverage.md,
generated from the sweep of the real clients and from the routing table) shows as answered.

A sentence of the limitations page that says something is missing (not emulated, not
answered, not supported, broken, unsupported) must not name, in backticks, a client method
the sweep saw *answered* (`w.<service>.<method>`, `MlflowClient.<method>`) or a path mlemu
routes (`/api/...` in full, or the tail of one, such as `traces/metrics`).
"""
from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
LIMITATIONS = (ROOT / "docs" / "limitations.md").read_text(encoding="utf-8")
COVERAGE = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")

MISSING = re.compile(r"not emulated|not answered|not supported|unsupported|not implemented|\bbroken\b", re.I)
METHOD = re.compile(r"`((?:w\.\w+|MlflowClient(?:\[[^\]]+\])?)\.\w+)")
PATHLIKE = re.compile(r"`([\w./*<>{}-]*/[\w./*<>{}-]+)`")


def sweep_outcomes(coverage: str) -> dict[str, str]:
    """``{"w.experiments.create_experiment": "answered", ...}`` from the sweep's tables."""
    outcomes: dict[str, str] = {}
    surface = None
    for line in coverage.splitlines():
        if line.startswith("## Emulated endpoints"):
            break
        heading = re.match(r"### `(.+)`$", line)
        if heading:
            surface = heading.group(1)
            continue
        row = re.match(r"\| `(\w+)` \| ([\w -]+?) \|", line)
        if surface and row:
            outcomes[f"{surface}.{row.group(1)}"] = row.group(2)
    return outcomes


def routed_paths(coverage: str) -> list[str]:
    return re.findall(r"^\| (?:GET|POST|PUT|PATCH|DELETE|HEAD) \| `([^`]+)` \|", coverage, re.M)


def _route_pattern(rule: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"<[^>]+>", "[^/]+", re.escape(rule).replace(r"\<", "<").replace(r"\>", ">")))


def is_routed(mention: str, rules: list[str]) -> bool:
    """A full path (``/api/...``) a route matches, or a tail (``traces/metrics``) a route ends with."""
    if "://" in mention or mention.endswith((".md", ".py", ".txt", ".json", ".yaml", ".zip")):
        return False
    mention = mention.split("?")[0].rstrip("/")
    tail = re.escape(mention).replace(r"\*", "[^/]+")
    for rule in rules:
        concrete = _route_pattern(rule)
        if mention.startswith("/") and concrete.fullmatch(mention):
            return True
        if not mention.startswith("/") and re.search(rf"/{tail}$", rule.replace("<", "").replace(">", "")):
            return True
    return False


def sentences(text: str) -> list[str]:
    text = re.sub(r"\s*\n\s*", " ", text)
    return re.split(r"(?<=[.;:])\s+(?=[A-Z`(*-])", text)


def test_the_parsers_read_the_coverage_page():
    outcomes = sweep_outcomes(COVERAGE)
    assert outcomes["w.experiments.create_experiment"] == "answered"
    assert "/api/2.0/mlflow/runs/create" in routed_paths(COVERAGE)
    assert is_routed("/api/2.0/mlflow/experiments/get", routed_paths(COVERAGE))
    assert not is_routed("/api/2.0/external-function", routed_paths(COVERAGE))


def test_a_sentence_naming_an_answered_method_as_missing_fails():
    text = "Known *broken*: `MlflowClient.search_traces(run_id=...)` fails; traces are not emulated."
    outcomes = sweep_outcomes(COVERAGE)
    assert outcomes.get("MlflowClient.search_traces") == "answered"
    assert _contradictions(text) == ["MlflowClient.search_traces is answered (coverage sweep)"]


def _contradictions(text: str) -> list[str]:
    outcomes, rules = sweep_outcomes(COVERAGE), routed_paths(COVERAGE)
    found = []
    for sentence in sentences(text):
        if not MISSING.search(sentence):
            continue
        for method in METHOD.findall(sentence):
            if outcomes.get(method) == "answered":
                found.append(f"{method} is answered (coverage sweep)")
        for mention in PATHLIKE.findall(sentence):
            if is_routed(mention, rules):
                found.append(f"{mention} is routed (coverage routing table): {sentence[:160]}")
    return found


def test_limitations_never_contradict_the_coverage_page():
    assert _contradictions(LIMITATIONS) == []
