"""The wire layer: routing, validation and error rendering as the clients see them."""
from __future__ import annotations

import pytest
import requests


@pytest.fixture
def auth(mlemu):
    return {"Authorization": f"Bearer {mlemu.token}"}


def test_unknown_route_is_endpoint_not_found_naming_it(mlemu, auth):
    r = requests.get(f"{mlemu.host}/api/2.0/no/such/thing", headers=auth)
    assert r.status_code == 404
    assert r.json() == {"error_code": "ENDPOINT_NOT_FOUND",
                        "message": "No API found for 'GET /api/2.0/no/such/thing'. mlemu does not "
                                   "emulate this endpoint; the emulated endpoints and client calls "
                                   "are listed in docs/coverage.md (`mlemu coverage`)."}


def test_unknown_route_checks_the_token_first(mlemu):
    """Databricks authenticates before routing: no token is 401, a wrong one 403, not 404."""
    assert requests.get(f"{mlemu.host}/api/2.0/no/such/thing").status_code == 401
    r = requests.get(f"{mlemu.host}/api/2.0/no/such/thing", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 403


def test_unknown_route_through_the_sdk(mlemu):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import NotFound

    with pytest.raises(NotFound, match="No API found"):
        WorkspaceClient().api_client.do("POST", "/api/2.0/nothing-here", body={})


def test_wrong_method_is_endpoint_not_found(mlemu, auth):
    r = requests.delete(f"{mlemu.host}/api/2.0/workspace/mkdirs", headers=auth)
    assert (r.status_code, r.json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")


def test_malformed_json_is_bad_request(mlemu, auth):
    r = requests.post(f"{mlemu.host}/api/2.0/workspace/mkdirs", data=b"{not json", headers=auth)
    assert r.status_code == 400
    assert r.json()["error_code"] == "MALFORMED_REQUEST"


def test_non_object_json_is_bad_request(mlemu, auth):
    r = requests.post(f"{mlemu.host}/api/2.0/workspace/mkdirs", json=[1, 2], headers=auth)
    assert (r.status_code, r.json()["error_code"]) == (400, "MALFORMED_REQUEST")


def test_missing_field_names_it(mlemu, auth):
    r = requests.post(f"{mlemu.host}/api/2.0/workspace/mkdirs", json={}, headers=auth)
    assert r.status_code == 400
    assert r.json() == {"error_code": "INVALID_PARAMETER_VALUE",
                        "message": "Missing value for required parameter 'path'."}


def test_wrong_type_names_the_field(mlemu, auth):
    r = requests.post(f"{mlemu.host}/api/2.0/workspace/delete",
                      json={"path": "/Shared", "recursive": {"x": 1}}, headers=auth)
    assert r.status_code == 400
    body = r.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "'recursive'" in body["message"]


def test_every_answer_is_json_with_org_id(mlemu, auth):
    r = requests.get(f"{mlemu.host}/api/2.0/workspace/list", params={"path": "/"}, headers=auth)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-databricks-org-id"] == mlemu.workspace_id
    assert [o["path"] for o in r.json()["objects"]] == ["/Shared", "/Users"]


def test_internal_error_propagates_in_process_and_is_recorded(mlemu, auth, monkeypatch):
    from mlemu.server.services.workspace_files.state import WorkspaceFiles

    def boom(self, path):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(WorkspaceFiles, "mkdirs", boom)
    with pytest.raises(ZeroDivisionError):
        requests.post(f"{mlemu.host}/api/2.0/workspace/mkdirs", json={"path": "/Shared/q"}, headers=auth)
    assert "ZeroDivisionError" in mlemu.internal_errors[0]
    mlemu.internal_errors.clear()  # handled: don't fail this test at teardown


def test_internal_error_over_http_is_a_json_500_without_traceback(mlemu, mlemu_server, auth, monkeypatch):
    from mlemu.server.services.workspace_files.state import WorkspaceFiles

    monkeypatch.setattr(WorkspaceFiles, "mkdirs", lambda self, path: 1 / 0)
    r = requests.post(f"{mlemu_server.url}/api/2.0/workspace/mkdirs", json={"path": "/Shared/q"}, headers=auth)
    assert r.status_code == 500
    body = r.json()
    assert body["error_code"] == "INTERNAL_ERROR"
    assert "Traceback" not in body["message"]
    mlemu.internal_errors.clear()
