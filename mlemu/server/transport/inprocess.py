"""In-process transport: ``requests`` calls to an active workspace's host are answered by
its app without a socket (the seam of the ``responses`` library: ``HTTPAdapter.send``).
The clients' own sessions, retries and error handling run unchanged above it.

The adapter's urllib3 ``Retry`` (``max_retries``; mlflow sets one) is honoured the way
urllib3's connection pool does it, so retries on 429/5xx, ``Retry-After`` and backoff sleeps
happen as they would over a socket; a connection a fault drops raises
``requests.exceptions.ConnectionError`` (after the Retry allows no more attempts).

In hermetic mode any other outbound HTTP raises :class:`NetworkAccessBlocked` at once,
except to loopback servers started by mlemu itself and hosts a test allows; below
``requests``, :mod:`mlemu.server.transport.socket_guard` refuses every other socket connection.
"""
from __future__ import annotations

import datetime
import functools
import io
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from urllib3.exceptions import MaxRetryError, ProtocolError, ResponseError
from urllib3.response import HTTPResponse
from urllib3.util.retry import Retry

from mlemu.server.core.faults import ConnectionDropped
from mlemu.server.transport import LowerCaseHeaders, socket_guard

if TYPE_CHECKING:
    from mlemu.server.transport import Answerer as Workspace


class NetworkAccessBlocked(requests.exceptions.RequestException):
    """Raised for outbound HTTP to anything but an emulated workspace (hermetic mode).

    Not a ``ConnectionError``: the clients would retry that for minutes."""


_lock = threading.RLock()
_original_send = HTTPAdapter.send
_hosts: dict[str, "Workspace"] = {}
_hermetic_count = 0
_passthrough: set[str] = set()  # netlocs of mlemu loopback servers
_activation_order: list["Workspace"] = []  # active workspaces, most recently started last
_RETRY_IS_RETRY = Retry.is_retry


def _netloc(url: str) -> str:
    return _netloc_of(urlsplit(url))


def _netloc_of(parts: Any) -> str:
    netloc = parts.netloc.lower()
    if parts.scheme == "https" and netloc.endswith(":443"):
        netloc = netloc[:-4]
    elif parts.scheme == "http" and netloc.endswith(":80"):
        netloc = netloc[:-3]
    return netloc


def activate(ws: "Workspace", hermetic: bool = True, allow_hosts: tuple[str, ...] = ()) -> None:
    """Answer ``ws.host`` in-process; ``hermetic`` blocks other network access (but
    ``allow_hosts``: ``"name"`` or ``"name:port"``)."""
    global _hermetic_count
    with _lock:
        key = _netloc(ws.host)
        other = _hosts.get(key)
        if other is not None and other is not ws:
            raise RuntimeError(f"another active mlemu workspace already answers {ws.host}; "
                               "give the second one another workspace_id or host")
        _hosts[key] = ws
        if ws in _activation_order:
            _activation_order.remove(ws)
        _activation_order.append(ws)
        if hermetic:
            _hermetic_count += 1
            ws.__dict__.setdefault("_hermetic_activations", [])
            ws.__dict__["_hermetic_activations"].append(tuple(allow_hosts))
            socket_guard.enable(allow_hosts)
        HTTPAdapter.send = _send  # type: ignore[method-assign]


def deactivate(ws: "Workspace") -> None:
    global _hermetic_count
    with _lock:
        key = _netloc(ws.host)
        if _hosts.get(key) is ws:
            del _hosts[key]
        if ws in _activation_order:
            _activation_order.remove(ws)
        activations = ws.__dict__.get("_hermetic_activations") or []
        if activations:
            _hermetic_count -= len(activations)
            for allowed in activations:
                socket_guard.disable(allowed)
            ws.__dict__["_hermetic_activations"] = []
        if not _hosts and _hermetic_count <= 0:
            _hermetic_count = 0
            HTTPAdapter.send = _original_send  # type: ignore[method-assign]


