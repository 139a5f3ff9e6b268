"""In-process transport: routing by host, hermetic mode, clean deactivation."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from requests.adapters import HTTPAdapter

import mlemu
from mlemu import NetworkAccessBlocked, Workspace


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - stdlib name
        self.send_response(200)
        self.send_header("content-length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


@pytest.fixture
def plain_server():
    """A non-mlemu HTTP server on loopback, standing in for 'the outside world'."""
    server = HTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_hermetic_mode_blocks_other_hosts_fast(mlemu, plain_server):
    started = time.perf_counter()
    with pytest.raises(NetworkAccessBlocked, match="network access blocked by mlemu"):
        requests.get(plain_server, timeout=5)
    assert time.perf_counter() - started < 1.0


def test_hermetic_block_is_not_retried_by_the_sdk(mlemu, monkeypatch):
    from databricks.sdk import WorkspaceClient

    monkeypatch.setenv("DATABRICKS_HOST", "https://adb-1.azuredatabricks.net")
    started = time.perf_counter()
    with pytest.raises(Exception, match="network access blocked by mlemu"):
        WorkspaceClient().current_user.me()
    assert time.perf_counter() - started < 5.0


@pytest.mark.mlemu(hermetic=False)
def test_non_hermetic_mode_passes_other_hosts_through(mlemu, plain_server):
    assert requests.get(plain_server, timeout=5).text == "hello"


def test_deactivation_restores_requests(plain_server):
    original = HTTPAdapter.send
    with mlemu.emulate():
        assert HTTPAdapter.send is not original
    assert HTTPAdapter.send is original
    assert requests.get(plain_server, timeout=5).text == "hello"


def test_two_workspaces_answer_on_their_own_hosts():
    a = Workspace(workspace_id="111", user_name="a@x.com")
    b = Workspace(workspace_id="222", user_name="b@x.com")
    with a, b:
        for ws in (a, b):
            r = requests.get(f"{ws.host}/api/2.0/preview/scim/v2/Me",
                             headers={"Authorization": f"Bearer {ws.token}"})
            assert r.json()["userName"] == ws.user.user_name
    assert a.calls.operations() == ["iam.current-user.me"]


def test_two_active_workspaces_on_one_host_is_an_error():
    a, b = Workspace(), Workspace()
    with a:
        with pytest.raises(RuntimeError, match="already answers"):
            b.start()


def test_streamed_and_file_bodies_are_read(mlemu, tmp_path):
    payload = tmp_path / "p.json"
    payload.write_bytes(b'{"path": "/Shared/from-file"}')
    with payload.open("rb") as fh:
        r = requests.post(f"{mlemu.host}/api/2.0/workspace/mkdirs", data=fh,
                          headers={"Authorization": f"Bearer {mlemu.token}"})
    assert r.status_code == 200
    assert mlemu.workspace_files.exists("/Shared/from-file")


def test_stream_true_responses_iterate(mlemu):
    r = requests.get(f"{mlemu.host}/.well-known/databricks-config", stream=True)
    assert b"".join(r.iter_content(3)).startswith(b"{")


def test_current_is_the_most_recently_started_active_workspace():
    from mlemu import Workspace
    from mlemu.server.transport import inprocess

    outer, inner = Workspace(workspace_id="111"), Workspace(workspace_id="222")
    assert inprocess.current() is None
    with outer:
        assert inprocess.current() is outer
        with inner:
            assert inprocess.current() is inner
        assert inprocess.current() is outer
    assert inprocess.current() is None
