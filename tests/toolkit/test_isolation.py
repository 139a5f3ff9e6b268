"""Isolation across tests of one session, as a user's suite sees it (a separate pytest process):
what one test leaves in the clients' process state never reaches the next. Found on mlflow 3.5.1:
a serving test that exercises refusals, then a test that traces a function, lost the trace
("Failed to send trace to MLflow backend: Reading Databricks credential configuration failed")."""
from __future__ import annotations

import pytest

from mlemu.toolkit.client_versions import requires

pytest_plugins = ["pytester"]

# imported once here: pytester restores sys.modules after each test (numpy cannot load twice)
mlflow = pytest.importorskip("mlflow")

SERVING_THEN_TRACING = """
    import json
    import logging

    import mlflow
    import pytest
    import requests
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.serving import (EndpointCoreConfigInput, Route, ServedEntityInput,
                                                TrafficConfig)

    def test_serving_refusals(mlemu, make_registered_model, make_serving_endpoint):
        model = make_registered_model(versions=1)
        endpoint = make_serving_endpoint(model=model)
        w = WorkspaceClient()
        url = f"{mlemu.host}/serving-endpoints/{endpoint.name}/invocations"
        auth = {"Authorization": f"Bearer {mlemu.token}"}
        def entity(version):
            return ServedEntityInput(entity_name=model.name, entity_version=version,
                                     workload_size="Small", scale_to_zero_enabled=True)
        refusals = [
            lambda: w.serving_endpoints.create("missing-version", config=EndpointCoreConfigInput(
                name="missing-version", served_entities=[entity("99")])),
            lambda: w.serving_endpoints.create(endpoint.name, config=EndpointCoreConfigInput(
                name=endpoint.name, served_entities=[entity("1")])),
            lambda: w.serving_endpoints.create("bad-split", config=EndpointCoreConfigInput(
                name="bad-split", served_entities=[entity("1")],
                traffic_config=TrafficConfig(routes=[Route(served_model_name=f"{model.name.split('.')[-1]}-1",
                                                           traffic_percentage=60)]))),
            lambda: w.serving_endpoints.query("no-such-endpoint", dataframe_records=[{"x": 1.0}]),
        ]
        for refused in refusals:
            with pytest.raises(Exception):
                refused()
        assert requests.post(url, json={"dataframe_records": [{"x": 1.0}]},
                             headers={"Authorization": "Bearer dapi-wrong"}).status_code == 403
        assert requests.post(url, json={"dataframe_records": [{"nope": 1.0}]}, headers=auth).status_code == 400
        assert requests.post(url, data=b"{not json", headers={**auth, "Content-Type": "application/json"}
                             ).status_code == 400

    def test_tracing_after_serving(mlemu, caplog, monkeypatch):
        # as a suite's tracing tests do: export synchronously, read the trace back at once
        monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")
        caplog.set_level(logging.WARNING)
        mlflow.set_experiment("/Shared/traced")

        @mlflow.trace
        def add(a, b):
            return a + b

        assert add(1, 2) == 3
        assert [t.spans[0].name for t in mlemu.traces()] == ["add"]
        assert [r.getMessage() for r in caplog.records if "Failed to" in r.getMessage()] == []
"""


@requires("mlflow>=2.14", "mlflow.trace")
def test_a_trace_after_serving_refusals_reaches_its_workspace(pytester):
    pytester.makepyfile(test_user=SERVING_THEN_TRACING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist")
    result.assert_outcomes(passed=2)
