"""The loopback server under malformed framing, oversized input, unknown methods and slow
clients: always a JSON answer with an ``error_code``, never a dropped connection, a
traceback or an HTML page; a silent client gives its thread back (issue 8, defects 2, 3, 5, 8)."""
from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from mlemu import Workspace, serve
from mlemu.server.transport import server as server_module


@pytest.fixture
def srv():
    ws = Workspace()
    with serve(ws, read_timeout=2.0, max_json_bytes=1024, max_upload_bytes=4096) as s:
        s.ws = ws
        yield s
    assert ws.internal_errors == []


def _exchange(srv, raw: bytes, read_timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """Send raw bytes, read one answer; return (status, headers, body)."""
    with socket.create_connection((srv.host, srv.port), timeout=read_timeout) as sock:
        sock.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            part = sock.recv(65536)
            assert part, f"connection closed without an answer; got {data!r}"
            data += part
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            part = sock.recv(65536)
            assert part, "connection closed mid-body"
            body += part
        return status, headers, body


def _post(srv, extra_headers: bytes, body: bytes = b"") -> bytes:
    return (b"POST /api/2.0/workspace/mkdirs HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {srv.ws.token}\r\n".encode() + extra_headers + b"\r\n" + body)


def _assert_json_error(status, headers, body, expected_status):
    assert status == expected_status, body
    assert headers["content-type"] == "application/json"
    err = json.loads(body)
    assert err["error_code"] and err["message"]
    return err


@pytest.mark.parametrize("value", [b"abc", b"1e3", b"1e14", b"-1", b" ", b"0x10", b"1" * 40])
def test_malformed_content_length_is_400_json(srv, value):
    status, headers, body = _exchange(srv, _post(srv, b"Content-Length: " + value + b"\r\n"))
    err = _assert_json_error(status, headers, body, 400)
    assert err["error_code"] == "BAD_REQUEST"


def test_conflicting_content_lengths_are_400(srv):
    raw = _post(srv, b"Content-Length: 2\r\nContent-Length: 20\r\n", b"{}")
    _assert_json_error(*_exchange(srv, raw), 400)
    raw = _post(srv, b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", b"{}")
    _assert_json_error(*_exchange(srv, raw), 400)


@pytest.mark.parametrize("size", [b"zz", b"-5", b"", b"1" * 20])
def test_malformed_chunk_sizes_are_400_json(srv, size):
    raw = _post(srv, b"Transfer-Encoding: chunked\r\n", size + b"\r\n{}\r\n0\r\n\r\n")
    err = _assert_json_error(*_exchange(srv, raw), 400)
    assert "chunk" in err["message"]


def test_huge_chunk_size_is_refused_before_reading(srv):
    raw = _post(srv, b"Transfer-Encoding: chunked\r\n", b"ffffffffffff\r\n{}\r\n0\r\n\r\n")
    err = _assert_json_error(*_exchange(srv, raw), 413)
    assert "exceeds the limit" in err["message"]


def test_bodies_over_the_limit_are_refused_unread(srv):
    status, headers, body = _exchange(srv, _post(srv, b"Content-Length: 100000000000\r\n"))
    err = _assert_json_error(status, headers, body, 413)
    assert "exceeds the limit of 1024 bytes" in err["message"]
    raw = _post(srv, b"Transfer-Encoding: chunked\r\n", b"800\r\n" + b"x" * 2048 + b"\r\n0\r\n\r\n")
    _assert_json_error(*_exchange(srv, raw), 413)
    # Raw file uploads have their own, larger limit.
    r = requests.put(f"{srv.url}/api/2.0/fs/files/Volumes/main/default/v/f.bin", data=b"x" * 4000,
                     headers={"Authorization": f"Bearer {srv.ws.token}"})
    assert r.status_code == 204
    r = requests.put(f"{srv.url}/api/2.0/fs/files/Volumes/main/default/v/g.bin", data=b"x" * 5000,
                     headers={"Authorization": f"Bearer {srv.ws.token}"})
    assert r.status_code == 413 and r.json()["error_code"] == "BAD_REQUEST"


def test_sdk_sees_a_databricks_error_for_an_oversized_body(srv, mlemu):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import DatabricksError

    w = WorkspaceClient(host=srv.url, token=srv.ws.token)
    with pytest.raises(DatabricksError, match="exceeds the limit") as e:
        w.workspace.mkdirs("/Shared/" + "x" * 2000)
    assert e.value.error_code == "BAD_REQUEST"  # not retried


@pytest.mark.parametrize("method", [b"TRACE", b"PROPFIND", b"BREW"])
def test_unknown_methods_answer_json(srv, method):
    # With a valid token: unknown routes check the token first, as Databricks does.
    raw = (method + b" /api/2.0/workspace/list HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
           + f"Authorization: Bearer {srv.ws.token}\r\n\r\n".encode())
    err = _assert_json_error(*_exchange(srv, raw), 404)
    assert err["error_code"] == "ENDPOINT_NOT_FOUND"


def test_lower_case_method_is_answered_like_upper_case(srv):
    raw = (b"get /api/2.0/preview/scim/v2/Me HTTP/1.1\r\nHost: x\r\n"
           + f"Authorization: Bearer {srv.ws.token}\r\n\r\n".encode())
    status, _, body = _exchange(srv, raw)
    assert status == 200 and json.loads(body)["userName"] == "user@company.com"


def test_long_url_and_large_headers_answer_json(srv):
    raw = b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    _assert_json_error(*_exchange(srv, raw), 414)
    raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    _assert_json_error(*_exchange(srv, raw), 431)
    raw = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n"
    _assert_json_error(*_exchange(srv, raw), 431)
    _assert_json_error(*_exchange(srv, b"NOT A REQUEST LINE AT ALL\r\n\r\n"), 400)


def test_truncated_body_then_silence_is_closed_after_the_read_timeout(srv):
    with socket.create_connection((srv.host, srv.port), timeout=20) as sock:
        sock.sendall(_post(srv, b"Content-Length: 100\r\n", b"{"))
        start = time.monotonic()
        assert sock.recv(65536) == b""  # closed by the server, no answer to a half request
        assert time.monotonic() - start < 15


def test_idle_keep_alive_connection_is_closed(srv):
    with socket.create_connection((srv.host, srv.port), timeout=20) as sock:
        sock.sendall(b"GET /.well-known/databricks-config HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert sock.recv(65536) == b""  # the server hung up after its idle timeout


def test_listen_backlog_is_128():
    assert server_module._Server.request_queue_size == 128 == server_module.LISTEN_BACKLOG


def test_trickling_client_is_cut_off_at_the_request_deadline():
    ws = Workspace()
    with serve(ws, read_timeout=5.0, request_deadline=2.0) as s:
        with socket.create_connection((s.host, s.port), timeout=30) as sock:
            sock.sendall(b"POST /api/2.0/workspace/mkdirs HTTP/1.1\r\nHost: x\r\n")
            start = time.monotonic()
            closed = False
            for _ in range(40):  # one header byte every 0.5 s: each read is well within 5 s
                time.sleep(0.5)
                try:
                    sock.sendall(b"X")
                except OSError:
                    closed = True
                    break
                sock.settimeout(0.01)
                try:
                    if sock.recv(65536) == b"":
                        closed = True
                        break
                except socket.timeout:
                    pass
                except OSError:
                    closed = True
                    break
            assert closed and time.monotonic() - start < 15
        # A normal request on a new connection is still answered.
        r = requests.get(f"{s.url}/.well-known/databricks-config")
        assert r.status_code == 200
