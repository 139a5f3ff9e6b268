"""Tracing: traced functions and spans reach the workspace."""
import mlflow
import pytest


@mlflow.trace(span_type="TOOL")
def lookup(customer_id: int) -> dict:
    return {"customer_id": customer_id, "tier": "gold"}


@mlflow.trace(name="agent")
def answer(question: str) -> str:
    with mlflow.start_span("plan") as span:
        span.set_inputs({"question": question})
    return f"{lookup(7)['tier']}: {question}"


@pytest.mark.parametrize("question", ["status?", "tier?", "refund?", "hello"])
def test_traced_call_is_kept(mlemu, question):
    mlflow.set_experiment("/Shared/agent")
    assert answer(question).endswith(question)
    (trace,) = mlemu.traces()
    assert {s.name for s in trace.spans} >= {"agent", "plan", "lookup"}


def test_search_traces(mlemu):
    mlflow.set_experiment("/Shared/agent-search")
    for q in ("a", "b"):
        answer(q)
    assert len(mlflow.search_traces(return_type="list") if hasattr(mlflow, "search_traces") else []) == 2
