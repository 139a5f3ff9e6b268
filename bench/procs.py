"""Subprocesses the bench starts (servers, workers): started in their own session, read
with deadlines, always stopped (terminate, then kill) by their own process id."""
from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any


def popen(args: list[str], **kwargs: Any) -> subprocess.Popen:
    return subprocess.Popen(args, start_new_session=True, **kwargs)


def stop(proc: subprocess.Popen | None, grace_s: float = 5.0) -> None:
    """Stop ``proc`` and its children (its own process group), politely first."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=grace_s)


def read_lines_until(proc: subprocess.Popen, want: int, deadline_s: float) -> list[str]:
    """Read ``want`` lines of ``proc.stdout`` (a pipe), giving up after ``deadline_s``.

    Reads the file descriptor directly: a buffered reader would swallow lines that ``select``
    then never reports."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    end = time.monotonic() + deadline_s
    try:
        while buf.count(b"\n") < want:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no output after {deadline_s:.0f} s (got {buf!r})")
            if sel.select(timeout=left):
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError(f"process exited (rc={proc.poll()}) after {buf!r}")
                buf += chunk
    finally:
        sel.close()
    return buf.decode().splitlines()[:want]


def wait_http_ok(url: str, deadline_s: float, proc: subprocess.Popen | None = None) -> float:
    """Poll ``url`` (loopback only) until it answers 200; return the seconds waited."""
    assert url.startswith("http://127.0.0.1:"), url
    t0 = time.monotonic()
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with rc={proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() - t0 > deadline_s:
            raise TimeoutError(f"{url} did not answer within {deadline_s:.0f} s")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
