"""Traces kept in Unity Catalog through the real mlflow 3 client: set_experiment with a
UnityCatalog trace location (the /api/5.0 location and link calls), V4 trace infos, spans
over OTLP into the location's spans table (readable as a DataFrame), get_trace through
batchGet, search by UC location, tags and assessments on the V4 API."""
from __future__ import annotations

import pytest

from mlemu.toolkit.client_versions import requires

mlflow = pytest.importorskip("mlflow")
pytestmark = pytest.mark.skipif(not mlflow.__version__.startswith("3."),
                                reason="Unity Catalog trace storage is an mlflow 3 feature")
pytest.importorskip("opentelemetry.proto")
pytestmark = [pytestmark, requires("mlflow>=3.12", "set_experiment(trace_location=UnityCatalog(...)): mlflow 3.8.1 "
                                   "has no mlflow.entities.trace_location.UnityCatalog")]


@mlflow.trace(name="pipeline")
def _pipeline(q: str) -> str:
    with mlflow.start_span("child") as span:
        span.set_attribute("k", 1)
    return q[::-1]


@pytest.fixture
def uc_experiment(mlemu):
    from mlflow.entities.trace_location import UnityCatalog

    mlemu.unity_catalog.ensure_schema("main.genai")
    exp = mlflow.set_experiment(f"{mlemu.user.home}/genai-uc",
                                trace_location=UnityCatalog("main", "genai"))
    return exp


def _flush():
    """Spans reach a UC location over OTLP in batches: flush before reading them back."""
    mlflow.flush_trace_async_logging()


def test_uc_trace_round_trip(mlemu, uc_experiment):
    exp_id = uc_experiment.experiment_id
    location = f"main.genai.{exp_id}"
    tags = mlflow.get_experiment(exp_id).tags
    assert tags["mlflow.experiment.databricksTraceDestinationPath"] == location
    assert tags["mlflow.experiment.databricksTraceSpanStorageTable"] == f"{location}_otel_spans"

    assert _pipeline("abc") == "cba"
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id.startswith(f"trace:/{location}/")
    _flush()

    got = mlflow.get_trace(trace_id)
    assert got is not None
    assert sorted(s.name for s in got.data.spans) == ["child", "pipeline"]
    child = next(s for s in got.data.spans if s.name == "child")
    assert child.get_attribute("k") == 1
    assert got.info.tags["mlflow.traceName"] == "pipeline"

    spans = mlemu.unity_catalog.read_table(f"{location}_otel_spans")
    assert sorted(spans["name"]) == ["child", "pipeline"]
    assert set(spans["trace_id"]) == {trace_id.rsplit("/", 1)[-1]}

    (view,) = mlemu.traces()
    assert view.location == location and view.span("child").attributes["k"] == 1
    assert view.span("child").parent_id == view.span("pipeline").span_id
    assert view.span("pipeline").inputs == {"q": "abc"} and view.span("pipeline").outputs == "cba"

    found = mlflow.search_traces(locations=[location], return_type="list")
    assert [t.info.trace_id for t in found] == [trace_id]

    client = mlflow.MlflowClient()
    client.set_trace_tag(trace_id, "k", "v")
    assert mlemu.tracing_uc.get(location, trace_id.rsplit("/", 1)[-1]).tags["k"] == "v"
    client.delete_trace_tag(trace_id, "k")

    fb = mlflow.log_feedback(trace_id=trace_id, name="ok", value=True)
    assert fb.assessment_id.startswith("a-")
    updated = mlflow.update_assessment(trace_id, fb.assessment_id,
                                       mlflow.entities.Feedback(name="ok", value=False))
    assert updated.value is False
    assert mlflow.get_assessment(trace_id, fb.assessment_id).value is False
    mlflow.delete_assessment(trace_id, fb.assessment_id)
    assert not mlemu.tracing_uc.get(location, trace_id.rsplit("/", 1)[-1]).assessments


def test_otlp_export_over_the_loopback_server(mlemu, mlemu_server):
    from mlflow.entities.trace_location import UnityCatalog

    mlemu.unity_catalog.ensure_schema("main.genai")
    exp = mlflow.set_experiment(f"{mlemu.user.home}/genai-uc-net", trace_location=UnityCatalog("main", "genai"))
    _pipeline("net")
    _flush()
    exports = mlemu.calls.filter(operation="tracing_uc.otel.export-traces")
    assert exports and all(c.status == 200 for c in exports)
    spans = mlemu.unity_catalog.read_table(f"main.genai.{exp.experiment_id}_otel_spans")
    assert sorted(spans["name"]) == ["child", "pipeline"]
