"""``mlemu.traces()``: the test's traces with decoded spans and assessments, on both mlflow
generations (the span layout of traces.json differs)."""
from __future__ import annotations

import pytest

from mlemu.toolkit.client_versions import satisfies

mlflow = pytest.importorskip("mlflow")
if not satisfies("mlflow>=2.14"):  # the decorators below run at import
    pytest.skip(f"tracing is mlflow 2.14's (2.13's preview is not emulated; 2.9-2.12 have none); "
                f"mlflow {mlflow.__version__} installed", allow_module_level=True)


@mlflow.trace(name="answer")
def _answer(q: str) -> str:
    with mlflow.start_span("llm", span_type="LLM") as span:
        span.set_inputs({"prompt": q})
        span.set_outputs("hello")
    return "hello"


def test_traces_view_has_spans_and_assessments(mlemu, experiment_id):
    _answer("hi")
    _answer("again")
    first, second = mlemu.traces()
    assert first.experiment_id == experiment_id and first.name == "answer" and first.state == "OK"
    assert [s.name for s in first.spans] == ["answer", "llm"]
    root, llm = first.spans
    assert llm.parent_id == root.span_id and root.parent_id is None
    assert root.inputs == {"q": "hi"} and root.outputs == "hello"
    assert first.span("llm").span_type == "LLM" and first.span("llm").inputs == {"prompt": "hi"}
    assert second.span("answer").inputs == {"q": "again"}
    assert mlemu.traces(experiment_id) == mlemu.traces() and mlemu.traces("0") == []
    if mlflow.__version__.startswith("3."):
        mlflow.log_feedback(trace_id=first.trace_id, name="helpful", value=True)
        (a,) = mlemu.traces()[0].assessments
        assert a["assessment_name"] == "helpful" and a["feedback"]["value"] is True
