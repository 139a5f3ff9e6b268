"""The socket-level leak guard (issue 8, defect 10): in hermetic mode every outbound
connection, whatever library makes it, is refused with mlemu's message, except to the
emulated workspace (no socket at all), mlemu's own loopback servers and allowed hosts.

The "outside world" here is a listener this test opens itself on 127.0.0.1: without the
guard every client below reaches it (nothing leaves the machine, and nothing hangs)."""
from __future__ import annotations

import asyncio
import http.client
import socket
import sys
import threading
import urllib.request

import pytest
import requests

from mlemu import Workspace, emulate, serve
from mlemu.server.transport.inprocess import NetworkAccessBlocked
from mlemu import SocketAccessBlocked

BLOCKED = "network access blocked by mlemu"
#: A reference taken before any guard is installed (issue 17, defect 12).
SAVED_CONNECT = socket.socket.connect


@pytest.fixture
def outside():
    """A plain HTTP listener not started by mlemu; yields its port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def answer() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nleaked!")
                except OSError:
                    pass

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    yield listener.getsockname()[1]
    stop.set()
    t.join(timeout=5)
    listener.close()


def _clients(port: int):
    url = f"http://127.0.0.1:{port}/x"

    def raw_socket():
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            return s.recv(100)

    def connect_ex():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port))

    def stdlib_urllib():
        return urllib.request.urlopen(url, timeout=5).read()

    def stdlib_http_client():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/x")
        return c.getresponse().read()

    def urllib3_pool():
        import urllib3
        return urllib3.PoolManager(retries=False).request("GET", url, timeout=5).data

    def asyncio_stream():
        async def go():
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            data = await reader.read(100)
            writer.close()
            return data
        return asyncio.run(go())

    def aiohttp_session():
        aiohttp = pytest.importorskip("aiohttp")

        async def go():
            async with aiohttp.ClientSession() as session:
                async with session.get(url) as r:
                    return await r.read()
        return asyncio.run(go())

    def httpx_sync():
        httpx = pytest.importorskip("httpx")
        return httpx.get(url).content

    def httpx_async():
        httpx = pytest.importorskip("httpx")

        async def go():
            async with httpx.AsyncClient() as client:
                return (await client.get(url)).content
        return asyncio.run(go())

    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

    def c_socket():  # the C type under socket.socket: its methods cannot be replaced
        import _socket
        s = _socket.socket()
        try:
            s.settimeout(5)
            s.connect(("127.0.0.1", port))
            s.sendall(request)
            return s.recv(100)
        finally:
            s.close()

    def saved_connect():
        with socket.socket() as s:
            s.settimeout(5)
            SAVED_CONNECT(s, ("127.0.0.1", port))
            s.sendall(request)
            return s.recv(100)

    def fastopen_sendto():  # TCP Fast Open: the connection is opened by sendto, no connect()
        with socket.socket() as s:
            s.sendto(request, socket.MSG_FASTOPEN, ("127.0.0.1", port))  # blocking: a timeout would make it EINPROGRESS
            s.settimeout(5)
            return s.recv(100)

    def fastopen_sendmsg():
        with socket.socket() as s:
            s.sendmsg([request], [], socket.MSG_FASTOPEN, ("127.0.0.1", port))  # blocking: a timeout would make it EINPROGRESS
            s.settimeout(5)
            return s.recv(100)

    return {f.__name__: f for f in (raw_socket, connect_ex, stdlib_urllib, stdlib_http_client, urllib3_pool,
                                    asyncio_stream, aiohttp_session, httpx_sync, httpx_async, c_socket,
                                    saved_connect, fastopen_sendto, fastopen_sendmsg)}


CLIENTS = ["raw_socket", "connect_ex", "stdlib_urllib", "stdlib_http_client", "urllib3_pool",
           "asyncio_stream", "aiohttp_session", "httpx_sync", "httpx_async", "c_socket", "saved_connect",
           "fastopen_sendto", "fastopen_sendmsg"]
#: Ways around ``socket.socket.connect`` that only the audit hook sees (issue 17, defect 12).
AROUND = ["c_socket", "saved_connect", "fastopen_sendto", "fastopen_sendmsg"]


def _blocked_error(exc: BaseException | None) -> BaseException | None:
    """The guard's error, as raised or as wrapped by the client library (chained, or in an
    exception group as anyio's happy eyeballs raise it)."""
    while exc is not None:
        if isinstance(exc, SocketAccessBlocked) or BLOCKED in str(exc):
            return exc
        for inner in getattr(exc, "exceptions", ()):
            found = _blocked_error(inner)
            if found is not None:
                return found
        exc = exc.__cause__ or exc.__context__
    return None


@pytest.mark.parametrize("client", CLIENTS)
def test_every_client_library_is_blocked_in_hermetic_mode(mlemu, outside, client):
    for library in ("httpx", "aiohttp"):
        if client.startswith(library):
            pytest.importorskip(library, reason=f"{library} is not installed")
    call = _clients(outside)[client]
    with pytest.raises(BaseException) as e:
        call()
    blocked = _blocked_error(e.value)
    assert blocked is not None, repr(e.value)
    assert f"127.0.0.1:{outside}" in str(blocked)


