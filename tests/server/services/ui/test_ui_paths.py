"""The paths only the MLflow UI calls, as the UI's bundle sends them (the browser smoke test
in tests/server/ui drives the real UI; these pin the answers' shapes and the rules)."""
from __future__ import annotations

import json

import pytest
import requests

from tests.server.ui.seed import seeded_workspace

#: The run page's query, verbatim from mlflow 3.17.2's bundle (3254.9017d695.chunk.js).
GET_RUN = """
  query GetRun($data: MlflowGetRunInput!) @component(name: "MLflow.ExperimentRunTracking") {
    mlflowGetRun(input: $data) {
      apiError { helpUrl code message }
      run {
        info { runName status runUuid experimentId artifactUri endTime lifecycleStage startTime userId }
        experiment { experimentId name tags { key value } artifactLocation lifecycleStage lastUpdateTime }
        modelVersions { status version name source }
        data { metrics { key value step timestamp } params { key value } tags { key value } }
        inputs { datasetInputs { dataset { digest name profile schema source sourceType } tags { key value } }
                 modelInputs { modelId } }
        outputs { modelOutputs { modelId step } }
      }
    }
  }
"""

GET_EXPERIMENT = """
  query MlflowGetExperimentQuery($input: MlflowGetExperimentInput!) @component(name: "MLflow.ExperimentRunTracking") {
    mlflowGetExperiment(input: $input) {
      apiError { code message }
      experiment { artifactLocation creationTime effectiveTraceArchivalRetention experimentId
                   lastUpdateTime lifecycleStage name tags { key value } }
    }
  }
"""


@pytest.fixture(scope="module")
def ui(trained_model):  # type: ignore[no-untyped-def]
    pytest.importorskip("graphql")
    from mlemu.server.ui.bundle import UiUnavailable
    from mlemu.server.ui.server import serve

    ws, seeded = seeded_workspace(trained_model)
    try:
        server = serve(ws, ui=True)
    except UiUnavailable as e:
        pytest.skip(str(e))
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ws.token}"
    yield server, session, seeded
    server.stop()


def _graphql(ui, query: str, operation: str, variables: dict) -> dict:  # type: ignore[no-untyped-def]
    server, session, _ = ui
    r = session.post(f"{server.url}/graphql", json={"operationName": operation, "variables": variables,
                                                   "query": query})
    assert r.status_code == 200, r.text
    return r.json()


def test_graphql_get_run_answers_exactly_the_selected_fields(ui):
    seeded = ui[2]
    body = _graphql(ui, GET_RUN, "GetRun", {"data": {"runId": seeded.run_id}})
    assert body["errors"] is None
    run = body["data"]["mlflowGetRun"]["run"]
    assert body["data"]["mlflowGetRun"]["apiError"] is None
    assert set(run) == {"info", "experiment", "modelVersions", "data", "inputs", "outputs"}
    info = run["info"]
    assert info["runUuid"] == seeded.run_id and info["runName"] == "tuned" and info["status"] == "FINISHED"
    assert isinstance(info["startTime"], str) and info["startTime"].isdigit()  # 64-bit ints as strings
    assert set(info) == {"runName", "status", "runUuid", "experimentId", "artifactUri", "endTime",
                         "lifecycleStage", "startTime", "userId"}
    metrics = {m["key"]: m for m in run["data"]["metrics"]}
    assert metrics["accuracy"]["value"] == 0.83 and metrics["accuracy"]["step"] == "3"
    assert {p["key"]: p["value"] for p in run["data"]["params"]} == {"C": "1.0", "solver": "lbfgs"}
    assert run["experiment"]["name"] == "/Shared/ui-demo"
    registered = {(v["name"], v["version"]) for v in run["modelVersions"]}
    assert registered == {(seeded.uc_model, "1"), (seeded.ws_model, "1")}
    if seeded.model_id:
        assert run["outputs"]["modelOutputs"] == [{"modelId": seeded.model_id, "step": "0"}]


def test_graphql_unknown_run_is_an_api_error_in_the_answer(ui):
    body = _graphql(ui, GET_RUN, "GetRun", {"data": {"runId": "0" * 32}})
    answer = body["data"]["mlflowGetRun"]
    assert answer["run"] is None
    assert answer["apiError"]["code"] == "RESOURCE_DOES_NOT_EXIST"


