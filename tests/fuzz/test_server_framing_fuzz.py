"""Hostile HTTP framing against the loopback server (hypothesis): generated request lines,
methods, header sets (``Content-Length`` and ``Transfer-Encoding`` variants, oversized and
repeated headers) and bodies, sent raw. Every request gets an answer, and every error answer
is JSON with an ``error_code``; the server never logs an internal error.

Budget: ``MLEMU_FUZZ_EXAMPLES`` x 4 requests (derandomized unless ``MLEMU_FUZZ_RANDOM=1``).
"""
from __future__ import annotations

import json
import os
import socket

import pytest

pytest.importorskip("hypothesis", reason="hypothesis is not installed")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mlemu import Workspace, serve  # noqa: E402

EXAMPLES = 4 * int(os.environ.get("MLEMU_FUZZ_EXAMPLES", "12"))
RANDOM = os.environ.get("MLEMU_FUZZ_RANDOM", "") == "1"

_TOKEN = st.sampled_from([b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS", b"TRACE",
                          b"PROPFIND", b"get", b"G\xc3\xa9T", b"", b"CONNECT"])
_PATHS = st.sampled_from([b"/api/2.0/workspace/mkdirs", b"/api/2.0/mlflow/runs/log-batch", b"/",
                          b"/api/2.0/fs/files/Volumes/main/default/v/f.bin", b"/presigned/x/y", b"*",
                          b"http://evil.example/x", b"/%ff%00", b"/" + b"a" * 70_000])
_VERSIONS = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1x", b"", b"HTTP/9"])
_LENGTHS = st.one_of(st.sampled_from([b"0", b"2", b"-1", b"abc", b"1e3", b"1e14", b" 2", b"2 ", b"0x2",
                                      b"99999999999999999999", b"2, 2", b"2, 3", b""]),
                     st.integers(min_value=0, max_value=5000).map(lambda n: str(n).encode()))
_CHUNKED = st.lists(st.one_of(st.sampled_from([b"zz", b"-5", b"ffffffffffff", b"", b"0", b"2;ext=1"]),
                              st.integers(min_value=0, max_value=300).map(lambda n: b"%x" % n)), max_size=4)
_HEADER_NAMES = st.sampled_from([b"X-A", b"Content-Type", b"Expect", b"Connection", b"Host",
                                 b"Authorization", b"Range", b"If-Unmodified-Since", b"Bad Name", b""])
_HEADER_VALUES = st.one_of(st.binary(max_size=30).filter(lambda b: b"\n" not in b and b"\r" not in b),
                           st.sampled_from([b"100-continue", b"close", b"keep-alive", b"bytes=0-1",
                                            b"bytes=99999999999999999999-", b"a" * 70_000]))


@st.composite
def _raw_request(draw, token: str) -> bytes:  # type: ignore[no-untyped-def]
    line = draw(_TOKEN) + b" " + draw(_PATHS) + b" " + draw(_VERSIONS)
    headers = [b"Host: x", f"Authorization: Bearer {token}".encode()]
    headers += [n + b": " + v for n, v in draw(st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=4))]
    body = draw(st.binary(max_size=300))
    framing = draw(st.sampled_from(["length", "lengths", "chunked", "both", "none", "many-headers"]))
    if framing in ("length", "both"):
        headers.append(b"Content-Length: " + draw(_LENGTHS))
    if framing == "lengths":
        headers += [b"Content-Length: " + draw(_LENGTHS), b"Content-Length: " + draw(_LENGTHS)]
    if framing in ("chunked", "both"):
        headers.append(b"Transfer-Encoding: " + draw(st.sampled_from([b"chunked", b"gzip", b"chunked, gzip"])))
        body = b"".join(size + b"\r\n" + body[:20] + b"\r\n" for size in draw(_CHUNKED)) + b"0\r\n\r\n"
    if framing == "many-headers":
        headers += [b"X-%d: 1" % i for i in range(draw(st.integers(min_value=90, max_value=120)))]
    return line + b"\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + body


def _first_answer(data: bytes) -> tuple[int, dict[bytes, bytes], bytes] | None:
    while data.startswith(b"HTTP/1.1 100"):  # Expect: 100-continue
        data = data.partition(b"\r\n\r\n")[2]
    if not data:
        return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(b":") for ln in lines[1:])}
    length = int(headers.get(b"content-length", b"0"))
    return status, headers, rest[:length]


@pytest.fixture(scope="module")
def server():
    ws = Workspace()
    with serve(ws, read_timeout=5.0, max_json_bytes=2048, max_upload_bytes=4096) as s:
        s.ws = ws
        yield s
    assert ws.internal_errors == []


def test_raw_framing_always_gets_a_json_answer(server):
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not RANDOM,
              suppress_health_check=list(HealthCheck), print_blob=True)
    @given(_raw_request(server.ws.token))
    def attack(raw: bytes) -> None:
        with socket.create_connection((server.host, server.port), timeout=20) as sock:
            try:
                sock.sendall(raw)
                sock.shutdown(socket.SHUT_WR)  # end of input: nothing is left to wait for
            except OSError:
                pass  # the server may refuse and close before reading everything
            data = b""
            try:
                while True:
                    part = sock.recv(65536)
                    if not part:
                        break
                    data += part
            except ConnectionResetError:
                pass
        answer = _first_answer(data)
        assert answer is not None, f"no answer to {raw[:200]!r}"
        status, headers, body = answer
        # 501/505 are RFC 9112's answers to an unsupported Transfer-Encoding or HTTP version.
        head_request = raw.startswith(b"HEAD ")
        assert status < 500 or (status in (501, 505) and (head_request or b"NOT_IMPLEMENTED" in body)), (
            raw[:200], data[:300])
        assert server.ws.internal_errors == []
        if status >= 400 and body and not head_request:
            if headers.get(b"content-type") != b"application/json":
                assert b"<Code>" in body, (raw[:200], data[:300])  # the pre-signed store (S3 XML)
            else:
                assert json.loads(body)["error_code"], (raw[:200], data[:300])

    attack()
