"""Bad values never reach the host through the control plane (issue 17, defect 8): clock
values outside the clock's range, hostile export paths and deeply nested bodies answer 400 in
the Databricks error shape, over the socket (no dropped connection) and in-process (no
exception out of ``ws.handle``), and leave the workspace as it was."""
from __future__ import annotations

import io
import json
import os

import pytest
import requests

from mlemu import Workspace
from mlemu.server.core.clock import MAX_MS
from mlemu.server.core.errors import ApiError
from mlemu.toolkit.control import ControlClient
from tests.serve_cli import serve_cli

FROZEN = 1_700_000_000_000
BAD_CLOCK_BODIES = [
    {"advance_seconds": "inf"},
    {"advance_seconds": float("inf")},
    {"advance_seconds": 1e300},
    {"advance_seconds": -1e12},
    {"advance_seconds": 10**400},
    {"advance_seconds": True},
    {"freeze_ms": 10**30},
    {"freeze_ms": -1},
    {"freeze_ms": 1.5},
    {"freeze_ms": "soon"},
    {"freeze_ms": MAX_MS + 1},
    {"freeze_ms": FROZEN, "advance_seconds": 1e12},   # in range alone, out of range together
    {"unfreeze": "yes"},
    {"tick": 1},
]


def _raw(url: str, token: str, method: str, route: str, body: bytes) -> requests.Response:
    return requests.request(method, f"{url}/__mlemu__/{route}", data=body, timeout=30,
                            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})


def _error_of(response: requests.Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}
    return body["error_code"]


@pytest.mark.parametrize("body", BAD_CLOCK_BODIES, ids=lambda b: json.dumps(b)[:40])
def test_bad_clock_values_are_refused_over_the_socket(mlemu, mlemu_server, body):
    mlemu.clock.freeze(FROZEN)
    response = _raw(mlemu_server.url, mlemu.token, "POST", "clock", json.dumps(body).encode())
    assert _error_of(response) == "INVALID_PARAMETER_VALUE"
    assert ControlClient.from_env().clock() == {"now_ms": FROZEN, "frozen": True}


@pytest.mark.parametrize("body", BAD_CLOCK_BODIES, ids=lambda b: json.dumps(b)[:40])
def test_bad_clock_values_are_refused_in_process(body):
    ws = Workspace()
    ws.clock.freeze(FROZEN)
    status, headers, out = ws.handle("POST", "/__mlemu__/clock", "", {"authorization": f"Bearer {ws.token}"},
                                     json.dumps(body).encode())
    assert (status, json.loads(out)["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert ws.clock.now_ms() == FROZEN and not ws.internal_errors


def test_files_uploaded_after_a_refused_clock_change_stay_readable(mlemu, mlemu_server):
    """Once, freeze_ms 10**30 was accepted and every file uploaded meanwhile answered 500 for good."""
    from databricks.sdk import WorkspaceClient

    ctl = ControlClient.from_env()
    with pytest.raises(ApiError) as info:
        ctl.freeze(10**30)
    assert info.value.status == 400
    w = WorkspaceClient()
    path = "/Volumes/main/default/vol/clock.txt"
    w.files.upload(path, io.BytesIO(b"tick"), overwrite=True)
    assert w.files.download(path).contents.read() == b"tick"
    assert w.files.get_metadata(path).content_length == 4
    ctl.unfreeze()
    assert w.files.download(path).contents.read() == b"tick"


def test_the_clock_edges_are_accepted(mlemu, mlemu_server):
    ctl = ControlClient.from_env()
    assert ctl.freeze(MAX_MS)["now_ms"] == MAX_MS
    assert ctl.advance(-MAX_MS / 1000)["now_ms"] == 0
    with pytest.raises(ApiError):
        ctl.advance(-0.001)
    assert ctl.clock() == {"now_ms": 0, "frozen": True}


def test_a_100000_deep_body_is_malformed_not_a_dropped_connection(mlemu, mlemu_server):
    deep = b"[" * 100_000 + b"]" * 100_000
    response = _raw(mlemu_server.url, mlemu.token, "POST", "reset", deep)
    assert _error_of(response) == "MALFORMED_REQUEST"
    status, _, out = mlemu.handle("POST", "/__mlemu__/reset", "", {"authorization": f"Bearer {mlemu.token}"},
                                  b'{"a":' * 100_000 + b"1" + b"}" * 100_000)
    assert (status, json.loads(out)["error_code"]) == (400, "MALFORMED_REQUEST")


# -- exports ---------------------------------------------------------------------------------------
def test_exports_are_refused_without_an_export_directory(mlemu, mlemu_server, tmp_path):
    response = _raw(mlemu_server.url, mlemu.token, "POST", "export",
                    json.dumps({"path": str(tmp_path / "x.zip")}).encode())
    assert _error_of(response) == "INVALID_PARAMETER_VALUE"
    assert "--export-dir" in response.json()["message"]
    assert not (tmp_path / "x.zip").exists()


@pytest.mark.parametrize("path", ["/", "/proc/x.zip", "sub", "\0", "a\0b.zip", "../x.zip", "", "   ",
                                  "sub/../../x.zip", "missing/x.zip", "link/x.zip", 7, None])
def test_hostile_export_paths_are_refused(mlemu, mlemu_server, tmp_path, path):
    export_dir = tmp_path / "exports"
    (export_dir / "sub").mkdir(parents=True)
    (export_dir / "link").symlink_to(tmp_path)
    mlemu.export_dir = str(export_dir)
    response = _raw(mlemu_server.url, mlemu.token, "POST", "export", json.dumps({"path": path}).encode())
    assert _error_of(response) == "INVALID_PARAMETER_VALUE"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports"]
    assert sorted(p.name for p in export_dir.iterdir()) == ["link", "sub"]
    assert list((export_dir / "sub").iterdir()) == []


def test_exports_land_under_the_export_directory(mlemu, mlemu_server, tmp_path):
    import mlflow

    mlemu.export_dir = str(tmp_path)
    (tmp_path / "runs").mkdir()
    mlflow.set_experiment("/Shared/exported")
    ctl = ControlClient.from_env()
    written = ctl.export("runs/after.zip")
    assert written == str(tmp_path.resolve() / "runs" / "after.zip")
    assert ctl.export(str(tmp_path / "abs.zip")) == str(tmp_path.resolve() / "abs.zip")
    loaded = Workspace.load(written)
    assert loaded.tracking.get_experiment_by_name("/Shared/exported").name == "/Shared/exported"


def test_mlemu_serve_export_dir(tmp_path):
    (tmp_path / "out").mkdir()
    with serve_cli("--memory", "--export-dir", str(tmp_path / "out")) as env:
        ctl = ControlClient(env["DATABRICKS_HOST"], env["DATABRICKS_TOKEN"])
        assert ctl.export("w.zip") == os.path.join(str((tmp_path / "out").resolve()), "w.zip")
        with pytest.raises(ApiError) as info:
            ctl.export(str(tmp_path / "outside.zip"))
        assert info.value.status == 400
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