def _fastopen_works() -> bool:
    try:
        with open("/proc/sys/net/ipv4/tcp_fastopen") as fh:
            return bool(int(fh.read()) & 1) and hasattr(socket, "MSG_FASTOPEN")
    except (OSError, ValueError):
        return False


@pytest.mark.parametrize("client", ["raw_socket", "stdlib_http_client", "urllib3_pool", *AROUND])
def test_clients_reach_the_network_outside_hermetic_mode(outside, client):
    if client.startswith("fastopen") and not _fastopen_works():
        pytest.skip("TCP Fast Open (client side) is off on this machine")
    assert b"leaked!" in _clients(outside)[client]()
    with emulate(hermetic=False):
        assert b"leaked!" in _clients(outside)[client]()


def test_unconnected_udp_sendto_is_blocked(mlemu, outside):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        with pytest.raises(SocketAccessBlocked, match=f"127.0.0.1:{outside}"):
            s.sendto(b"leak", ("127.0.0.1", outside))
        with pytest.raises(SocketAccessBlocked):
            s.sendmsg([b"leak"], [], 0, ("127.0.0.1", outside))


def _libc_connect(fn, sock: socket.socket, port: int) -> int:
    import ctypes

    class SockaddrIn(ctypes.Structure):
        _fields_ = [("family", ctypes.c_ushort), ("port", ctypes.c_uint16),
                    ("addr", ctypes.c_uint8 * 4), ("zero", ctypes.c_uint8 * 8)]
    address = SockaddrIn(socket.AF_INET, socket.htons(port), (ctypes.c_uint8 * 4)(127, 0, 0, 1))
    return fn(sock.fileno(), ctypes.byref(address), ctypes.sizeof(address))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libc connect() through ctypes: Linux layout")
def test_libc_connect_through_ctypes(outside):
    import ctypes

    with emulate():
        with pytest.raises(SocketAccessBlocked, match=r"connect\(\) through ctypes"):
            ctypes.CDLL(None).connect
        with pytest.raises(SocketAccessBlocked, match="sendto"):
            ctypes.CDLL(None)["sendto"]
    # Outside hermetic mode the same call connects: the lookup above is what the guard refuses.
    with socket.socket() as s:
        assert _libc_connect(ctypes.CDLL(None).connect, s, outside) == 0
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"leaked!" in s.recv(100)


def test_allowed_hosts_pass_by_name_and_port(outside):
    with emulate(allow_hosts=[f"localhost:{outside}"]):
        assert b"leaked!" in _clients(outside)["raw_socket"]()
        assert requests.get(f"http://127.0.0.1:{outside}/x").content == b"leaked!"
    with emulate(allow_hosts=[f"localhost:{outside + 1}"]):  # another port of the same host
        with pytest.raises(SocketAccessBlocked):
            _clients(outside)["raw_socket"]()
    with emulate(allow_hosts=["127.0.0.1"]):  # any port
        assert b"leaked!" in _clients(outside)["urllib3_pool"]()


def test_marker_allows_named_hosts(request, outside):
    request.node.add_marker(pytest.mark.mlemu(allow_hosts=[f"127.0.0.1:{outside}"]))
    ws = request.getfixturevalue("mlemu")
    assert b"leaked!" in _clients(outside)["stdlib_http_client"]()
    assert ws.calls.operations() == []


def test_requests_keeps_its_own_clear_error(mlemu, outside):
    with pytest.raises(NetworkAccessBlocked, match=BLOCKED):
        requests.get(f"http://127.0.0.1:{outside}/x")


def test_mlemu_servers_and_the_in_process_workspace_still_answer(mlemu, mlemu_server):
    import urllib3
    from databricks.sdk import WorkspaceClient

    me = WorkspaceClient().current_user.me()  # over the loopback server
    assert me.user_name == "user@company.com"
    r = urllib3.PoolManager().request("GET", f"{mlemu_server.url}/.well-known/databricks-config")
    assert r.status == 200
    other = Workspace(workspace_id="42")
    with serve(other) as s:  # a second mlemu server started inside the hermetic test
        assert requests.get(f"{s.url}/.well-known/databricks-config").status_code == 200
    with pytest.raises(SocketAccessBlocked):  # its port is closed to the guard once stopped
        socket.create_connection((s.host, s.port), timeout=2)


def test_guard_is_removed_when_the_workspace_stops(outside):
    with emulate():
        with pytest.raises(SocketAccessBlocked):
            _clients(outside)["raw_socket"]()
    assert b"leaked!" in _clients(outside)["raw_socket"]()
    assert socket.socket.connect.__name__ == "connect"


def test_unix_sockets_stay_allowed(mlemu, tmp_path):
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no unix sockets on this platform")
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen(1)
        client.connect(path)
