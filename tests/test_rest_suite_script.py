"""scripts/rest_suite.py's adapter maps what a Databricks user would send (absolute experiment
names, no OSS prompt filter) and maps answers back, so mlflow's own REST tests can judge mlemu."""
from __future__ import annotations

import importlib.util
import json
import pathlib

from mlemu import Workspace

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "rest_suite.py"
spec = importlib.util.spec_from_file_location("rest_suite", SCRIPT)
rest_suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rest_suite)


def _call(ws: Workspace, method: str, path: str, query: str = "", body: dict | None = None) -> tuple[int, dict]:
    status, _, out = ws.handle(method, path, query, {"authorization": f"Bearer {ws.token}",
                                                     "content-type": "application/json"},
                               json.dumps(body).encode() if body is not None else b"")
    return status, json.loads(out or b"{}")


def test_relative_experiment_names_round_trip_through_the_adapter() -> None:
    ws = Workspace()
    rest_suite._wrap(ws)
    status, created = _call(ws, "POST", "/api/2.0/mlflow/experiments/create", body={"name": "My Experiment"})
    assert status == 200, created
    status, got = _call(ws, "GET", "/api/2.0/mlflow/experiments/get-by-name", "experiment_name=My+Experiment")
    assert status == 200, got
    assert got["experiment"]["name"] == "My Experiment"
    assert got["experiment"]["experiment_id"] == created["experiment_id"]
    # stored under the absolute path a Databricks workspace requires
    assert ws.tracking.get_experiment(created["experiment_id"]).name == rest_suite.PREFIX + "My Experiment"


def test_the_oss_prompt_clause_is_dropped_and_other_filters_kept() -> None:
    clause = rest_suite.PROMPT_CLAUSE
    assert rest_suite._drop_prompt_clause(clause) == ""
    assert rest_suite._drop_prompt_clause(f"name LIKE 'a%' AND {clause}") == "name LIKE 'a%'"


def test_families_put_oss_only_features_apart() -> None:
    assert rest_suite.family("tests/tracking/test_rest_tracking.py::test_workspace_x[sqlalchemy]") == "oss:workspace-mode"
    assert rest_suite.family("tests/tracking/test_model_registry.py::test_create_and_query_registered_model_flow[sqlalchemy]") == "registry"
    assert rest_suite.family("tests/tracking/test_rest_tracking.py::test_log_batch[sqlalchemy]") == "tracking"


def test_outcomes_are_recorded_and_written_as_the_run_goes(tmp_path, monkeypatch) -> None:
    from types import SimpleNamespace as Report
    out = tmp_path / "outcomes.json"
    monkeypatch.setenv("REST_SUITE_OUT", str(out))
    monkeypatch.setattr(rest_suite, "_RESULTS", {})
    for nodeid, when, outcome in [("t::ok", "setup", "passed"), ("t::ok", "call", "passed"),
                                  ("t::ok", "teardown", "passed"), ("t::bad", "setup", "passed"),
                                  ("t::bad", "call", "failed"), ("t::skip", "setup", "skipped"),
                                  ("t::err", "call", "passed"), ("t::err", "teardown", "failed")]:
        rest_suite.pytest_runtest_logreport(Report(nodeid=nodeid, when=when, outcome=outcome))
    # written without waiting for the session's end
    assert json.loads(out.read_text()) == {"t::ok": "passed", "t::bad": "failed",
                                           "t::skip": "skipped", "t::err": "failed"}


def test_families_match_whole_words() -> None:
    fam = rest_suite.family
    assert fam("t.py::test_client_logs_a_run[sqlalchemy]") == "tracking"  # "cli" is not in "client"
    assert fam("t.py::test_rename_experiment_cli[sqlalchemy]") == "oss:server-internals"
    assert fam("t.py::test_list_logged_model_artifacts[sqlalchemy]") == "oss:server-artifacts"
    assert fam("t.py::test_search_dataset_handler_rejects_invalid_requests[sqlalchemy]") == "ui-handlers"
    assert fam("t.py::test_set_delete_registered_model_alias_and_get_model_version_by_alias_flow") == "registry"
    assert fam("t.py::test_assessments_end_to_end[sqlalchemy]") == "tracing"


def test_the_mlemu_server_answers_ui_paths_and_gives_the_client_its_host_and_token(monkeypatch) -> None:
    import os
    import urllib.error
    import urllib.request
    for k in ("MLFLOW_TRACKING_TOKEN", "DATABRICKS_HOST", "DATABRICKS_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    server = rest_suite.MlemuServer()
    with server as url:
        assert os.environ["DATABRICKS_HOST"] == url
        assert os.environ["DATABRICKS_TOKEN"] == os.environ["MLFLOW_TRACKING_TOKEN"] == server.workspace.token
        req = urllib.request.Request(f"{url}/ajax-api/2.0/mlflow/metrics/get-history?run_id=r&metric_key=m",
                                     headers={"Authorization": f"Bearer {server.workspace.token}"})
        try:
            urllib.request.urlopen(req)
        except urllib.error.HTTPError as e:  # routed (the run is unknown), not ENDPOINT_NOT_FOUND
            assert json.loads(e.read())["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "DATABRICKS_HOST" not in os.environ


def test_the_tracking_servers_evaluation_datasets_are_an_oss_only_family() -> None:
    fam = rest_suite.family
    assert fam("t.py::test_create_and_get_evaluation_dataset[sqlalchemy]") == "oss:evaluation-datasets"
    assert fam("t.py::test_client_api_add_remove_experiments_rest_tracking[sqlalchemy]") == "oss:evaluation-datasets"
    assert fam("t.py::test_search_datasets_graphql[sqlalchemy]") == "ui-handlers"  # a run's input datasets
