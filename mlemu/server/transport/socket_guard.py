"""Hermetic mode below ``requests``: while a hermetic workspace is active, ``connect()`` on any
socket (what urllib, ``http.client``, urllib3, httpx, aiohttp, asyncio and raw sockets all
end in) raises :class:`SocketAccessBlocked`, unless the address is a loopback server mlemu
started or a host the test allowed (``@pytest.mark.mlemu(allow_hosts=[...])``). The
approach of pytest-socket: ``socket.socket.connect``/``connect_ex`` are replaced.

Replacing methods misses code that goes around them: ``_socket.socket`` (the C type, which
cannot be patched), a ``socket.socket.connect`` reference saved before the guard, and
``sendto``/``sendmsg`` with an address (TCP Fast Open's ``MSG_FASTOPEN`` connects that way).
So an audit hook (:func:`sys.addaudithook`, installed once, inert while no hermetic workspace
is active) refuses the interpreter's own ``socket.connect``, ``socket.sendto`` and
``socket.sendmsg`` events to any address the guard would refuse, and refuses looking up the C
library's ``connect``/``sendto``/``sendmsg``/``sendmmsg`` through ctypes (``ctypes.dlsym``).
What no Python hook sees (a ctypes function pointer taken before the guard, C extensions that
call ``connect(2)`` themselves, child processes) is listed in docs/reliability.md.

Unix-domain sockets stay allowed (local IPC: multiprocessing, pytest-xdist). DNS lookups
(``getaddrinfo``) are not intercepted.
"""
from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from collections import Counter
from typing import Any, Iterable

_lock = threading.RLock()
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_original_getaddrinfo = socket.getaddrinfo
_active = 0
_servers: set[tuple[str, int]] = set()        # (ip, port) of mlemu's own loopback servers
_allowed: Counter[str] = Counter()            # allow_hosts entries of the active workspaces
_resolved: dict[str, frozenset[str]] = {}     # allowed name -> its addresses
_hooked = False                               # the audit hook is installed (it cannot be removed)
#: C functions that open a connection or send to an address: refused to ctypes lookups.
_C_NETWORK = frozenset({"connect", "sendto", "sendmsg", "sendmmsg"})


class SocketAccessBlocked(RuntimeError):
    """Raised for an outbound connection in hermetic mode.

    Not an ``OSError``: connection helpers (``socket.create_connection``, urllib3, httpx)
    would catch that and try again, or wrap it into an error the clients retry for minutes."""


def enable(allow_hosts: Iterable[str] = ()) -> None:
    """One more hermetic activation (allowing ``allow_hosts``: ``"name"`` or ``"name:port"``)."""
    global _active
    global _hooked
    with _lock:
        if not _hooked:
            sys.addaudithook(_audit)
            _hooked = True
        _active += 1
        _allowed.update(h.lower() for h in allow_hosts)
        socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


def disable(allow_hosts: Iterable[str] = ()) -> None:
    """Undo one :func:`enable`; the last one restores the real ``connect``."""
    global _active
    with _lock:
        _active = max(0, _active - 1)
        _allowed.subtract(h.lower() for h in allow_hosts)
        for host in [h for h, n in _allowed.items() if n <= 0]:
            del _allowed[host]
        if _active == 0:
            socket.socket.connect = _original_connect  # type: ignore[method-assign]
            socket.socket.connect_ex = _original_connect_ex  # type: ignore[method-assign]


def allow_server(netloc: str) -> None:
    """Let connections reach one of mlemu's own servers (``host:port``)."""
    _servers.add(_split(netloc))


def disallow_server(netloc: str) -> None:
    _servers.discard(_split(netloc))


def is_active() -> bool:
    return _active > 0


def _split(netloc: str) -> tuple[str, int]:
    host, _, port = netloc.rpartition(":")
    return _canonical(host.strip("[]")), int(port)


def _canonical(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.lower()


def _addresses_of(name: str) -> frozenset[str]:
    found = _resolved.get(name)
    if found is None:
        try:
            found = frozenset(_canonical(str(info[4][0])) for info in _original_getaddrinfo(name, None))
        except OSError:
            found = frozenset()
        _resolved[name] = found
    return found


def _permitted(sock: socket.socket, address: Any) -> bool:
    if getattr(socket, "AF_UNIX", None) is not None and sock.family == socket.AF_UNIX:
        return True
    if not isinstance(address, tuple) or len(address) < 2:
        return False
    return allows(str(address[0]), int(address[1]))


def allows(host: str, port: int) -> bool:
    """Whether hermetic mode lets a connection to ``host:port`` through."""
    host = _canonical(host.strip("[]"))
    if (host, port) in _servers:
        return True
    for entry in list(_allowed):
        name, sep, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if sep and entry_port.isdigit() and int(entry_port) != port:
            continue
        name = _canonical(name.strip("[]"))
        if host == name or host in _addresses_of(name):
            return True
    return False


def _refuse(address: Any) -> SocketAccessBlocked:
    where = f"{address[0]}:{address[1]}" if isinstance(address, tuple) and len(address) >= 2 else repr(address)
    return SocketAccessBlocked(
        f"network access blocked by mlemu: connect to {where} (only emulated workspaces and mlemu's "
        "own loopback servers answer in hermetic mode; allow a host with "
        "@pytest.mark.mlemu(allow_hosts=[...]) or emulate(allow_hosts=[...]))")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if _active and not _permitted(self, address):
        raise _refuse(address)
    return _original_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if _active and not _permitted(self, address):
        raise _refuse(address)
    return _original_connect_ex(self, address)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """The audit hook: sees every connect and addressed send, however it was reached."""
    if not _active:
        return
    if event == "socket.connect" or (event in ("socket.sendto", "socket.sendmsg") and args[1] is not None):
        sock, address = args[0], args[1]
        if not _permitted(sock, address):
            raise _refuse(address)
    elif event in ("ctypes.dlsym", "ctypes.dlsym/handle") and args[1] in _C_NETWORK:
        raise SocketAccessBlocked(
            f"network access blocked by mlemu: looking up the C library's {args[1]}() through ctypes "
            "(hermetic mode refuses it; take the network path through Python's socket module)")
