"""Loopback HTTP transport: the same app behind a small threaded HTTP/1.1 server, for
subprocesses and non-Python clients (``mlemu serve``).

Each response goes out in one ``sendall`` on a ``TCP_NODELAY`` socket: a server that writes
headers and body separately stalls ~40 ms per keep-alive call (Nagle + delayed ACK).

A fault rule with ``drop=True`` (:mod:`mlemu.server.core.faults`) closes the socket without an
answer. Otherwise hostile or broken clients get a JSON error, never a dropped connection or
an HTML page:
malformed framing (``Content-Length`` that is not one decimal number, bad chunk sizes, both
``Content-Length`` and ``Transfer-Encoding``) is a 400 ``BAD_REQUEST``; a body over the limit
(:data:`MAX_JSON_BODY_BYTES` for the REST APIs, :data:`MAX_UPLOAD_BODY_BYTES` for raw file
uploads) is a 413 and is never read; a request line over 64 KiB is a 414, oversized headers a
431. Every socket read has a timeout (:data:`READ_TIMEOUT_S`, also the keep-alive idle
timeout), and a request must have arrived whole within :data:`REQUEST_DEADLINE_S` of the
wait for it starting (a client trickling bytes is cut off), so slow or silent clients give
their thread back; the listen backlog is 128.
"""
from __future__ import annotations

import ipaddress
import json
import re
import socket
import threading
import time
import warnings
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mlemu.server.core.faults import ConnectionDropped

if TYPE_CHECKING:
    from mlemu.server.transport import Answerer as Workspace

#: Largest JSON request body read (Databricks documents 1 MB for log-batch and DBFS put; a
#: workspace front end refuses far larger REST bodies). Bigger bodies get a 413 unread.
MAX_JSON_BODY_BYTES = 16 * 1024 * 1024
#: Largest raw upload (``PUT /api/2.0/fs/files/...`` and pre-signed PUTs), held in memory.
MAX_UPLOAD_BODY_BYTES = 1024 * 1024 * 1024
#: Seconds a socket read (request line, headers, body, or the wait for the next keep-alive
#: request) may take before the connection is closed.
READ_TIMEOUT_S = 30.0
#: Seconds from the start of the wait for a request until its head and body must have arrived.
REQUEST_DEADLINE_S = 120.0
#: Pending connections the kernel queues before refusing (200 simultaneous clients with a
#: backlog of 5 saw 23-104 connect timeouts).
LISTEN_BACKLOG = 128

_RAW_UPLOAD_PREFIXES = ("/api/2.0/fs/files/", "/presigned/")
_DECIMAL = re.compile(r"[0-9]{1,19}")
_HEX = re.compile(rb"[0-9a-fA-F]{1,16}")
_BLOCK = 64 * 1024


