"""Model Serving's bounds (issue 17, defect 10): wide DataFrame requests are cast in bounded
chunks with mlflow's own answer, the documented 16 MB / 4 MB payload limits answer 413, and the
GET that deploys a new endpoint loads its model without holding the workspace lock."""
from __future__ import annotations

import json
import threading

import mlflow
import pytest
import requests

from mlemu.server.services.serving import predictor

WIDTH = 600  # > predictor.WIDE_SIGNATURE


class Sum(mlflow.pyfunc.PythonModel):
    """Sums its columns (module level: pickled by reference, loaded from this module)."""

    def predict(self, context, model_input, params=None):
        return model_input.sum(axis=1).tolist()


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """A loaded pyfunc model whose signature names ``WIDTH`` float columns, and a frame."""
    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow.models import infer_signature

    frame = pd.DataFrame(np.arange(3 * WIDTH, dtype=float).reshape(3, WIDTH),
                         columns=[f"c{i}" for i in range(WIDTH)])
    path = str(tmp_path_factory.mktemp("wide") / "m")
    mlflow.pyfunc.save_model(path, python_model=Sum(), signature=infer_signature(frame, [1.0] * 3))
    return mlflow.pyfunc.load_model(path), frame


def _widths_cast(monkeypatch) -> list[int]:
    """Record the width of every frame mlflow's cast step gets."""
    from mlflow.utils import proto_json_utils

    widths: list[int] = []
    original = proto_json_utils.cast_df_types_according_to_schema

    def spy(pdf, schema):
        widths.append(len(pdf.columns))
        return original(pdf, schema)
    monkeypatch.setattr(proto_json_utils, "cast_df_types_according_to_schema", spy)
    return widths


def _mlflows_answer(model, body: bytes) -> tuple[int, object]:
    from mlflow.exceptions import MlflowException
    from mlflow.pyfunc import scoring_server

    try:
        result = scoring_server.invocations(body, "application/json", model, model.metadata.get_input_schema())
    except MlflowException as e:
        return e.get_http_status_code(), {"error_code": e.error_code, "message": e.message}
    return result.status, json.loads(result.response)


@pytest.mark.parametrize("orient", ["split", "records"])
def test_a_wide_request_is_cast_in_bounded_chunks(monkeypatch, wide, orient):
    model, frame = wide
    key = {"split": "dataframe_split", "records": "dataframe_records"}[orient]
    body = json.dumps({key: frame.to_dict(orient)}).encode()
    widths = _widths_cast(monkeypatch)
    answer = predictor.predict(model, body, "application/json")
    assert answer.status == 200
    assert json.loads(answer.body) == {"predictions": frame.sum(axis=1).tolist()}
    # Each cast costs pandas time in the width of its frame: bounded chunks keep the whole linear.
    assert widths and max(widths) <= predictor.CAST_CHUNK
    assert sum(widths) == WIDTH


def test_a_wide_request_answers_exactly_what_mlflow_answers(wide):
    model, frame = wide
    good = json.dumps({"dataframe_split": frame.head(2).to_dict("split")}).encode()
    bad_frame = frame.head(2).astype(object)
    bad_frame.iloc[0, 400] = "not a number"
    bad = json.dumps({"dataframe_split": bad_frame.to_dict("split")}).encode()
    missing = json.dumps({"dataframe_split": frame.drop(columns=["c7"]).head(1).to_dict("split")}).encode()
    for body in (good, bad, missing, b"[1, 2]", b"{not json"):
        answer = predictor.predict(model, body, "application/json")
        status, expected = _mlflows_answer(model, body)
        assert (answer.status, json.loads(answer.body)) == (status, expected), body[:40]
    assert "c400" in json.loads(predictor.predict(model, bad, "application/json").body)["message"]


def test_narrow_models_take_mlflows_own_path(monkeypatch, wide):
    model, frame = wide
    monkeypatch.setattr(predictor, "WIDE_SIGNATURE", 10 ** 6)
    widths = _widths_cast(monkeypatch)
    body = json.dumps({"dataframe_split": frame.head(1).to_dict("split")}).encode()
    assert predictor.predict(model, body, "application/json").status == 200
    assert widths == [WIDTH]  # mlflow casts the whole signature at once


