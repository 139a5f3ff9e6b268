"""``POST /api/3.0/mlflow/traces/metrics`` (issue 20, item 16): the aggregations the MLflow UI's
experiment Overview charts ask for, computed over the workspace's traces. Traces are made
with the real mlflow (mlflow 3: ``@mlflow.trace``; token usage and costs as the client records
them); the queries go through mlflow's own REST store where it has one, and the SDK's API client."""
from __future__ import annotations

import pytest

from tests.server.services.tracing.conftest import MLFLOW3

pytestmark = pytest.mark.skipif(not MLFLOW3, reason="trace metrics are an mlflow 3 API (the 2.x UI has no Overview page)")

DAY_MS = 86_400_000


def _client_sums_token_usage() -> bool:
    """mlflow 3.0 does not add up its spans' token usage into the trace's metadata (later ones
    do), and the metrics are computed over what the client sent, as the workspace computes them."""
    from mlflow.tracing.constant import TraceMetadataKey

    return hasattr(TraceMetadataKey, "TOKEN_USAGE")


@pytest.fixture
def traced(mlemu, experiment_id):
    """Three traces: two OK (with token usage and an LLM span with a cost), one ERROR; one
    trace has a passing assessment."""
    import mlflow
    from mlflow.entities import SpanType

    @mlflow.trace(name="answer")
    def answer(q: str) -> str:
        with mlflow.start_span(name="llm", span_type=SpanType.LLM) as span:
            span.set_attributes({"mlflow.llm.model": "gpt-x", "mlflow.llm.provider": "acme",
                                 "mlflow.llm.cost": {"input_cost": 0.25, "output_cost": 0.5,
                                                     "total_cost": 0.75},
                                 "mlflow.chat.tokenUsage": {"input_tokens": 10, "output_tokens": 5,
                                                            "total_tokens": 15}})
        return q

    @mlflow.trace(name="fail")
    def fail() -> None:
        raise ValueError("no")

    answer("a")
    first = mlflow.get_last_active_trace_id()
    answer("b")
    with pytest.raises(ValueError):
        fail()
    mlflow.log_feedback(trace_id=first, name="correct", value=True)
    return experiment_id


def _query(api, **body):
    return api.do("POST", "/api/3.0/mlflow/traces/metrics", body=body).get("data_points", [])


