"""Assessments (feedback and expectations) through the real mlflow 3 client: logged with
server-assigned ids, read back embedded in the trace, updated (camelCase update_mask),
overridden (the replaced one becomes invalid) and deleted."""
from __future__ import annotations

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow.exceptions import MlflowException  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(mlflow, "override_feedback"),
                                reason="mlflow.get_assessment / override_feedback came after mlflow 3.0 "
                                       "(3.5.1 has them); mlflow 2 has no assessments")


@pytest.fixture
def trace_id(mlemu, experiment_id) -> str:
    with mlflow.start_span("answer") as span:
        span.set_inputs({"q": "2+2"})
        span.set_outputs("4")
    return span.trace_id


def test_feedback_and_expectation_logged_and_embedded_in_the_trace(mlemu, trace_id):
    from mlflow.entities import AssessmentSource

    fb = mlflow.log_feedback(trace_id=trace_id, name="correct", value=True, rationale="it is 4",
                             source=AssessmentSource(source_type="HUMAN", source_id="ada"),
                             metadata={"round": "1"})
    ex = mlflow.log_expectation(trace_id=trace_id, name="expected", value={"answer": "4"})
    assert fb.assessment_id.startswith("a-") and len(fb.assessment_id) == 34
    assert ex.assessment_id.startswith("a-") and ex.assessment_id != fb.assessment_id

    got = mlflow.get_assessment(trace_id, fb.assessment_id)
    assert got.name == "correct" and got.value is True and got.rationale == "it is 4"
    assert got.source.source_type == "HUMAN" and got.source.source_id == "ada"
    assert got.metadata == {"round": "1"} and got.valid is True
    assert got.create_time_ms == fb.create_time_ms

    info = mlflow.get_trace(trace_id).info
    by_name = {a.name: a for a in info.assessments}
    assert set(by_name) == {"correct", "expected"}
    assert by_name["expected"].value == {"answer": "4"}
    assert mlemu.calls.operations().count("tracing.create-assessment") == 2


def test_update_uses_the_camel_case_mask(mlemu, trace_id):
    from mlflow.entities import Feedback

    fb = mlflow.log_feedback(trace_id=trace_id, name="score", value=0.5, rationale="meh")
    updated = mlflow.update_assessment(trace_id, fb.assessment_id,
                                       Feedback(name="score", value=0.9, rationale="better"))
    assert updated.value == 0.9 and updated.rationale == "better"
    assert updated.last_update_time_ms >= fb.last_update_time_ms
    call = mlemu.calls.assert_called("tracing.update-assessment", times=1)[0]
    assert "feedback" in call.request["update_mask"] and "," in call.request["update_mask"]
    assert mlflow.get_assessment(trace_id, fb.assessment_id).value == 0.9


def test_override_marks_the_replaced_feedback_invalid_and_delete_restores_it(mlemu, trace_id):
    fb = mlflow.log_feedback(trace_id=trace_id, name="tone", value="rude")
    new = mlflow.override_feedback(trace_id=trace_id, assessment_id=fb.assessment_id, value="polite",
                                   rationale="re-read it")
    assert new.overrides == fb.assessment_id and new.valid is True
    assert mlflow.get_assessment(trace_id, fb.assessment_id).valid is False
    valid = [a.value for a in mlflow.get_trace(trace_id).info.assessments if a.valid]
    assert valid == ["polite"]

    mlflow.delete_assessment(trace_id, new.assessment_id)
    with pytest.raises(MlflowException) as e:
        mlflow.get_assessment(trace_id, new.assessment_id)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert mlflow.get_assessment(trace_id, fb.assessment_id).valid is True


def test_assessment_on_an_unknown_trace_is_not_found(mlemu, experiment_id):
    with pytest.raises(MlflowException) as e:
        mlflow.log_feedback(trace_id="tr-" + "1" * 32, name="x", value=1)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_expectation_updated_and_deleted(mlemu, trace_id):
    from mlflow.entities import Expectation

    ex = mlflow.log_expectation(trace_id=trace_id, name="answer", value="4")
    updated = mlflow.update_assessment(trace_id, ex.assessment_id, Expectation(name="answer", value="four"))
    assert updated.value == "four" and updated.expectation is not None
    mlflow.delete_assessment(trace_id, ex.assessment_id)
    assert mlflow.get_trace(trace_id).info.assessments == []


def test_update_mask_naming_an_unknown_field_is_refused(mlemu, trace_id):
    fb = mlflow.log_feedback(trace_id=trace_id, name="n", value=1)
    status, _, body = mlemu.handle(
        "PATCH", f"/api/3.0/mlflow/traces/{trace_id}/assessments/{fb.assessment_id}",
        headers={"Authorization": f"Bearer {mlemu.token}"},
        body=b'{"assessment": {"source": {"source_type": "CODE"}}, "update_mask": "source"}')
    assert status == 400 and b"INVALID_PARAMETER_VALUE" in body
