"""``mlflow.genai.evaluate`` with code scorers, end to end through the real mlflow 3 client:
the evaluation run, one trace per row (linked to the run), one assessment per scorer result
and expectation, and the ``<scorer>/mean`` metrics."""
from __future__ import annotations

import pytest

from mlemu.toolkit.client_versions import requires, satisfies

mlflow = pytest.importorskip("mlflow")
pytestmark = pytest.mark.skipif(not mlflow.__version__.startswith("3."),
                                reason="mlflow.genai.evaluate is an mlflow 3 API")
pytest.importorskip("pandas")
# mlflow 3.0-3.5 run genai.evaluate against a Databricks tracking URI through databricks-agents
# (_evaluate_dbx), Databricks' proprietary package, which mlemu never installs or imports.
pytestmark = [pytestmark, requires("mlflow>=3.8", "mlflow.genai.evaluate on Databricks needs databricks-agents "
                                   "before 3.8, a proprietary package")]

DATA = [
    {"inputs": {"question": "2+2"}, "expectations": {"expected_response": "4"}},
    {"inputs": {"question": "3+3"}, "expectations": {"expected_response": "6"}},
    {"inputs": {"question": "capital of France"}, "expectations": {"expected_response": "Paris"}},
]


def _app(question: str) -> str:
    return {"2+2": "4", "3+3": "7"}.get(question, "Paris")


def test_evaluate_with_two_code_scorers(mlemu, experiment_id):
    from mlflow.genai.scorers import scorer

    @scorer
    def exact_match(outputs, expectations) -> bool:
        return outputs == expectations["expected_response"]

    @scorer
    def short_answer(outputs) -> float:
        return 1.0 if len(outputs) <= 2 else 0.0

    result = mlflow.genai.evaluate(data=DATA, predict_fn=_app, scorers=[exact_match, short_answer])

    assert result.metrics["exact_match/mean"] == pytest.approx(2 / 3)
    assert result.metrics["short_answer/mean"] == pytest.approx(2 / 3)
    run = mlflow.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["exact_match/mean"] == pytest.approx(2 / 3)
    if satisfies("mlflow>=3.17"):  # the client tags its evaluation runs (3.8.1 and 3.12.0 do not)
        assert run.data.tags["mlflow.runType"] == "genai_evaluate"

    traces = mlflow.search_traces(run_id=result.run_id, return_type="list")
    assert len(traces) == 3
    for t in traces:
        names = sorted(a.name for a in t.info.assessments)
        assert names == ["exact_match", "expected_response", "short_answer"]
        scored = {a.name: a for a in t.info.assessments}
        assert scored["exact_match"].source.source_type == "CODE"
        assert scored["expected_response"].source.source_type == "HUMAN"
        assert t.data.spans, "each row's trace keeps its spans"
    by_question = {t.data.spans[0].inputs["question"]: t for t in traces}
    wrong = {a.name: a.value for a in by_question["3+3"].info.assessments}
    assert wrong["exact_match"] is False
    assert all(run_id == result.run_id for t in traces for run_id in mlemu.tracing.get(t.info.trace_id).run_ids)
    mlemu.calls.assert_called("tracing.link-to-run")
    mlemu.calls.assert_called("tracing.agents.evaluation-client-usage-events")


def test_evaluate_reaches_only_emulated_endpoints(mlemu, experiment_id):
    from mlflow.genai.scorers import scorer

    @scorer
    def non_empty(outputs) -> bool:
        return bool(outputs)

    mlflow.genai.evaluate(data=DATA[:1], predict_fn=_app, scorers=[non_empty])
    assert [c.path for c in mlemu.calls if c.error_code == "ENDPOINT_NOT_FOUND"] == []
    # The V4 search refuses experiment locations, as the workspace does; the client falls back to V3.
    # (mlflow 3.8 asks the synchronous /api/4.0/mlflow/traces/search, later ones search-long-running)
    (v4,) = mlemu.calls.filter(operation="tracing_uc.search*")
    assert v4.status == 400 and "not yet supported" in v4.response["message"]
    mlemu.calls.assert_called("tracing.search-traces-v3")