def test_graphql_get_experiment_and_fields_mlemu_does_not_know(ui):
    seeded = ui[2]
    body = _graphql(ui, GET_EXPERIMENT, "MlflowGetExperimentQuery",
                    {"input": {"experimentId": seeded.experiment_id}})
    exp = body["data"]["mlflowGetExperiment"]["experiment"]
    assert exp["experimentId"] == seeded.experiment_id and exp["name"] == "/Shared/ui-demo"
    assert exp["effectiveTraceArchivalRetention"] is None  # selected, unknown: null, not an error
    assert exp["creationTime"].isdigit()


def test_graphql_unknown_root_field_and_bad_syntax(ui):
    body = _graphql(ui, "query Q { mlflowSomethingNew { x } }", "Q", {})
    assert body["data"] == {"mlflowSomethingNew": None}
    assert "mlflowSomethingNew" in body["errors"][0]["message"]
    body = _graphql(ui, "query Q {", "Q", {})
    assert body["data"] is None and "Syntax Error" in body["errors"][0]["message"]


def test_get_artifact_sends_an_attachment(ui):
    server, session, seeded = ui
    r = session.get(f"{server.url}/get-artifact", params={"path": "reports/summary.txt", "run_uuid": seeded.run_id})
    assert r.status_code == 200 and r.content == b"precision 0.81\nrecall 0.77\n"
    assert r.headers["content-type"] == "text/plain"
    assert r.headers["content-disposition"] == 'attachment; filename="summary.txt"'
    assert r.headers["x-content-type-options"] == "nosniff"
    png = session.get(f"{server.url}/get-artifact", params={"path": "plots/confusion.png", "run_id": seeded.run_id})
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    missing = session.get(f"{server.url}/get-artifact", params={"path": "nope.txt", "run_id": seeded.run_id})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    escape = session.get(f"{server.url}/get-artifact", params={"path": "../../x", "run_id": seeded.run_id})
    assert escape.status_code == 400 and escape.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_trace_span_data_for_the_trace_view(ui):
    """The trace view downloads the span data mlflow uploaded (``get-trace-artifact``)."""
    import json

    import mlflow

    if int(mlflow.__version__.split(".")[0]) < 3:
        pytest.skip("the seed logs a trace with mlflow 3 only")
    server, session, seeded = ui
    found = session.post(f"{server.url}/ajax-api/3.0/mlflow/traces/search",
                         json={"locations": [{"type": "MLFLOW_EXPERIMENT",
                                              "mlflow_experiment": {"experiment_id": seeded.experiment_id}}]})
    assert found.status_code == 200, found.text
    trace_id = found.json()["traces"][0]["trace_id"]
    r = session.get(f"{server.url}/ajax-api/3.0/mlflow/get-trace-artifact", params={"request_id": trace_id})
    assert r.status_code == 200
    assert {s["name"] for s in json.loads(r.content)["spans"]} == {"answer_question", "retrieve"}
    assert session.get(f"{server.url}/ajax-api/3.0/mlflow/get-trace-artifact").status_code == 400
    missing = session.get(f"{server.url}/ajax-api/3.0/mlflow/get-trace-artifact",
                          params={"request_id": "tr-" + "0" * 32})
    assert missing.status_code == 404


def test_model_version_and_logged_model_files(ui):
    server, session, seeded = ui
    for name in (seeded.uc_model, seeded.ws_model):
        r = session.get(f"{server.url}/model-versions/get-artifact",
                        params={"name": name, "version": "1", "path": "MLmodel"})
        assert r.status_code == 200 and b"flavors:" in r.content, name
    if seeded.model_id:
        r = session.get(f"{server.url}/ajax-api/2.0/mlflow/logged-models/{seeded.model_id}/artifacts/files",
                        params={"artifact_file_path": "MLmodel"})
        assert r.status_code == 200 and b"sklearn" in r.content