def current() -> "Workspace | None":
    """The most recently started workspace that is still active (``emulate()``, the fixture,
    ``ws.start()``), or None. For Python-level emulations with no HTTP seam (the feature
    engineering client), which act on "the workspace the code runs in"."""
    with _lock:
        return _activation_order[-1] if _activation_order else None


def is_active(ws: "Workspace") -> bool:
    """Whether ``ws`` answers in-process now (started and not stopped)."""
    with _lock:
        return ws in _activation_order


def allow(netloc: str) -> None:
    """Let hermetic mode pass requests to ``netloc`` through (mlemu's own servers)."""
    _passthrough.add(netloc.lower())
    socket_guard.allow_server(netloc)


def disallow(netloc: str) -> None:
    _passthrough.discard(netloc.lower())
    socket_guard.disallow_server(netloc)


def _allowed_by_test(url: str) -> bool:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    return parts.hostname is not None and socket_guard.allows(parts.hostname, port)


def _read_body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode() if isinstance(data, str) else data
    return b"".join(c.encode() if isinstance(c, str) else c for c in body)


def _send(adapter: HTTPAdapter, request: requests.PreparedRequest, stream: bool = False,
          timeout: Any = None, verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
    url = request.url or ""
    netloc, path, query, base_url = _target(url)
    ws = _hosts.get(netloc)
    if ws is None:
        if _hermetic_count > 0 and netloc not in _passthrough and not _allowed_by_test(url):
            raise NetworkAccessBlocked(
                f"network access blocked by mlemu: {request.method} {url} "
                f"(only emulated workspaces answer in hermetic mode: {sorted(_hosts)})",
                request=request)
        return _original_send(adapter, request, stream=stream, timeout=timeout, verify=verify,
                              cert=cert, proxies=proxies)
    headers = _lowered(request.headers)
    method = request.method or "GET"
    payload = _read_body(request.body)
    retries = adapter.max_retries
    if retries.__class__ is not Retry and not isinstance(retries, Retry):
        retries = Retry.from_int(retries)
    while True:  # urllib3's HTTPConnectionPool.urlopen retry loop, without a socket
        try:
            status, out_headers, body = ws.handle(
                method, path, query, headers, payload, base_url, raise_internal=True)
        except ConnectionDropped as e:
            error = ProtocolError("Connection aborted.", ConnectionResetError(104, str(e)))
            try:
                retries = retries.increment(method, url, error=error)
            except ProtocolError as err:
                raise requests.exceptions.ConnectionError(err, request=request) from None
            except MaxRetryError as err:
                raise requests.exceptions.ConnectionError(err, request=request) from None
            retries.sleep()
            continue
        # Retry reads Retry-After only for 413/429/503 (urllib3's RETRY_AFTER_STATUS_CODES).
        has_retry_after = status in retries.RETRY_AFTER_STATUS_CODES and any(
            k.lower() == "retry-after" and v for k, v in out_headers.items())
        if not has_retry_after and retries.__class__.is_retry is _RETRY_IS_RETRY:
            # urllib3's own is_retry is False then, unless the status is in status_forcelist:
            # most answers skip the call.
            forcelist = retries.status_forcelist
            if not (forcelist and status in forcelist):
                break
        if not retries.is_retry(method, status, has_retry_after):
            break
        raw = HTTPResponse(body=io.BytesIO(body), headers=out_headers, status=status,
                           preload_content=False, request_method=method, request_url=url)
        try:
            retries = retries.increment(method, url, response=raw)
        except MaxRetryError as err:
            if retries.raise_on_status:
                if isinstance(err.reason, ResponseError):
                    raise requests.exceptions.RetryError(err, request=request) from None
                raise requests.exceptions.ConnectionError(err, request=request) from None
            break
        retries.sleep(raw)
    return _build_response(adapter, request, status, out_headers, body, stream)


@functools.lru_cache(maxsize=1024)
def _target(url: str) -> tuple[str, str, str, str]:
    """(netloc as hosts are keyed, path, query string, scheme://netloc) of a URL. Cached: a
    flow sends the same URLs again and again (every probe, every ``log-metric``)."""
    parts = urlsplit(url)
    return _netloc_of(parts), parts.path or "/", parts.query, f"{parts.scheme}://{parts.netloc}"


def _lowered(headers: Any) -> LowerCaseHeaders:
    """The request's headers with lower-case names. ``requests`` keeps them in a
    ``CaseInsensitiveDict``, whose lower-cased index is read directly (``items`` goes through
    the ``Mapping`` mix-in, a method call per header; ``lower_items`` through a generator)."""
    if headers.__class__ is CaseInsensitiveDict:  # its index: lower-cased name -> (name, value)
        return LowerCaseHeaders({k: kv[1] for k, kv in headers._store.items()})
    return LowerCaseHeaders((k.lower(), v) for k, v in headers.items())


_REASONS = {200: "OK", 204: "No Content", 206: "Partial Content", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}


def _response_template() -> dict[str, Any] | None:
    """What ``requests.Response()`` sets, to copy into each answer without running its
    ``__init__`` (a cookie jar made through ``cookiejar_from_dict``, an empty
    ``CaseInsensitiveDict`` replaced at once): the values are immutable but for
    :data:`_FRESH`, which each answer gets new. None (so ``Response()`` is called) if a
    ``requests`` version sets anything else that could be shared by mistake."""
    template = dict(requests.Response().__dict__)
    for name in _FRESH:
        template.pop(name, None)
    immutable = (type(None), bool, int, float, str, bytes, datetime.timedelta)
    if not all(isinstance(v, immutable) for v in template.values()):
        return None
    return template


#: Response attributes each answer gets new: the lists and the jar are mutable, the headers are set.
_FRESH = ("headers", "history", "cookies")
_TEMPLATE = _response_template()


def _new_response() -> requests.Response:
    if _TEMPLATE is None:
        return requests.Response()
    resp = requests.Response.__new__(requests.Response)
    attrs = resp.__dict__
    attrs.update(_TEMPLATE)
    attrs["history"] = []
    attrs["cookies"] = RequestsCookieJar()  # what cookiejar_from_dict({}) returns, made directly
    return resp


def _build_response(adapter: HTTPAdapter, request: requests.PreparedRequest, status: int,
                    headers: dict[str, str], body: bytes, stream: bool = False) -> requests.Response:
    resp = _new_response()
    resp.status_code = status
    resp.reason = _REASONS.get(status, "")
    # CaseInsensitiveDict(headers) sets them one by one through the MutableMapping mix-in; its
    # index (lower-cased name -> (name, value)) is filled directly, with the same entries.
    store: OrderedDict[str, tuple[str, str]] = OrderedDict()
    for k, v in headers.items():
        store[k.lower()] = (k, v)
    if request.method != "HEAD" or "content-length" not in store:
        store["content-length"] = ("content-length", str(len(body)))
    h: CaseInsensitiveDict = CaseInsensitiveDict.__new__(CaseInsensitiveDict)
    h._store = store
    resp.headers = h
    resp.raw = io.BytesIO(body)
    if not stream:  # what Session.send would read at once: the bytes themselves, no chunked copy
        resp._content = body
        resp._content_consumed = True
    resp.url = request.url or ""
    resp.request = request
    resp.connection = adapter
    content_type = store.get("content-type")
    resp.encoding = _encoding(content_type[1]) if content_type is not None else None
    return resp


@functools.lru_cache(maxsize=64)
def _encoding(content_type: str | None) -> str | None:
    """What ``requests`` derives from a content type (parsed once per distinct value: every
    JSON answer has the same one)."""
    return get_encoding_from_headers({"content-type": content_type}) if content_type else None
