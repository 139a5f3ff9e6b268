"""Traces stored in the experiment, through the real mlflow 3 client: export at the end of the
root span (StartTraceV3 + span data through a pre-signed URL), read back with get_trace and
search_traces, tags, deletion, and the fallbacks the client takes on this workspace."""
from __future__ import annotations

import pytest

from mlemu.toolkit.client_versions import satisfies

mlflow = pytest.importorskip("mlflow")
if not satisfies("mlflow>=2.14"):  # the decorators below run at import
    pytest.skip(f"tracing is mlflow 2.14's (2.13's preview is not emulated; 2.9-2.12 have none); "
                f"mlflow {mlflow.__version__} installed", allow_module_level=True)
from mlflow import MlflowClient  # noqa: E402

MLFLOW3 = mlflow.__version__.startswith("3.")
pytestmark = pytest.mark.skipif(not MLFLOW3, reason="the V3 trace API is mlflow 3's (2.22: test_traces_v2.py)")


def _in(experiment_id: str) -> dict:
    """search_traces' experiment argument: ``locations`` (mlflow >= 3.5 at the latest) or
    ``experiment_ids`` (3.0)."""
    import inspect

    if "locations" in inspect.signature(MlflowClient.search_traces).parameters:
        return {"locations": [experiment_id]}
    return {"experiment_ids": [experiment_id]}


@mlflow.trace(span_type="TOOL")
def _reverse(text: str) -> str:
    return text[::-1]


@mlflow.trace(name="pipeline")
def _pipeline(q: str) -> str:
    with mlflow.start_span("inner") as span:
        span.set_inputs({"q": q})
        out = _reverse(q)
        span.set_outputs(out)
    return out


@mlflow.trace(name="failing")
def _failing(x: int) -> int:
    raise ValueError(f"bad input {x}")


def _spans(trace):
    return [(s.name, s.span_type, s.parent_id, s.inputs, s.outputs, s.status.status_code)
            for s in trace.data.spans]


def test_traced_function_is_read_back_with_identical_spans(mlemu, experiment_id):
    assert _pipeline("abc") == "cba"
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id.startswith("tr-")
    got = mlflow.get_trace(trace_id)
    assert got is not None
    assert got.info.trace_id == trace_id and got.info.experiment_id == experiment_id
    assert got.info.state == "OK" and got.info.execution_duration >= 0
    assert got.info.tags["mlflow.traceName"] == "pipeline"
    assert got.info.tags["mlflow.artifactLocation"] == (
        f"dbfs:/databricks/mlflow-tracking/{experiment_id}/{trace_id}/artifacts")
    names = [s.name for s in got.data.spans]
    assert names == ["pipeline", "inner", "_reverse"]
    root, inner, leaf = got.data.spans
    assert root.parent_id is None and inner.parent_id == root.span_id and leaf.parent_id == inner.span_id
    assert root.inputs == {"q": "abc"} and root.outputs == "cba"
    assert leaf.span_type == "TOOL" and leaf.inputs == {"text": "abc"}
    assert got.data.request is not None and "abc" in got.data.request
    # The spans the client kept in memory and those it read back are the same.
    local = mlflow.get_trace(trace_id)
    assert _spans(local) == _spans(got)
    ops = mlemu.calls.operations()
    assert "tracing.start-trace-v3" in ops and "tracing.credentials-for-data-upload" in ops
    assert "files.presigned.put" in ops


def test_exception_in_a_traced_function_is_an_error_trace(mlemu, experiment_id):
    with pytest.raises(ValueError):
        _failing(3)
    trace = mlflow.get_trace(mlflow.get_last_active_trace_id())
    assert trace.info.state == "ERROR"
    (span,) = trace.data.spans
    assert span.status.status_code == "ERROR"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "bad input 3"


def test_get_trace_of_an_unknown_id_is_none_with_a_warning(mlemu, experiment_id):
    assert mlflow.get_trace("tr-" + "0" * 32) is None


