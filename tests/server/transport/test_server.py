"""Loopback server: same answers as in-process, TCP_NODELAY, HTTP/1.1 details."""
from __future__ import annotations

import socket

import requests

from mlemu import Workspace, serve

CALLS = [
    ("GET", "/api/2.0/preview/scim/v2/Me", None),
    ("POST", "/api/2.0/workspace/mkdirs", {"path": "/Shared/a/b"}),
    ("GET", "/api/2.0/workspace/list?path=%2FShared", None),
    ("GET", "/api/2.0/workspace/get-status?path=/nope", None),
    ("POST", "/api/2.0/workspace/mkdirs", {}),
    ("GET", "/api/2.0/unknown", None),
]


def _run(base: str, token: str) -> list[tuple[int, bytes]]:
    session = requests.Session()
    out = []
    for method, path, body in CALLS:
        r = session.request(method, base + path, json=body, headers={"Authorization": f"Bearer {token}"})
        out.append((r.status_code, r.content))
    return out


def test_same_answers_byte_for_byte_in_process_and_over_loopback():
    in_process = Workspace(seed=3)
    over_http = Workspace(seed=3)
    for ws in (in_process, over_http):
        ws.clock.freeze(1_700_000_000_000)
    with in_process:
        a = _run(in_process.host, in_process.token)
    with serve(over_http) as server:
        b = _run(server.url, over_http.token)
    assert a == b
    assert [s for s, _ in a] == [200, 200, 200, 404, 400, 404]


def test_server_sets_tcp_nodelay_and_keeps_alive():
    ws = Workspace()
    with serve(ws) as server:
        sock = socket.create_connection((server.host, server.port))
        try:
            for _ in range(2):  # two requests on one connection
                sock.sendall(b"GET /.well-known/databricks-config HTTP/1.1\r\nHost: x\r\n\r\n")
                data = sock.recv(65536)
                assert data.startswith(b"HTTP/1.1 200 OK\r\n")
                assert data.count(b"content-length:") == 1
        finally:
            sock.close()


def test_chunked_request_body():
    ws = Workspace()
    with serve(ws) as server:
        def gen():
            yield b'{"path": '
            yield b'"/Shared/chunked"}'
        r = requests.post(f"{server.url}/api/2.0/workspace/mkdirs", data=gen(),
                          headers={"Authorization": f"Bearer {ws.token}"})
        assert r.status_code == 200
    assert ws.workspace_files.exists("/Shared/chunked")


def test_head_has_no_body_but_a_length():
    ws = Workspace()
    with serve(ws) as server:
        r = requests.head(f"{server.url}/api/2.0/workspace/list?path=/", headers={"Authorization": f"Bearer {ws.token}"})
        assert r.status_code == 404  # no HEAD route: endpoint not found, still no body
        assert r.content == b""


def test_sdk_over_loopback(mlemu, mlemu_server):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    assert w.config.host == mlemu_server.url
    w.workspace.mkdirs("/Shared/over-http")
    assert mlemu.workspace_files.exists("/Shared/over-http")


def test_accepted_sockets_have_tcp_nodelay(monkeypatch):
    """Nagle + delayed ACK would stall each keep-alive call ~40 ms."""
    from mlemu.server.transport import server as server_module

    seen = []
    original = server_module._Handler.setup

    def spy(self):
        original(self)
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(server_module._Handler, "setup", spy)
    ws = Workspace()
    with serve(ws) as server:
        requests.get(f"{server.url}/.well-known/databricks-config")
    assert seen and all(seen)
