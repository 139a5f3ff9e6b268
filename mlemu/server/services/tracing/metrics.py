"""Trace metrics (``POST /api/3.0/mlflow/traces/metrics``): the aggregations the MLflow UI's
experiment Overview charts ask for, computed over the traces an experiment holds.

A query names a view (``TRACES``, ``SPANS`` or ``ASSESSMENTS``), one metric of that view, its
aggregations (``COUNT``, ``SUM``, ``AVG``, ``MIN``, ``MAX``, ``PERCENTILE`` with a value in
0..100), optional dimensions to group by, ``<view>.<field> = '<value>'`` filters, a time range
and a time bucket width. Each group with at least one value is one data point:
``{"metric_name", "dimensions": {name: text}, "values": {"SUM": 12.0, "P50.0": 3.0}}``, the
time bucket as the ISO 8601 start of its UTC bucket under ``time_bucket``.

Where the numbers come from: a trace's request time, duration and state; its token usage in
the ``mlflow.trace.tokenUsage`` metadata; its session in ``mlflow.trace.session``; the spans of
its uploaded ``traces.json`` (start/end times, status, ``mlflow.spanType``, model name and
provider, ``mlflow.llm.cost``); its assessments (numeric or boolean feedback values).
Percentiles interpolate linearly between the two nearest values.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterable

from mlemu.server.core.errors import invalid
from mlemu.server.services.tracing.views import decoded

if TYPE_CHECKING:
    from mlemu.server.services.tracing.state import Trace, Tracing

TIME_BUCKET = "time_bucket"
#: Data points one answer holds (the rest come with a page token).
MAX_RESULTS = 1000
TOKEN_USAGE_METADATA = "mlflow.trace.tokenUsage"
SESSION_METADATA = "mlflow.trace.session"

_NUMERIC = frozenset({"SUM", "AVG", "MIN", "MAX", "PERCENTILE"})
_STATS = frozenset({"AVG", "MIN", "MAX", "PERCENTILE"})
_TOKENS = ("input_tokens", "output_tokens", "total_tokens", "cache_read_input_tokens",
           "cache_creation_input_tokens")


@dataclass(frozen=True)
class _Metric:
    aggregations: frozenset[str]
    dimensions: frozenset[str]


#: view -> metric -> what it may be aggregated and grouped by.
METRICS: dict[str, dict[str, _Metric]] = {
    "TRACES": {
        "trace_count": _Metric(frozenset({"COUNT"}), frozenset({"trace_name", "trace_status"})),
        "session_count": _Metric(frozenset({"COUNT"}), frozenset()),
        "latency": _Metric(_STATS, frozenset({"trace_name"})),
        **{k: _Metric(_NUMERIC, frozenset({"trace_name"})) for k in _TOKENS},
    },
    "SPANS": {
        "span_count": _Metric(frozenset({"COUNT"}), frozenset({
            "span_name", "span_type", "span_status", "span_model_name", "span_model_provider"})),
        "latency": _Metric(_STATS, frozenset({"span_name", "span_status"})),
        **{k: _Metric(_NUMERIC, frozenset({"span_model_name", "span_model_provider"}))
           for k in ("input_cost", "output_cost", "total_cost")},
    },
    "ASSESSMENTS": {
        "assessment_count": _Metric(frozenset({"COUNT"}), frozenset({"assessment_name", "assessment_value"})),
        "assessment_value": _Metric(_STATS, frozenset({"assessment_name"})),
    },
}
VIEW_NUMBERS = {1: "TRACES", 2: "SPANS", 3: "ASSESSMENTS"}
_AGG_NUMBERS = {1: "COUNT", 2: "SUM", 3: "AVG", 4: "PERCENTILE", 5: "MIN", 6: "MAX"}
_FILTER = re.compile(r"""^\s*(trace|span|assessment)\.([A-Za-z_]+)(?:\.(`[^`]+`|[\w.\-]+))?\s*(=|!=)\s*(['"])(.*)\5\s*$""")
_FILTER_FIELDS = {"trace": {"status": False, "tag": True, "metadata": True},
                  "span": {"name": False, "status": False, "type": False},
                  "assessment": {"name": False, "type": False}}


@dataclass(frozen=True)
class Aggregation:
    kind: str
    percentile: float | None = None

    @property
    def label(self) -> str:
        """The key of its value in a data point: ``SUM``, ``P50.0`` (as mlflow's server writes it)."""
        return f"P{self.percentile}" if self.kind == "PERCENTILE" else self.kind


@dataclass(frozen=True)
class Row:
    """One thing counted: its time (ms), its value (None: not measured), its dimensions, and
    the fields filters look at."""

    time_ms: int
    value: float | None
    dims: dict[str, str | None]
    fields: dict[str, str | None]


def enum_name(value: Any, numbers: dict[int, str], what: str) -> str:
    """A proto enum given by name or number."""
    if isinstance(value, int) and not isinstance(value, bool):
        name = numbers.get(value)
    else:
        name = str(value).upper() if value is not None else None
    if name not in numbers.values():
        raise invalid(f"Invalid value {value!r} for parameter '{what}': it must be one of "
                      f"{sorted(numbers.values())}.")
    return name  # type: ignore[return-value]


def parse_aggregations(raw: Iterable[dict[str, Any]]) -> list[Aggregation]:
    out = []
    for i, a in enumerate(raw):
        kind = enum_name(a.get("aggregation_type"), _AGG_NUMBERS, f"aggregations[{i}].aggregation_type")
        p = a.get("percentile_value")
        if kind == "PERCENTILE":
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 100:
                raise invalid("Percentile value is required for PERCENTILE aggregation and must be "
                              f"between 0 and 100, got {p!r}.")
            out.append(Aggregation(kind, float(p)))
        elif p is not None:
            raise invalid(f"Percentile value is only allowed for PERCENTILE aggregation type, got {kind}.")
        else:
            out.append(Aggregation(kind))
    if not out:
        raise invalid("Missing value for required parameter 'aggregations'.")
    return out


def query(tracing: "Tracing", experiment_ids: list[str], view: str, metric_name: str,
          aggregations: list[Aggregation], dimensions: list[str], filters: list[str],
          interval_s: int | None, start_ms: int | None, end_ms: int | None) -> list[dict[str, Any]]:
    """Every data point of the query, in dimension order (time buckets first)."""
    if not experiment_ids:
        raise invalid("Missing value for required parameter 'experiment_ids'.")
    spec = METRICS[view].get(metric_name)
    if spec is None:
        raise invalid(f"metric_name must be one of {list(METRICS[view])}, got '{metric_name}'")
    bad = sorted({a.kind for a in aggregations} - spec.aggregations)
    if bad:
        raise invalid(f"Found invalid aggregation_type(s): {bad}. Supported aggregation types: "
                      f"{sorted(spec.aggregations)}")
    bad = sorted(set(dimensions) - spec.dimensions)
    if bad:
        raise invalid(f"Found invalid dimension(s): {bad}. Supported dimensions: {sorted(spec.dimensions)}")
    if interval_s is not None and interval_s <= 0:
        raise invalid(f"time_interval_seconds must be positive, got {interval_s}.")
    if interval_s and (start_ms is None or end_ms is None):
        raise invalid("start_time_ms and end_time_ms are required if time_interval_seconds is set")
    tests = [_filter(f, view) for f in filters]
    traces = tracing.traces(experiment_ids)
    rows = [r for r in _rows(tracing, traces, view, metric_name)
            if (start_ms is None or r.time_ms >= start_ms) and (end_ms is None or r.time_ms <= end_ms)
            and all(t(r) for t in tests)]
    keys = ([TIME_BUCKET] if interval_s else []) + list(dimensions)
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for r in rows:
        key = tuple((r.time_ms // (interval_s * 1000)) * interval_s * 1000 if k == TIME_BUCKET
                    else r.dims.get(k) for k in keys)
        if any(v is None for v in key):
            continue
        groups.setdefault(key, []).append(r)
    points = []
    for key in sorted(groups, key=lambda k: tuple(str(v) if not isinstance(v, int) else f"{v:020d}" for v in k)):
        values = _aggregate(groups[key], aggregations, metric_name == "session_count")
        if not values:
            continue
        dims = {k: (_iso(v) if k == TIME_BUCKET else str(v)) for k, v in zip(keys, key)}
        points.append({"metric_name": metric_name, "dimensions": dims, "values": values})
    return points


def _aggregate(rows: list[Row], aggregations: list[Aggregation], distinct: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    if distinct:  # session_count: distinct sessions
        out_count = len({r.value for r in rows if r.value is not None})
        return {"COUNT": float(out_count)} if out_count else {}
    numbers = sorted(r.value for r in rows if r.value is not None)
    for a in aggregations:
        if a.kind == "COUNT":
            out[a.label] = float(len(rows))
        elif not numbers:
            continue
        elif a.kind == "SUM":
            out[a.label] = float(math.fsum(numbers))
        elif a.kind == "AVG":
            out[a.label] = math.fsum(numbers) / len(numbers)
        elif a.kind == "MIN":
            out[a.label] = float(numbers[0])
        elif a.kind == "MAX":
            out[a.label] = float(numbers[-1])
        else:
            out[a.label] = _percentile(numbers, a.percentile or 0.0)
    return out


def _percentile(ordered: list[float], p: float) -> float:
    pos = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat()


def _filter(text: str, view: str) -> Callable[[Row], bool]:
    m = _FILTER.match(text or "")
    prefix = view[:-1].lower()  # TRACES -> trace
    if m is None or m.group(1) != prefix or m.group(2) not in _FILTER_FIELDS[prefix] \
            or bool(m.group(3)) != _FILTER_FIELDS[prefix][m.group(2)]:
        raise invalid(f"Invalid filter '{text}': expected {prefix}.<field> = '<value>' with field "
                      f"one of {sorted(_FILTER_FIELDS[prefix])} (tag and metadata take a key: "
                      f"{prefix}.tag.<key>).")
    field = m.group(2) + ("." + m.group(3).strip("`") if m.group(3) else "")
    op, value = m.group(4), m.group(6)
    return lambda r: (r.fields.get(field) == value) == (op == "=")


# -- rows per view ------------------------------------------------------------------------------
def _rows(tracing: "Tracing", traces: list["Trace"], view: str, metric: str) -> Iterable[Row]:
    if view == "TRACES":
        for t in traces:
            yield _trace_row(t, metric)
    elif view == "SPANS":
        for t in traces:
            yield from _span_rows(tracing, t, metric)
    else:
        for t in traces:
            yield from _assessment_rows(t, metric)


def _trace_row(t: "Trace", metric: str) -> Row:
    value: Any = None
    if metric == "latency":
        value = t.execution_duration_ms
    elif metric == "session_count":
        value = t.metadata.get(SESSION_METADATA)
    elif metric in _TOKENS:
        value = _number(_json(t.metadata.get(TOKEN_USAGE_METADATA)).get(metric))
    fields: dict[str, str | None] = {"status": t.state}
    fields.update({f"tag.{k}": v for k, v in t.tags.items()})
    fields.update({f"metadata.{k}": v for k, v in t.metadata.items()})
    return Row(t.request_time_ms, value, {"trace_name": t.tags.get("mlflow.traceName"),
                                          "trace_status": t.state}, fields)


def _span_rows(tracing: "Tracing", t: "Trace", metric: str) -> Iterable[Row]:
    raw = tracing.span_data(t.trace_id)
    spans = _json(raw.decode("utf-8", "replace") if raw else None).get("spans") or []
    for s in spans if isinstance(spans, list) else []:
        if not isinstance(s, dict):
            continue
        attrs = s.get("attributes") if isinstance(s.get("attributes"), dict) else {}
        start, end = _number(s.get("start_time_unix_nano")), _number(s.get("end_time_unix_nano"))
        status = _span_status(s.get("status"))
        value: Any = None
        if metric == "latency" and start is not None and end is not None:
            value = (end - start) // 1_000_000
        elif metric.endswith("_cost"):
            value = _number(_json(_attr(attrs, "mlflow.llm.cost")).get(metric))
        name, kind = s.get("name"), _attr(attrs, "mlflow.spanType")
        dims = {"span_name": name, "span_type": kind, "span_status": status,
                "span_model_name": _attr(attrs, "mlflow.llm.model"),
                "span_model_provider": _attr(attrs, "mlflow.llm.provider")}
        yield Row(int((start or 0) // 1_000_000) if start is not None else t.request_time_ms, value,
                  dims, {"name": name, "status": status, "type": kind})


def _assessment_rows(t: "Trace", metric: str) -> Iterable[Row]:
    for a in t.assessments.values():
        if a.get("valid") is False:
            continue
        name = a.get("assessment_name")
        feedback = a.get("feedback") if isinstance(a.get("feedback"), dict) else None
        raw = (feedback or {}).get("value") if feedback else (a.get("expectation") or {}).get("value")
        number = float(raw) if isinstance(raw, bool) else _number(raw)
        kind = "feedback" if feedback is not None else "expectation"
        when = _number(_millis(a.get("create_time"))) or t.request_time_ms
        yield Row(int(when), number if metric == "assessment_value" else None,
                  {"assessment_name": name, "assessment_value": None if raw is None else _text(raw)},
                  {"name": name, "type": kind})


# -- small readers ------------------------------------------------------------------------------
def _json(text: Any) -> dict[str, Any]:
    if isinstance(text, dict):
        return text
    if not isinstance(text, str):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _attr(attrs: dict[str, Any], key: str) -> Any:
    return decoded(attrs.get(key))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _text(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _span_status(status: Any) -> str | None:
    code = status.get("code") if isinstance(status, dict) else status
    if code is None:
        return "UNSET"
    text = str(code).upper().replace("STATUS_CODE_", "")
    return text or "UNSET"


def _millis(value: Any) -> Any:
    """An assessment time: epoch milliseconds, or the RFC 3339 text proto JSON writes."""
    if isinstance(value, str) and "T" in value:
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return value