def test_registry_view_shows_both_registries_with_latest_versions_and_aliases(ui):
    server, session, seeded = ui
    r = session.get(f"{server.url}/ajax-api/2.0/mlflow/registered-models/search", params={"max_results": 25})
    models = {m["name"]: m for m in r.json()["registered_models"]}
    assert set(models) == {seeded.uc_model, seeded.ws_model}
    assert models[seeded.uc_model]["aliases"] == [{"alias": "champion", "version": "1"}]
    assert models[seeded.uc_model]["latest_versions"][0]["version"] == "1"
    assert models[seeded.ws_model]["latest_versions"][0]["current_stage"] == "None"
    uc_only = session.get(f"{server.url}/ajax-api/2.0/mlflow/registered-models/search",
                          params={"filter": "name ILIKE '%MAIN.default%'"}).json()
    assert [m["name"] for m in uc_only["registered_models"]] == [seeded.uc_model]
    prompts = session.get(f"{server.url}/ajax-api/2.0/mlflow/registered-models/search",
                          params={"filter": "tag.mlflow.prompt.is_prompt = 'true'"})
    assert prompts.status_code == 200
    assert [m["name"] for m in prompts.json().get("registered_models", [])] == [p for p in [seeded.prompt] if p]
    mv = session.get(f"{server.url}/ajax-api/2.0/mlflow/model-versions/get",
                     params={"name": seeded.uc_model, "version": "1"}).json()["model_version"]
    assert mv["aliases"] == [{"alias": "champion", "version": "1"}]
    versions = session.get(f"{server.url}/ajax-api/2.0/mlflow/model-versions/search",
                           params={"filter": f"run_id = '{seeded.run_id}'"}).json()["model_versions"]
    assert {v["name"] for v in versions} == {seeded.uc_model, seeded.ws_model}
    bad = session.get(f"{server.url}/ajax-api/2.0/mlflow/model-versions/search",
                      params={"filter": "version_number > 1"})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_rest_aliases_server_info_and_unknown_paths(ui):
    server, session, seeded = ui
    exps = session.get(f"{server.url}/ajax-api/2.0/mlflow/experiments/search", params={"max_results": 20000})
    assert exps.status_code == 200 and exps.json()["experiments"][0]["name"] == "/Shared/ui-demo"
    run = session.get(f"{server.url}/ajax-api/2.0/mlflow/runs/get", params={"run_id": seeded.run_id})
    assert run.json()["run"]["info"]["run_name"] == "tuned"
    info = session.get(f"{server.url}/ajax-api/3.0/mlflow/server-info").json()
    assert info["features_enabled"] == {"gateway": False}
    assert session.get(f"{server.url}/ajax-api/3.0/mlflow/ui-telemetry").json()["disable_ui_telemetry"] is True
    assert session.get(f"{server.url}/ajax-api/2.0/mlflow/gateway-proxy").json() == {"endpoints": []}
    datasets = session.post(f"{server.url}/ajax-api/2.0/mlflow/experiments/search-datasets",
                            json={"experiment_ids": [seeded.experiment_id]})
    assert datasets.status_code == 200 and datasets.json() == {"dataset_summaries": []}
    unknown = session.get(f"{server.url}/ajax-api/2.0/mlflow/users/current")  # mlflow server 404s it too
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert "/ajax-api/2.0/mlflow/users/current" in unknown.json()["message"]
    seen = {c.operation for c in server.ws.calls}
    assert {"ui.experiments.search", "tracking.runs.get", "ui.server-info"} <= seen  # journaled


def test_every_data_call_needs_the_token_but_the_page_does_not(ui):
    server, _, seeded = ui
    anonymous = requests.Session()
    assert anonymous.get(f"{server.url}/").status_code == 200
    assert b"<title>MLflow</title>" in anonymous.get(f"{server.url}/").content
    for path in ("/ajax-api/2.0/mlflow/experiments/search", "/ajax-api/3.0/mlflow/server-info",
                 f"/get-artifact?path=reports/summary.txt&run_id={seeded.run_id}"):
        r = anonymous.get(server.url + path)
        assert r.status_code == 401 and r.json()["error_code"] == "UNAUTHENTICATED", path
    r = anonymous.post(f"{server.url}/graphql", json={"query": GET_RUN, "variables": {}})
    assert r.status_code == 401


