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


ARTIFACTS_THEN_DBFS_LOCATION = """
    import mlflow

    def test_run_artifact_in_the_default_location(mlemu):
        mlflow.set_experiment("/Shared/first")
        with mlflow.start_run() as run:
            mlflow.log_text("a", "a.txt")
        pytest_run_ids.append(run.info.run_id)

    def test_run_artifact_in_a_dbfs_location(mlemu):
        experiment = mlflow.create_experiment("/Shared/second", artifact_location="dbfs:/team/artifacts")
        mlflow.set_experiment(experiment_id=experiment)
        with mlflow.start_run() as run:
            mlflow.log_text("b", "b.txt")
        assert run.info.run_id == pytest_run_ids[0]  # seeded ids: the same run id as the first test's
        mlemu.calls.assert_called("dbfs.raw.upload")
        assert [f.path for f in mlemu.storage.walk_files("dbfs", "/team/artifacts")] == [
            f"/team/artifacts/{run.info.run_id}/artifacts/b.txt"]

    pytest_run_ids = []
"""


def test_a_run_id_seen_in_an_earlier_test_gets_its_own_artifact_location(pytester):
    """mlflow caches a run's artifact repository by run id (mlflow 2.9: on the tracking client
    class); seeded workspaces repeat run ids, so the second test wrote through the first test's
    repository (the credentials API) instead of its experiment's DBFS location."""
    pytester.makepyfile(test_user=ARTIFACTS_THEN_DBFS_LOCATION)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist")
    result.assert_outcomes(passed=2)