def test_search_traces_by_run_tag_and_time_with_paging(mlemu, experiment_id):
    client = MlflowClient()
    ids = []
    for i in range(5):
        with mlflow.start_span(f"call-{i}") as span:
            span.set_inputs({"i": i})
        ids.append(span.trace_id)
        client.set_trace_tag(span.trace_id, "session", "even" if i % 2 == 0 else "odd")
    with mlflow.start_run() as run:
        _pipeline("in run")
        in_run = mlflow.get_last_active_trace_id()

    by_run = mlflow.search_traces(run_id=run.info.run_id, return_type="list")
    assert [t.info.trace_id for t in by_run] == [in_run]
    assert by_run[0].data.spans[0].name == "pipeline"
    # MlflowClient.search_traces(run_id=...) (the coverage sweep's call)
    assert [t.info.trace_id for t in client.search_traces(**_in(experiment_id), run_id=run.info.run_id)] \
        == [in_run]

    even = mlflow.search_traces(filter_string="tags.session = 'even'", return_type="list",
                                order_by=["timestamp_ms ASC"])
    assert [t.info.trace_id for t in even] == [ids[0], ids[2], ids[4]]

    # Request times are the client's clock: derive the expected order from them.
    infos = {t.info.trace_id: t.info for t in mlflow.search_traces(return_type="list")}
    newest_first = sorted(infos, key=lambda i: (-infos[i].request_time, i))
    cut = infos[ids[2]].request_time
    late = mlflow.search_traces(filter_string=f"attribute.timestamp_ms > {cut}", return_type="list")
    assert [t.info.trace_id for t in late] == [i for i in newest_first if infos[i].request_time > cut]
    assert ids[4] in [t.info.trace_id for t in late] and ids[0] not in [t.info.trace_id for t in late]

    page1 = client.search_traces(**_in(experiment_id), max_results=2, include_spans=False)
    page2 = client.search_traces(**_in(experiment_id), max_results=2, page_token=page1.token,
                                 include_spans=False)
    page3 = client.search_traces(**_in(experiment_id), max_results=2, page_token=page2.token,
                                 include_spans=False)
    seen = [t.info.trace_id for t in page1 + page2 + page3]
    assert seen == newest_first and len(seen) == 6 and page3.token is None

    df = mlflow.search_traces(filter_string="metadata.`mlflow.sourceRun` IS NULL")
    assert len(df) == 5


def test_bad_filter_is_invalid_parameter_value(mlemu, experiment_id):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="Invalid") as e:
        mlflow.search_traces(filter_string="foo.bar = 'x'")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_trace_tags_set_and_deleted(mlemu, experiment_id):
    client = MlflowClient()
    with mlflow.start_span("s") as span:
        pass
    client.set_trace_tag(span.trace_id, "k", "v")
    assert mlflow.get_trace(span.trace_id).info.tags["k"] == "v"
    client.delete_trace_tag(span.trace_id, "k")
    assert "k" not in mlflow.get_trace(span.trace_id).info.tags


def test_delete_traces_by_ids_and_by_time(mlemu, experiment_id):
    client = MlflowClient()
    ids = []
    for i in range(4):
        with mlflow.start_span(f"s{i}") as span:
            pass
        ids.append(span.trace_id)
    assert client.delete_traces(experiment_id, trace_ids=[ids[0], "tr-" + "f" * 32]) == 1
    # By time: everything up to the second trace's start (request times are the client's).
    cut = mlflow.get_trace(ids[1]).info.request_time
    older = [i for i in ids[1:] if mlflow.get_trace(i).info.request_time <= cut]
    assert client.delete_traces(experiment_id, max_timestamp_millis=cut, max_traces=10) == len(older)
    left = {t.info.trace_id for t in client.search_traces(**_in(experiment_id))}
    assert left == set(ids[1:]) - set(older) and ids[3] in left
    assert mlflow.get_trace(ids[0]) is None


def test_trace_inside_a_run_matches_its_run_id(mlemu, experiment_id):
    with mlflow.start_run() as run:
        _pipeline("x")
    trace = mlflow.get_trace(mlflow.get_last_active_trace_id())
    assert trace.info.request_metadata["mlflow.sourceRun"] == run.info.run_id
    view = mlemu.tracing.get(trace.info.trace_id)
    assert view.run_ids == [run.info.run_id]


def test_traces_over_the_loopback_server(mlemu, mlemu_server):
    """The same flow through `mlemu serve` (real sockets, pre-signed URLs on the server's host)."""
    mlflow.set_experiment(f"{mlemu.user.home}/loopback")
    _pipeline("net")
    got = mlflow.get_trace(mlflow.get_last_active_trace_id())
    assert [s.name for s in got.data.spans] == ["pipeline", "inner", "_reverse"]
    upload = mlemu.calls.assert_called("tracing.credentials-for-data-upload", times=1)[0]
    assert upload.response["credential_info"]["signed_uri"].startswith(mlemu_server.url)


@pytest.mark.drops_traces
def test_a_dropped_trace_is_detected(mlemu, experiment_id, dropped_trace_messages):
    """The autouse check catches what mlflow only logs: here the experiment is deleted while
    the trace runs, so the workspace refuses StartTraceV3 and the trace is lost."""
    with mlflow.start_span("doomed"):
        MlflowClient().delete_experiment(experiment_id)
    assert dropped_trace_messages()
    assert mlemu.calls.filter(operation="tracing.start-trace-v3")[-1].error_code == "INVALID_PARAMETER_VALUE"