@pytest.fixture
def served(mlemu):
    import pandas as pd
    from mlflow.models import infer_signature

    sig = infer_signature(pd.DataFrame({"x": ["a"]}), [1.0])
    mlemu.registry.seed_model_version("main.default.summer", Sum(), signature=sig)
    mlemu.serving.seed_endpoint("summer", "main.default.summer")
    return "summer"


def _invoke(mlemu, name: str, body: bytes) -> requests.Response:
    return requests.post(f"{mlemu.host}/serving-endpoints/{name}/invocations", data=body,
                         headers={"Authorization": f"Bearer {mlemu.token}", "Content-Type": "application/json"})


def test_payload_over_16_mb_is_413_before_the_model_runs(mlemu, served):
    filler = "x" * (predictor.MAX_PAYLOAD_BYTES - 40)
    too_big = json.dumps({"dataframe_records": [{"x": filler + "y" * 64}]}).encode()
    assert len(too_big) > predictor.MAX_PAYLOAD_BYTES
    refused = _invoke(mlemu, served, too_big)
    assert refused.status_code == 413, refused.text[:200]
    assert refused.json()["error_code"] == "BAD_REQUEST"
    assert "16 MB" in refused.json()["message"]
    at_limit = json.dumps({"dataframe_records": [{"x": "a"}]}).encode()
    assert _invoke(mlemu, served, at_limit).status_code != 413
    assert not mlemu.internal_errors


def test_payload_over_4_mb_is_413_for_external_models(mlemu):
    from mlemu.server.core.errors import ApiError
    from mlemu.server.services.serving.config import ServedEntity
    from mlemu.server.services.serving.state import _check_payload

    external = ServedEntity("gpt", None, None, "me", 0, external_model={"name": "gpt-4o", "provider": "openai"})
    _check_payload(external, b"x" * predictor.MAX_PAYLOAD_BYTES_EXTERNAL)
    with pytest.raises(ApiError) as refused:
        _check_payload(external, b"x" * (predictor.MAX_PAYLOAD_BYTES_EXTERNAL + 1))
    assert refused.value.status == 413 and "4 MB" in refused.value.message


# -- loading outside the workspace lock ----------------------------------------------------

EVENTS: list[str] = []
LOADING = threading.Event()
RELEASE = threading.Event()
ARMED = threading.Event()  # saving a model may load it (mlflow 2): only the deployment blocks


class Slow(mlflow.pyfunc.PythonModel):
    """Loads until the test releases it, recording the order of events."""

    def load_context(self, context):
        if not ARMED.is_set():
            return
        EVENTS.append("load started")
        LOADING.set()
        RELEASE.wait(30)
        EVENTS.append("load finished")

    def predict(self, context, model_input, params=None):
        return [1.0] * len(model_input)


def test_the_first_get_loads_the_model_without_holding_the_workspace(mlemu, w):
    import pandas as pd
    from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput
    from mlflow.models import infer_signature

    EVENTS.clear(), LOADING.clear(), RELEASE.clear(), ARMED.clear()
    sig = infer_signature(pd.DataFrame({"x": [1.0]}), [1.0])
    mlemu.registry.seed_model_version("main.default.slow", Slow(), signature=sig)
    ARMED.set()
    w.serving_endpoints.create("slow", config=EndpointCoreConfigInput(name="slow", served_entities=[
        ServedEntityInput(entity_name="main.default.slow", entity_version="1", workload_size="Small",
                          scale_to_zero_enabled=True)]))
    first_get: dict[str, object] = {}
    deployer = threading.Thread(target=lambda: first_get.update(ep=w.serving_endpoints.get("slow")))
    deployer.start()
    try:
        assert LOADING.wait(30), "the first GET did not load the model"
        other = threading.Thread(target=lambda: (w.current_user.me(), EVENTS.append("other request answered")))
        other.start()
        other.join(20)
        EVENTS.append("model released")
    finally:
        RELEASE.set()
        deployer.join(30)
        ARMED.clear()
    assert EVENTS == ["load started", "other request answered", "model released", "load finished"]
    assert first_get["ep"].state.ready.value == "READY"
    assert w.serving_endpoints.get("slow").config.served_entities[0].state.deployment.value == "DEPLOYMENT_READY"
    assert not mlemu.internal_errors
