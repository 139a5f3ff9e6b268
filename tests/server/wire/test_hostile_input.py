"""Hostile input is a 400 with a Databricks ``error_code``, never a 500 (issue 8, defect 4).

Driven through databricks-sdk's own ``ApiClient.do`` (what every SDK service method calls) and
mlflow's client, so the exception the user would see is checked too.
"""
from __future__ import annotations

import io
import json

import pytest

from mlemu import Workspace, emulate


@pytest.fixture
def api(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient().api_client


def _raw(ws, method, path, body=b"", query=""):
    status, _, out = ws.handle(method, path, query, {"authorization": f"Bearer {ws.token}"}, body)
    return status, json.loads(out)


@pytest.mark.parametrize("depth", [101, 1_000, 100_000])
def test_deeply_nested_json_is_bad_request(mlemu, depth):
    body = b'{"name": ' + b"[" * depth + b"]" * depth + b"}"
    status, err = _raw(mlemu, "POST", "/api/2.0/mlflow/experiments/create", body)
    assert (status, err["error_code"]) == (400, "MALFORMED_REQUEST")
    assert "nesting deeper than 100 levels" in err["message"]


def test_nesting_within_the_limit_is_validated_normally(api):
    from databricks.sdk.errors import InvalidParameterValue

    nested: object = "x"
    for _ in range(98):
        nested = [nested]
    with pytest.raises(InvalidParameterValue) as e:
        api.do("POST", "/api/2.0/mlflow/experiments/create", body={"name": nested})
    assert len(str(e.value)) < 400  # a huge value is not echoed back in full


def test_lone_surrogates_are_bad_request(api, mlemu):
    from databricks.sdk.errors import BadRequest

    for path, body in [("/api/2.0/dbfs/put", {"path": "/a\ud800b", "contents": ""}),
                       ("/api/2.0/fs/create-upload-url", {"path": "/Volumes/a/b/c/\udfff"}),
                       ("/api/2.0/mlflow/experiments/create", {"name": "/Shared/\ud800"}),
                       ("/api/2.0/mlflow/experiments/create", {"\ud800": 1, "name": "/Shared/x"})]:
        with pytest.raises(BadRequest, match="lone UTF-16 surrogate"):
            api.do("POST", path, body=body)
    assert mlemu.storage.list("dbfs", "/") == []
    # A surrogate pair is a valid character.
    api.do("POST", "/api/2.0/dbfs/put", body={"path": "/emoji-\U0001F600", "contents": ""})
    assert mlemu.storage.exists("dbfs", "/emoji-\U0001F600")


@pytest.mark.parametrize("store", ["memory", "disk"])
def test_overlong_file_name_is_invalid_parameter_in_both_stores(store, tmp_path):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import InvalidParameterValue

    root = None if store == "memory" else str(tmp_path / "store")
    with emulate(Workspace(artifact_root=root)) as ws:
        w = WorkspaceClient()
        with pytest.raises(InvalidParameterValue, match="longer than 255 bytes") as e:
            w.files.upload("/Volumes/main/default/vol/" + "x" * 300, io.BytesIO(b"abc"))
        assert str(tmp_path) not in str(e.value)  # the store's location is not revealed
        with pytest.raises(InvalidParameterValue):
            w.dbfs.mkdirs("/" + "é" * 128)  # 256 bytes in UTF-8
        w.files.upload("/Volumes/main/default/vol/" + "x" * 255, io.BytesIO(b"ok"))
        assert ws.internal_errors == []


def test_overlong_integers_are_not_internal_errors(mlemu):
    status, err = _raw(mlemu, "GET", "/api/2.0/mlflow/experiments/search", query="view_type=" + "1" * 5001)
    assert (status, err["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    status, err = _raw(mlemu, "POST", "/api/2.0/mlflow/experiments/search",
                       b'{"max_results": ' + b"1" * 5001 + b"}")
    assert (status, err["error_code"]) == (400, "MALFORMED_REQUEST")
    status, err = _raw(mlemu, "GET", "/api/2.1/unity-catalog/models/a.b.c/versions/" + "9" * 5001)
    assert status in (400, 404) and err["error_code"]

