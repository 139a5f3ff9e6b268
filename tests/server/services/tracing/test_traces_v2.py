"""The v2 trace API of mlflow 2.22 (server-assigned ids at StartTrace, EndTrace by PATCH,
info v2 plus the V3 info for assessments, search by experiment ids), through the real client."""
from __future__ import annotations

import pytest

from mlemu.toolkit.client_versions import satisfies

mlflow = pytest.importorskip("mlflow")
if not satisfies("mlflow>=2.14"):  # the decorators below run at import
    pytest.skip(f"tracing is mlflow 2.14's (2.13's preview is not emulated; 2.9-2.12 have none); "
                f"mlflow {mlflow.__version__} installed", allow_module_level=True)
from mlflow import MlflowClient  # noqa: E402

pytestmark = pytest.mark.skipif(not mlflow.__version__.startswith("2."),
                                reason="the v2 trace API is mlflow 2.22's (3.x: test_traces.py)")


@mlflow.trace(name="pipeline")
def _pipeline(q: str) -> str:
    with mlflow.start_span("inner") as span:
        span.set_inputs({"q": q})
        span.set_outputs(q[::-1])
    return q[::-1]


@mlflow.trace(name="failing")
def _failing() -> None:
    raise RuntimeError("boom")


def _last_trace_id() -> str:
    return mlflow.get_last_active_trace().info.request_id


def test_trace_flow_v2(mlemu, experiment_id):
    assert _pipeline("abc") == "cba"
    tid = _last_trace_id()
    got = mlflow.get_trace(tid)
    assert got.info.request_id == tid and got.info.experiment_id == experiment_id
    assert got.info.status == "OK" and got.info.execution_time_ms >= 0
    assert [s.name for s in got.data.spans] == ["pipeline", "inner"]
    root, inner = got.data.spans
    assert inner.parent_id == root.span_id and root.inputs == {"q": "abc"} and root.outputs == "cba"
    assert got.info.tags["mlflow.artifactLocation"].endswith(f"/{tid}/artifacts")
    mlemu.calls.assert_called("tracing.start-trace", times=1)
    mlemu.calls.assert_called("tracing.end-trace", times=1)


def test_error_trace_search_tags_and_delete_v2(mlemu, experiment_id):
    client = MlflowClient()
    with pytest.raises(RuntimeError):
        _failing()
    failed = _last_trace_id()
    assert mlflow.get_trace(failed).info.status == "ERROR"
    with mlflow.start_run() as run:
        _pipeline("in run")
    in_run = _last_trace_id()

    client.set_trace_tag(in_run, "session", "s1")
    found = client.search_traces([experiment_id], filter_string="tags.session = 's1'")
    assert [t.info.request_id for t in found] == [in_run]
    by_run = mlflow.search_traces(experiment_ids=[experiment_id], run_id=run.info.run_id)
    assert list(by_run["request_id"]) == [in_run]
    client.delete_trace_tag(in_run, "session")
    assert "session" not in mlflow.get_trace(in_run).info.tags

    page = client.search_traces([experiment_id], max_results=1)
    assert len(page) == 1 and page.token
    assert client.delete_traces(experiment_id, request_ids=[failed]) == 1
    assert [t.info.request_id for t in client.search_traces([experiment_id])] == [in_run]


def test_feedback_on_mlflow_2_22_uses_the_v2_assessment_path(mlemu, experiment_id):
    from mlflow.entities import AssessmentSource

    _pipeline("q")
    tid = _last_trace_id()
    fb = mlflow.log_feedback(trace_id=tid, name="ok", value=True,
                             source=AssessmentSource(source_type="HUMAN", source_id="ada"))
    assert fb.assessment_id.startswith("a-")
    (call,) = mlemu.calls.assert_called("tracing.create-assessment.v2", times=1)
    assert call.path == f"/api/2.0/mlflow/traces/{tid}/assessments"
    (kept,) = mlemu.tracing.get(tid).assessments.values()
    assert kept["assessment_name"] == "ok" and kept["feedback"] == {"value": True}