def test_token_login_sets_the_header_cookie_and_redirects(ui):
    server, _, _ = ui
    r = requests.get(server.login_url, allow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("mlflow-request-header-Authorization=Bearer%20dapi") and "Path=/" in cookie
    assert "HttpOnly" not in cookie  # the UI's JavaScript reads it
    wrong = requests.get(f"{server.url}/?token=dapi-wrong", allow_redirects=False)
    assert wrong.status_code == 403 and wrong.json()["message"] == "Invalid access token."
    status, _, body = server.workspace.handle("GET", "/static-files/../../../../etc/passwd")
    assert status == 404 and json.loads(body)["error_code"] == "ENDPOINT_NOT_FOUND"


def test_serving_needs_the_full_mlflow_wheel(monkeypatch, tmp_path):
    from mlemu.server.ui import bundle

    monkeypatch.setattr(bundle.importlib.util, "find_spec",
                        lambda name: type("S", (), {"submodule_search_locations": [str(tmp_path)]})())
    monkeypatch.setattr(bundle, "_version", lambda dist: "3.17.2" if dist == "mlflow-skinny" else None)
    with pytest.raises(bundle.UiUnavailable, match=r"Only mlflow-skinny 3.17.2 .*pip install mlflow==3.17.2"):
        bundle.build_dir()


def test_graphql_run_without_registered_versions(ui):
    seeded = ui[2]
    body = _graphql(ui, GET_RUN, "GetRun", {"data": {"runId": seeded.other_run_id}})
    run = body["data"]["mlflowGetRun"]["run"]
    assert run["modelVersions"] == [] and run["info"]["runName"] == "baseline"
    assert [m["step"] for m in run["data"]["metrics"]] == ["2"]


SEARCH_RUNS = """
  query SearchRuns($data: MlflowSearchRunsInput!) {
    mlflowSearchRuns(input: $data) {
      apiError { helpUrl code message }
      runs { info { runName runUuid } data { params { key value } } modelVersions { version name } }
    }
  }
"""

BULK_INTERVAL = """
  query GetMetricHistoryBulkInterval($data: MlflowGetMetricHistoryBulkIntervalInput!)
  @component(name: "MLflow.ExperimentRunTracking") {
    mlflowGetMetricHistoryBulkInterval(input: $data) {
      __typename
      metrics { timestamp step runId key value }
      apiError { code message }
    }
  }
"""


def test_graphql_search_runs_and_sampled_metric_history(ui):
    seeded = ui[2]
    body = _graphql(ui, SEARCH_RUNS, "SearchRuns",
                    {"data": {"filter": "params.solver = 'lbfgs'", "experimentIds": [seeded.experiment_id]}})
    runs = body["data"]["mlflowSearchRuns"]["runs"]
    assert [r["info"]["runName"] for r in runs] == ["tuned"]
    body = _graphql(ui, BULK_INTERVAL, "GetMetricHistoryBulkInterval",
                    {"data": {"runIds": [seeded.run_id, seeded.other_run_id], "metricKey": "accuracy",
                              "maxResults": 320}})
    metrics = body["data"]["mlflowGetMetricHistoryBulkInterval"]["metrics"]
    assert sorted((m["runId"], m["step"]) for m in metrics if m["runId"] == seeded.other_run_id) == [
        (seeded.other_run_id, "0"), (seeded.other_run_id, "1"), (seeded.other_run_id, "2")]
    assert body["data"]["mlflowGetMetricHistoryBulkInterval"]["__typename"] == "MlflowGetMetricHistoryBulkIntervalResponse"
    bad = _graphql(ui, SEARCH_RUNS, "SearchRuns", {"data": {"filter": "nonsense ===", "experimentIds": ["1"]}})
    assert bad["data"]["mlflowSearchRuns"]["apiError"]["code"] == "INVALID_PARAMETER_VALUE"


def test_edits_from_the_ui_reach_the_registry_that_holds_the_model(ui):
    from mlflow import MlflowClient

    import mlemu

    server, session, seeded = ui
    base = f"{server.url}/ajax-api/2.0/mlflow"
    uc, wsm = seeded.uc_model, seeded.ws_model
    assert session.post(f"{base}/registered-models/set-tag", json={"name": uc, "key": "owner", "value": "ml"}).ok
    assert session.post(f"{base}/model-versions/set-tag",
                        json={"name": wsm, "version": "1", "key": "validated", "value": "yes"}).ok
    r = session.patch(f"{base}/model-versions/update", json={"name": uc, "version": "1", "description": "good"})
    assert r.json()["model_version"]["description"] == "good"
    assert session.post(f"{base}/registered-models/alias", json={"name": uc, "alias": "challenger",
                                                                "version": "1"}).ok
    with mlemu.emulate(server.ws):  # read back with the real client
        model = MlflowClient().get_registered_model(uc)
        assert model.tags == {"owner": "ml"} and model.aliases == {"challenger": "1", "champion": "1"}
        assert MlflowClient().get_model_version(uc, "1").description == "good"
        assert MlflowClient(registry_uri="databricks").get_model_version(wsm, "1").tags == {"validated": "yes"}
    assert session.delete(f"{base}/registered-models/alias", json={"name": uc, "alias": "challenger"}).ok
    assert session.delete(f"{base}/registered-models/delete-tag", json={"name": uc, "key": "owner"}).ok
    # Databricks' rules: the workspace registry has no aliases; unknown names are unknown.
    no_alias = session.post(f"{base}/registered-models/alias", json={"name": wsm, "alias": "a", "version": "1"})
    assert no_alias.status_code == 400 and no_alias.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    missing = session.post(f"{base}/registered-models/set-tag", json={"name": "nope", "key": "k", "value": "v"})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    bad_alias = session.post(f"{base}/registered-models/alias", json={"name": uc, "alias": "latest", "version": "1"})
    assert bad_alias.status_code == 400


def test_non_finite_metrics_are_null_in_graphql(ui):
    """A GraphQL Float is finite: NaN and ±Infinity read null, never the REST strings (issue 20, item 4)."""
    server, session, seeded = ui
    api = f"{server.url}/api/2.0/mlflow"
    run_id = session.post(f"{api}/runs/create", json={"experiment_id": seeded.experiment_id}).json()["run"]["info"]["run_id"]
    for key, value in (("nan", "NaN"), ("inf", "Infinity"), ("ninf", "-Infinity"), ("fine", 0.5)):
        assert session.post(f"{api}/runs/log-metric", json={"run_id": run_id, "key": key, "value": value,
                                                               "timestamp": 1, "step": 0}).ok
    body = _graphql(ui, GET_RUN, "GetRun", {"data": {"runId": run_id}})
    values = {m["key"]: m["value"] for m in body["data"]["mlflowGetRun"]["run"]["data"]["metrics"]}
    assert values == {"nan": None, "inf": None, "ninf": None, "fine": 0.5}
    body = _graphql(ui, BULK_INTERVAL, "GetMetricHistoryBulkInterval",
                    {"data": {"runIds": [run_id], "metricKey": "nan", "maxResults": 10}})
    assert [m["value"] for m in body["data"]["mlflowGetMetricHistoryBulkInterval"]["metrics"]] == [None]
    # REST keeps protobuf JSON's strings.
    rest = session.get(f"{api}/runs/get", params={"run_id": run_id}).json()["run"]["data"]["metrics"]
    assert {m["key"]: m["value"] for m in rest}["nan"] == "NaN"


@pytest.mark.parametrize("query", [{"run_ids": "123", "metric_key": ""}, {"run_ids": "123"}])
def test_bulk_interval_checks_its_parameters_before_the_runs(ui, query):
    server, session, _ = ui
    r = session.get(f"{server.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval", params=query)
    assert r.status_code == 400, r.text
    assert r.json() == {"error_code": "INVALID_PARAMETER_VALUE",
                        "message": "Missing value for required parameter 'metric_key'."}


@pytest.mark.parametrize("body,words", [
    ({}, "at least one experiment_id"), ({"experiment_ids": []}, "at least one experiment_id"),
    ({"experiment_ids": ["abc"]}, "Experiment ID must be a valid integer"),
    ({"experiment_ids": [str(i) for i in range(21)]}, "cannot specify more than 20"),
])
def test_search_datasets_validates_the_experiment_ids(ui, body, words):
    server, session, _ = ui
    r = session.post(f"{server.url}/ajax-api/2.0/mlflow/experiments/search-datasets", json=body)
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert words in r.json()["message"]


def test_assistant_and_evaluation_datasets_answer_as_a_workspace_without_them(ui):
    """The 3.x UI asks for these on every page (issue 20, item 16): no assistant provider, no
    managed evaluation datasets; never a 404."""
    server, session, seeded = ui
    base = f"{server.url}/ajax-api/3.0/mlflow"
    assert session.get(f"{base}/assistant/config").json() == {
        "providers": {}, "projects": {}, "remote_access_allowed": False}
    providers = session.get(f"{base}/assistant/providers").json()
    assert providers["providers"] == [] and providers["resolved"] is None
    found = session.post(f"{base}/datasets/search", json={"experiment_ids": [seeded.experiment_id]})
    assert found.status_code == 200 and found.json().get("datasets", []) == []
    assert requests.get(f"{base}/assistant/config").status_code == 401  # the token is still needed


def test_prompts_are_listed_and_shown_as_the_ui_reads_them(ui):
    """A prompt registered in Unity Catalog appears in the UI's prompt list and page (issue 20,
    item 17), as mlflow's server shows prompts: a model tagged mlflow.prompt.is_prompt whose
    versions hold the template in mlflow.prompt.text; the model list leaves prompts out."""
    server, session, seeded = ui
    if seeded.prompt is None:
        pytest.skip("prompts in Unity Catalog are registered here with mlflow.genai.register_prompt, which came after mlflow 3.0")
    base = f"{server.url}/ajax-api/2.0/mlflow"
    prompt_clause = "tags.`mlflow.prompt.is_prompt` = 'true'"
    listed = session.get(f"{base}/registered-models/search", params={"filter": prompt_clause}).json()
    assert [m["name"] for m in listed["registered_models"]] == [seeded.prompt]
    tags = {t["key"]: t["value"] for t in listed["registered_models"][0]["tags"]}
    assert tags["mlflow.prompt.is_prompt"] == "true"
    named = session.get(f"{base}/registered-models/search",
                        params={"filter": f"name LIKE '%greet%' AND {prompt_clause}"}).json()
    assert [m["name"] for m in named["registered_models"]] == [seeded.prompt]
    models = session.get(f"{base}/registered-models/search",
                         params={"filter": "tags.`mlflow.prompt.is_prompt` != 'true'"}).json()
    assert seeded.prompt not in [m["name"] for m in models["registered_models"]]
    assert seeded.uc_model in [m["name"] for m in models["registered_models"]]
    page = session.get(f"{base}/registered-models/get", params={"name": seeded.prompt})
    assert page.status_code == 200 and page.json()["registered_model"]["name"] == seeded.prompt
    versions = session.get(f"{base}/model-versions/search",
                           params={"filter": f"name='{seeded.prompt}' AND {prompt_clause}"}).json()
    [v1, v2] = sorted(versions["model_versions"], key=lambda v: v["version"])
    text = {t["key"]: t["value"] for t in v1["tags"]}["mlflow.prompt.text"]
    assert text == "Hello {{name}}!" and v1["description"] == "first"
    chat = json.loads({t["key"]: t["value"] for t in v2["tags"]}["mlflow.prompt.text"])
    assert chat == [{"role": "user", "content": "Hi {{name}}"}]
    one = session.get(f"{base}/model-versions/get", params={"name": seeded.prompt, "version": "1"}).json()
    assert one["model_version"]["version"] == "1"


def test_graphql_list_artifacts_and_the_two_read_mutations(ui):
    """mlflow's schema answers ``mlflowListArtifacts`` as a query and ``mlflowSearchRuns`` /
    ``mlflowSearchDatasets`` as mutations (POST-backed reads); every other mutation is refused."""
    server, session, seeded = ui
    body = _graphql(ui, 'query q { files: mlflowListArtifacts(input: {runId: "%s"}) '
                        '{ files { path isDir fileSize } } }' % seeded.run_id, "q", {})
    files = {f["path"]: f for f in body["data"]["files"]["files"]}
    assert files["reports"] == {"path": "reports", "isDir": True, "fileSize": "0"}
    inner = _graphql(ui, 'query q { mlflowListArtifacts(input: {runId: "%s", path: "reports"}) '
                         '{ files { path isDir fileSize } } }' % seeded.run_id, "q", {})
    assert inner["data"]["mlflowListArtifacts"]["files"] == [
        {"path": "reports/summary.txt", "isDir": False, "fileSize": "27"}]
    runs = _graphql(ui, 'mutation m { mlflowSearchRuns(input: {experimentIds: ["%s"]}) '
                        '{ runs { info { runName } } } }' % seeded.experiment_id, "m", {})
    assert {"baseline", "tuned"} <= {r["info"]["runName"] for r in runs["data"]["mlflowSearchRuns"]["runs"]}
    datasets = _graphql(ui, 'mutation m { mlflowSearchDatasets(input: {experimentIds: ["%s"]}) '
                            '{ datasetSummaries { name } } }' % seeded.experiment_id, "m", {})
    assert datasets["data"]["mlflowSearchDatasets"]["datasetSummaries"] == []
    refused = _graphql(ui, 'mutation m { mlflowGetRun(input: {runId: "x"}) { run { info { runName } } } }', "m", {})
    assert refused["data"]["mlflowGetRun"] is None and "type 'Mutation'" in refused["errors"][0]["message"]


def test_metric_history_bulk_for_the_ui(ui):
    server, session, seeded = ui
    url = f"{server.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk"
    got = session.get(url, params=[("run_id", seeded.run_id), ("run_id", seeded.other_run_id),
                                   ("metric_key", "accuracy"), ("max_results", 2)]).json()["metrics"]
    first, second = sorted([seeded.run_id, seeded.other_run_id])
    assert [(m["run_id"], m["step"]) for m in got] == [(first, 0), (first, 1), (second, 0), (second, 1)]
    assert session.get(url, params={"metric_key": "accuracy"}).json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert session.get(url, params={"run_id": seeded.run_id}).status_code == 400


@pytest.mark.parametrize("path,params", [
    ("/api/2.0/mlflow/artifacts/list", {"run_id": "0" * 32}),
    ("/get-artifact", {"run_id": "0" * 32}),
    ("/model-versions/get-artifact", {"name": "no-such-model", "version": "1"}),
])
def test_an_escaping_artifact_path_is_refused_before_any_lookup(ui, path, params):
    """As mlflow's server: ``..`` is INVALID_PARAMETER_VALUE "Invalid path", whatever the run or model."""
    server, session, _ = ui
    r = session.get(server.url + path, params={**params, "path": "../path"})
    assert (r.status_code, r.json()) == (400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"})


def test_dataset_summaries_without_a_context_read_empty_in_graphql(ui):
    """mlflow's GraphQL answers a summary's proto fields, so a dataset logged without a context
    tag has ``context: ""`` there; the REST answer (``experiments/search-datasets``) omits it."""
    server, session, _ = ui
    api = f"{server.url}/api/2.0/mlflow"
    exp = session.post(f"{api}/experiments/create", json={"name": "/Users/user@company.com/ui-datasets"}).json()
    run = session.post(f"{api}/runs/create", json={"experiment_id": exp["experiment_id"]}).json()["run"]
    datasets = [{"dataset": {"name": "plain", "digest": "1", "source_type": "local", "source": "{}"}},
                {"dataset": {"name": "train", "digest": "2", "source_type": "local", "source": "{}"},
                 "tags": [{"key": "mlflow.data.context", "value": "training"}]}]
    r = session.post(f"{api}/runs/log-inputs", json={"run_id": run["info"]["run_id"], "datasets": datasets})
    assert r.status_code == 200, r.text
    body = _graphql(ui, 'mutation m { mlflowSearchDatasets(input: {experimentIds: ["%s"]}) '
                        '{ datasetSummaries { name context } } }' % exp["experiment_id"], "m", {})
    assert sorted(body["data"]["mlflowSearchDatasets"]["datasetSummaries"], key=lambda d: d["name"]) == [
        {"name": "plain", "context": ""}, {"name": "train", "context": "training"}]
    rest = session.post(f"{server.url}/ajax-api/2.0/mlflow/experiments/search-datasets",
                        json={"experiment_ids": [exp["experiment_id"]]}).json()
    assert sorted(rest["dataset_summaries"], key=lambda d: d["name"])[0] == {
        "experiment_id": exp["experiment_id"], "name": "plain", "digest": "1"}