@pytest.fixture
def api(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient().api_client


def test_trace_count_by_hour_and_status(api, mlemu, traced):
    """Buckets are the UTC start of each interval (the client stamps a trace's start time)."""
    from collections import Counter
    from datetime import datetime, timezone

    times = {t.trace_id: (t.request_time_ms, t.state) for t in mlemu.tracing.traces([traced])}
    hour = 3_600_000
    expected = Counter((datetime.fromtimestamp(ms // hour * 3600, tz=timezone.utc).isoformat(), state)
                       for ms, state in times.values())
    start = min(ms for ms, _ in times.values())
    points = _query(api, experiment_ids=[traced], view_type="TRACES", metric_name="trace_count",
                    aggregations=[{"aggregation_type": "COUNT"}], dimensions=["trace_status"],
                    time_interval_seconds=3600, start_time_ms=start - DAY_MS, end_time_ms=start + DAY_MS)
    assert {(p["dimensions"]["time_bucket"], p["dimensions"]["trace_status"]): p["values"]["COUNT"]
            for p in points} == {k: float(n) for k, n in expected.items()}
    assert sorted(expected.values()) in ([1, 2], [1, 1, 1])
    later = _query(api, experiment_ids=[traced], view_type="TRACES", metric_name="trace_count",
                   aggregations=[{"aggregation_type": "COUNT"}], start_time_ms=start + DAY_MS)
    assert later == []  # the time range applies
    ok_only = _query(api, experiment_ids=[traced], view_type="TRACES", metric_name="trace_count",
                     aggregations=[{"aggregation_type": "COUNT"}], filters=["trace.status = 'OK'"])
    assert [p["values"] for p in ok_only] == [{"COUNT": 2.0}]


def test_tokens_latency_costs_and_assessments(api, mlemu, traced):
    if not _client_sums_token_usage():
        pytest.skip("this mlflow (3.0) records no trace-level token usage (mlflow.trace.tokenUsage)")
    tokens = _query(api, experiment_ids=[traced], view_type="TRACES", metric_name="total_tokens",
                    aggregations=[{"aggregation_type": "SUM"}, {"aggregation_type": "AVG"},
                                  {"aggregation_type": "PERCENTILE", "percentile_value": 50}])
    assert tokens == [{"metric_name": "total_tokens", "dimensions": {},
                       "values": {"SUM": 30.0, "AVG": 15.0, "P50.0": 15.0}}]
    durations = sorted(t.execution_duration_ms for t in mlemu.tracing.traces([traced]))
    latency = _query(api, experiment_ids=[traced], view_type="TRACES", metric_name="latency",
                     aggregations=[{"aggregation_type": "MAX"}, {"aggregation_type": "MIN"}])
    assert latency[0]["values"] == {"MAX": float(durations[-1]), "MIN": float(durations[0])}
    cost = _query(api, experiment_ids=[traced], view_type="SPANS", metric_name="total_cost",
                  aggregations=[{"aggregation_type": "SUM"}], dimensions=["span_model_name"])
    assert cost == [{"metric_name": "total_cost", "dimensions": {"span_model_name": "gpt-x"},
                     "values": {"SUM": 1.5}}]
    spans = _query(api, experiment_ids=[traced], view_type="SPANS", metric_name="span_count",
                   aggregations=[{"aggregation_type": "COUNT"}], dimensions=["span_type"])
    assert {p["dimensions"]["span_type"]: p["values"]["COUNT"] for p in spans} == {"LLM": 2.0, "UNKNOWN": 3.0}
    feedback = _query(api, experiment_ids=[traced], view_type="ASSESSMENTS", metric_name="assessment_value",
                      aggregations=[{"aggregation_type": "AVG"}], dimensions=["assessment_name"])
    assert feedback == [{"metric_name": "assessment_value", "dimensions": {"assessment_name": "correct"},
                         "values": {"AVG": 1.0}}]


def test_mlflows_rest_store_reads_the_answer(traced):
    """The client's own parser (``RestStore.query_trace_metrics``) takes the answer."""
    pytest.importorskip("mlflow.entities.trace_metrics", reason="this mlflow has no trace metrics client "
                        "(RestStore.query_trace_metrics came after mlflow 3.8)")
    from mlflow.entities.trace_metrics import AggregationType, MetricAggregation, MetricViewType
    from mlflow.tracking._tracking_service.utils import _get_store

    points = _get_store().query_trace_metrics(
        experiment_ids=[traced], view_type=MetricViewType.TRACES, metric_name="trace_count",
        aggregations=[MetricAggregation(AggregationType.COUNT)], dimensions=["trace_name"])
    assert {p.dimensions["trace_name"]: p.values["COUNT"] for p in points} == {"answer": 2.0, "fail": 1.0}


@pytest.mark.parametrize("body,words", [
    ({"metric_name": "trace_count", "aggregations": [{"aggregation_type": "COUNT"}]}, "view_type"),
    ({"view_type": "TRACES", "metric_name": "nope", "aggregations": [{"aggregation_type": "COUNT"}]},
     "metric_name must be one of"),
    ({"view_type": "TRACES", "metric_name": "trace_count", "aggregations": [{"aggregation_type": "SUM"}]},
     "invalid aggregation_type"),
    ({"view_type": "TRACES", "metric_name": "trace_count", "aggregations": [{"aggregation_type": "COUNT"}],
      "dimensions": ["span_name"]}, "invalid dimension"),
    ({"view_type": "TRACES", "metric_name": "latency",
      "aggregations": [{"aggregation_type": "PERCENTILE", "percentile_value": 101}]}, "between 0 and 100"),
    ({"view_type": "TRACES", "metric_name": "trace_count", "aggregations": [{"aggregation_type": "COUNT"}],
      "time_interval_seconds": 60}, "start_time_ms and end_time_ms are required"),
    ({"view_type": "TRACES", "metric_name": "trace_count", "aggregations": [{"aggregation_type": "COUNT"}],
      "filters": ["span.name = 'x'"]}, "Invalid filter"),
])
def test_bad_queries_are_invalid_parameter_value(api, traced, body, words):
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue, match=words):
        api.do("POST", "/api/3.0/mlflow/traces/metrics", body={"experiment_ids": [traced], **body})
