"""Loopback HTTP transport: the same app behind a small threaded HTTP/1.1 server, for
subprocesses and non-Python clients (``mlemu serve``).

Each response goes out in one ``sendall`` on a ``TCP_NODELAY`` socket: a server that writes
headers and body separately stalls ~40 ms per keep-alive call (Nagle + delayed ACK).
"""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from mlemu.transport import Answerer as Workspace


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        ws = self.server.workspace
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        body = self._read_body()
        base_url = f"http://{headers.get('host') or self.server.netloc}"
        status, out_headers, out = ws.handle(self.command, parts.path or "/", parts.query,
                                             headers, body, base_url)
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

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], workspace: "Workspace") -> None:
        self.workspace = workspace
        super().__init__(address, _Handler)
        host, port = self.server_address[:2]
        self.netloc = f"{host}:{port}"


class LoopbackServer:
    """A running server for one workspace. ``url`` is what ``DATABRICKS_HOST`` should be."""

    def __init__(self, workspace: "Workspace", host: str = "127.0.0.1", port: int = 0) -> None:
        self.workspace = workspace
        self._server = _Server((host, port), workspace)
        self.host, self.port = self._server.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> "LoopbackServer":
        from mlemu.transport import inprocess
        inprocess.allow(f"{self.host}:{self.port}")
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"mlemu-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI)."""
        self._server.serve_forever()

    def stop(self) -> None:
        from mlemu.transport import inprocess
        self._server.shutdown()
        self._server.server_close()
        inprocess.disallow(f"{self.host}:{self.port}")
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "LoopbackServer":
        return self if self._thread else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(workspace: "Workspace", host: str = "127.0.0.1", port: int = 0) -> LoopbackServer:
    """Start a loopback server for ``workspace`` in a daemon thread and return it."""
    return LoopbackServer(workspace, host, port).start()