class _Refused(Exception):
    """A request refused before it reaches the app (framing, size)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _bad(message: str) -> _Refused:
    return _Refused(400, "BAD_REQUEST", message)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def setup(self) -> None:
        self.timeout = self.server.read_timeout  # StreamRequestHandler applies it to the socket
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass

    def handle_one_request(self) -> None:
        self.server.watch(self)
        try:
            super().handle_one_request()
        finally:
            self.server.unwatch(self)

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the app (which answers unknown ones with a JSON 404), instead
        # of the stdlib's HTML 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    # -- errors ----------------------------------------------------------------------------
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's errors (bad request line, 414, 431, ...) as Databricks-style JSON."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = ""
        error_code = ("BAD_REQUEST" if 400 <= code < 500
                      else "NOT_IMPLEMENTED" if code in (501, 505) else "INTERNAL_ERROR")
        self._send_json_error(code, error_code, message or phrase)

    def _send_json_error(self, status: int, error_code: str, message: str) -> None:
        body = json.dumps({"error_code": error_code, "message": message}).encode()
        self.close_connection = True  # the rest of the stream cannot be trusted
        self._write(status, {"content-type": "application/json", "connection": "close"}, body)

    # -- body ------------------------------------------------------------------------------
    def _limit(self, path: str) -> int:
        if path.startswith(_RAW_UPLOAD_PREFIXES):
            return self.server.max_upload_bytes
        return self.server.max_json_bytes

    def _read_body(self, limit: int) -> bytes:
        lengths = self.headers.get_all("content-length") or []
        chunked = (self.headers.get("transfer-encoding") or "").strip().lower()
        if chunked and lengths:
            raise _bad("A request may not carry both Content-Length and Transfer-Encoding.")
        if chunked:
            if chunked != "chunked":
                raise _Refused(501, "NOT_IMPLEMENTED", f"Unsupported Transfer-Encoding: {chunked}")
            return self._read_chunked(limit)
        if not lengths:
            return b""
        values = {v.strip() for v in ",".join(lengths).split(",")}
        if len(values) != 1 or not _DECIMAL.fullmatch(next(iter(values))):
            raise _bad(f"Invalid Content-Length header: {', '.join(lengths)!r}")
        length = int(next(iter(values)))
        if length > limit:
            raise _Refused(413, "BAD_REQUEST",
                           f"The request body of {length} bytes exceeds the limit of {limit} bytes.")
        return self._read_exactly(length)

    def _read_exactly(self, length: int) -> bytes:
        data = self.rfile.read(length) if length else b""
        if len(data) != length:
            raise _bad("The request body ended before Content-Length bytes were received.")
        return data

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            size_text = line.split(b";")[0].strip()
            if not line.endswith(b"\n") or not _HEX.fullmatch(size_text):
                raise _bad(f"Invalid chunk size: {size_text[:40]!r}")
            size = int(size_text, 16)
            if size == 0:
                for _ in range(100):  # trailers, up to the blank line
                    if self.rfile.readline(65537) in (b"\r\n", b"\n", b""):
                        break
                else:
                    raise _bad("Too many trailer lines.")
                return b"".join(chunks)
            total += size
            if total > limit:
                raise _Refused(413, "BAD_REQUEST",
                               f"The request body exceeds the limit of {limit} bytes.")
            chunks.append(self._read_exactly(size))
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _bad("A chunk is not followed by CRLF.")

    # -- dispatch --------------------------------------------------------------------------
    def _serve(self) -> None:
        ws = self.server.workspace
        parts = urlsplit(self.path)
        path = parts.path or "/"
        try:
            body = self._read_body(self._limit(path))
        except _Refused as e:
            self._send_json_error(e.status, e.code, e.message)
            return
        finally:
            self.server.unwatch(self)  # the request has arrived: answering it has no deadline
        headers: dict[str, str] = {}
        for k, v in self.headers.items():  # a repeated header is one comma-joined value (RFC 9110)
            k = k.lower()
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        # Pre-signed URLs are built from the server's own address, never the Host header.
        try:
            status, out_headers, out = ws.handle(self.command, path, parts.query, headers, body,
                                                 self.server.public_url)
        except ConnectionDropped:  # a fault rule: close the socket without an answer
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._write(status, out_headers, out)

    def _write(self, status: int, out_headers: dict[str, str], out: bytes) -> None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{k}: {v}" for k, v in out_headers.items() if k.lower() != "content-length"]
        length = out_headers.get("content-length") if self.command == "HEAD" else None
        lines.append(f"content-length: {length if length is not None else len(out)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # HEAD answers carry the length of what GET would send, and no body.
        self.wfile.write(head if self.command == "HEAD" else head + out)
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], workspace: "Workspace", *, read_timeout: float,
                 max_json_bytes: int, max_upload_bytes: int,
                 request_deadline: float = REQUEST_DEADLINE_S) -> None:
        self.workspace = workspace
        self.read_timeout = read_timeout
        self.request_deadline = request_deadline
        self._reading: dict[_Handler, float] = {}  # handler -> when its request must have arrived
        self._reading_lock = threading.Lock()
        self._closed = threading.Event()
        self._reaper: threading.Thread | None = None
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes
        super().__init__(address, _Handler)
        host, port = self.server_address[:2]
        self.netloc = f"{host}:{port}"
        self.public_url = f"http://{self.netloc}"

    # -- the request deadline --------------------------------------------------------------
    def watch(self, handler: _Handler) -> None:
        with self._reading_lock:
            self._reading[handler] = time.monotonic() + self.request_deadline
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap, name="mlemu-deadline", daemon=True)
                self._reaper.start()

    def unwatch(self, handler: _Handler) -> None:
        with self._reading_lock:
            self._reading.pop(handler, None)

    def _reap(self) -> None:
        """Cut off connections whose request did not arrive in time (the blocked read ends)."""
        tick = min(1.0, self.request_deadline / 4)
        while not self._closed.wait(tick):
            now = time.monotonic()
            with self._reading_lock:
                late = [h for h, deadline in self._reading.items() if deadline <= now]
                for h in late:
                    del self._reading[h]
            for h in late:
                h.close_connection = True
                try:
                    h.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def server_close(self) -> None:
        self._closed.set()
        super().server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished mid-request is not news; anything else is an mlemu bug
        # the app already journals (it answers 500 JSON), so stay quiet either way.
        pass


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class LoopbackServer:
    """A running server for one workspace. ``url`` is what ``DATABRICKS_HOST`` should be.

    ``public_url`` is the address clients reach it at, used in pre-signed URLs (default:
    ``url``; give it when serving on ``0.0.0.0`` behind another name)."""

    def __init__(self, workspace: "Workspace", host: str = "127.0.0.1", port: int = 0, *,
                 public_url: str | None = None, read_timeout: float = READ_TIMEOUT_S,
                 request_deadline: float = REQUEST_DEADLINE_S,
                 max_json_bytes: int = MAX_JSON_BODY_BYTES,
                 max_upload_bytes: int = MAX_UPLOAD_BODY_BYTES) -> None:
        if not is_loopback(host):
            warnings.warn(f"mlemu is serving on {host!r}, which is not a loopback interface: other "
                          "machines can reach this emulated workspace; anyone with its token can "
                          "use it", RuntimeWarning, stacklevel=2)
        self.workspace = workspace
        self._server = _Server((host, port), workspace, read_timeout=read_timeout,
                               max_json_bytes=max_json_bytes, max_upload_bytes=max_upload_bytes,
                               request_deadline=request_deadline)
        self.host, self.port = self._server.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self._server.public_url = (public_url or self.url).rstrip("/")
        self._thread: threading.Thread | None = None

    @property
    def public_url(self) -> str:
        return self._server.public_url

    @property
    def env(self) -> dict[str, str]:
        """``DATABRICKS_HOST`` and ``DATABRICKS_TOKEN`` for a client in another process."""
        return {"DATABRICKS_HOST": self.public_url, "DATABRICKS_TOKEN": self.workspace.token}

    def start(self) -> "LoopbackServer":
        from mlemu.server.transport import inprocess
        inprocess.allow(f"{self.host}:{self.port}")
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"mlemu-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI)."""
        self._server.serve_forever()

    def stop(self) -> None:
        from mlemu.server.transport import inprocess
        self._server.shutdown()
        self._server.server_close()
        inprocess.disallow(f"{self.host}:{self.port}")
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "LoopbackServer":
        return self if self._thread else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(workspace: "Workspace", host: str = "127.0.0.1", port: int = 0, **options: Any) -> LoopbackServer:
    """Start a loopback server for ``workspace`` in a daemon thread and return it."""
    return LoopbackServer(workspace, host, port, **options).start()
