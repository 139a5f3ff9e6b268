"""The UI front: an answerer (what the loopback server calls) in front of a workspace that
adds what a browser needs and leaves every data call to the workspace's app.

* ``GET /``: ``index.html``; ``GET /?token=<token>``: the login hop. It sets the cookie
  ``mlflow-request-header-Authorization=Bearer <token>``, which the UI's bundle turns into an
  ``Authorization`` header on every data call, GraphQL query and download, then redirects
  to ``/``. The page and its static files carry no data and need no token; every data call
  is checked by the app as any API call is. The cookie lives :data:`SESSION_LIFETIME_S`; HTML
  pages carry :data:`PAGE_HEADERS` (a Content-Security-Policy the bundle works under).
* ``GET /static-files/<path>``: the bundle's files.
* ``/ajax-api/<rest>``: the UI-only routes of :mod:`mlemu.server.services.ui` when one matches,
  otherwise the REST route ``/api/<rest>`` (mlflow's server answers its REST API under both
  prefixes). Unknown paths get the app's JSON 404.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote

from mlemu.server.core.errors import ApiError
from mlemu.server.wire.app import dumps

if TYPE_CHECKING:
    from mlemu.workspace import Workspace

Answer = tuple[int, dict[str, str], bytes]

#: The cookie the UI's bundle turns into the ``Authorization`` request header.
AUTH_COOKIE = "mlflow-request-header-Authorization"
#: Seconds the login cookie lives (a working day); the ``?token=`` link logs in again. The
#: UI's JavaScript reads the cookie, so it cannot be HttpOnly: a bounded life limits a leak.
SESSION_LIFETIME_S = 8 * 3600
#: The policy of every HTML page: scripts, styles, data and frames from this server only, and
#: framed only by itself. What the mlflow bundle needs decides the exceptions: its CSS-in-JS
#: writes inline styles ('unsafe-inline' styles), its chart libraries compile functions
#: (``new Function``: 'unsafe-eval'), the trace renderer is a same-origin iframe, and images
#: and workers come from ``data:``/``blob:`` URLs. No inline script is allowed (the page has none).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self' 'unsafe-eval'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:", "font-src 'self' data:", "connect-src 'self'",
    "worker-src 'self' blob:", "frame-src 'self'", "object-src 'none'", "base-uri 'self'",
    "form-action 'self'", "frame-ancestors 'self'"))
#: Headers of every HTML page (older browsers read X-Frame-Options, newer frame-ancestors).
PAGE_HEADERS = {"content-security-policy": CONTENT_SECURITY_POLICY, "x-frame-options": "SAMEORIGIN",
                "x-content-type-options": "nosniff", "referrer-policy": "same-origin"}
_AJAX = "/ajax-api/"


class UiFront:
    """Answers for one workspace with its UI in front."""

    def __init__(self, workspace: "Workspace", build: Path) -> None:
        self.workspace = workspace
        self.build = build.resolve()

    @property
    def host(self) -> str:
        return self.workspace.host

    def handle(self, method: str, path: str, query_string: str = "",
               headers: dict[str, str] | None = None, body: bytes = b"",
               base_url: str | None = None, raise_internal: bool = False) -> Answer:
        method = method.upper()
        if method in ("GET", "HEAD"):
            if path in ("/", "/index.html"):
                token = parse_qs(query_string).get("token")
                return self._login(token[0]) if token else self._file("index.html", method)
            if path.startswith("/static-files/"):
                return self._file(path[len("/static-files/"):], method)
        if path.startswith(_AJAX) and not self._has_route(method, path):
            rest = "/api/" + path[len(_AJAX):]
            if self._has_route(method, rest):  # else the 404 names the path the UI asked for
                path = rest
        return self.workspace.handle(method, path, query_string, headers, body, base_url, raise_internal)

    # -- helpers ---------------------------------------------------------------------------
    def _has_route(self, method: str, path: str) -> bool:
        try:
            self.workspace.app.match(method, path)
            return True
        except ApiError:
            return False

    def _login(self, token: str) -> Answer:
        try:
            self.workspace.authenticate(f"Bearer {token}")
        except ApiError as e:
            return _error(e)
        cookie = (f"{AUTH_COOKIE}={quote('Bearer ' + token)}; Path=/; SameSite=Strict; "
                  f"Max-Age={SESSION_LIFETIME_S}")
        return 302, {"location": "/", "set-cookie": cookie, "cache-control": "no-store",
                     "content-type": "text/plain"}, b"Logged in; continue at /\n"

    def _file(self, relative: str, method: str) -> Answer:
        target = (self.build / relative).resolve()
        if not target.is_relative_to(self.build) or not target.is_file():
            return _error(ApiError("ENDPOINT_NOT_FOUND", f"No UI file '{relative}'.", 404))
        data = target.read_bytes()
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
            ctype += "; charset=utf-8"
        # index.html names the hashed bundle files: it must not be cached across mlflow versions.
        cache = "no-cache" if target.name == "index.html" else "public, max-age=3600"
        headers = {"content-type": ctype, "cache-control": cache, "content-length": str(len(data))}
        if ctype.startswith("text/html"):
            headers.update(PAGE_HEADERS)
        return 200, headers, b"" if method == "HEAD" else data


def _error(e: ApiError) -> Answer:
    return e.status, {"content-type": "application/json", **e.headers}, dumps(e.to_wire())
