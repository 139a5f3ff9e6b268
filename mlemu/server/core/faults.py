"""Fault injection: rules that make a workspace fail some requests on purpose, so a test can
rehearse what a real workspace does on a bad day (throttling, outages, slow answers, resets).

A :class:`Fault` matches requests by journal operation name and/or path (``fnmatch``
patterns: ``tracking.runs.*``, ``/api/2.0/serving-endpoints/*``) and fires for the next
``times`` matches (every match when ``times`` is None), or for a seeded ``fraction`` of them.
What it does: sleep ``delay`` seconds (``time.sleep``, so virtual time makes it instant),
then answer an error ``status`` with a Databricks JSON body (and ``Retry-After`` when given),
or drop the connection (:class:`ConnectionDropped`, which each transport turns into what a
client sees when a socket is reset). A delay-only fault lets the request through afterwards.

This module knows no HTTP: :mod:`mlemu.workspace` applies the fault a request picks.
"""
from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from mlemu.server.core.errors import STATUS_BY_CODE

#: The error code a fault answers for a status when none is given.
DEFAULT_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "RESOURCE_DOES_NOT_EXIST", 409: "RESOURCE_CONFLICT",
                 429: "REQUEST_LIMIT_EXCEEDED", 500: "INTERNAL_ERROR", 501: "NOT_IMPLEMENTED",
                 502: "BAD_GATEWAY", 503: "TEMPORARILY_UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


class ConnectionDropped(Exception):
    """A fault closed the connection without an answer (transports translate it)."""


@dataclass(eq=False)
class Fault:
    """One injected failure rule. ``hits`` counts the requests it has failed or delayed."""

    operation: str | None = None
    path: str | None = None
    method: str | None = None
    status: int | None = None
    error_code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    drop: bool = False
    times: int | None = None
    fraction: float | None = None
    hits: int = 0
    _owner: "FaultSet | None" = field(default=None, repr=False, compare=False)

    def matches(self, method: str, path: str, operation: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if self.operation is not None and not fnmatch.fnmatchcase(operation, self.operation):
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def error_body(self) -> dict[str, Any]:
        code = self.error_code or DEFAULT_CODES.get(self.status or 500, "INTERNAL_ERROR")
        message = self.message or f"{code}: injected by mlemu (a fault rule of this test)"
        return {"error_code": code, "message": message}

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        seconds = self.retry_after
        return {"retry-after": str(int(seconds)) if float(seconds).is_integer() else str(seconds)}

    def remove(self) -> None:
        """Stop this fault (it no longer matches anything)."""
        if self._owner is not None:
            self._owner.remove(self)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("operation", "path", "method", "status", "error_code",
                                              "message", "retry_after", "delay", "drop", "times",
                                              "fraction", "hits")}


class FaultSet:
    """The fault rules of one workspace; the first live rule that matches a request fires.

    ``validate`` (set by the workspace) refuses operation names no route has. ``fraction``
    draws from a PRNG seeded with the workspace seed, apart from the one ids come from, so
    faults never change the ids a test sees."""

    def __init__(self, seed: int = 0, validate: Callable[[str], None] | None = None) -> None:
        self._faults: list[Fault] = []
        self._seed = seed
        self._rng: random.Random | None = None  # made on first use: seeding costs every workspace
        self._lock = threading.Lock()
        self.validate = validate

    def add(self, operation: str | None = None, *, path: str | None = None, method: str | None = None,
            status: int | None = None, error_code: str | None = None, message: str | None = None,
            retry_after: float | None = None, delay: float = 0.0, drop: bool = False,
            times: int | None = None, fraction: float | None = None) -> Fault:
        """Add a rule; see the module docstring. Returns it (``fault.hits``, ``fault.remove()``)."""
        if operation is None and path is None:
            raise ValueError("a fault needs an operation name or a path pattern")
        if operation is not None and self.validate is not None:
            self.validate(operation)
        if error_code is not None and status is None:
            status = STATUS_BY_CODE.get(error_code, 400)
        if retry_after is not None and status is None:
            status = 429
        if status is None and not drop and not delay:
            raise ValueError("a fault needs a status, error_code, retry_after, delay or drop=True")
        if status is not None and not 400 <= int(status) <= 599:
            raise ValueError(f"a fault's status must be an HTTP error (400-599), not {status}")
        if fraction is not None and not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction must be within [0, 1], not {fraction}")
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1, not {times}")
        fault = Fault(operation=operation, path=path, method=method, status=status,
                      error_code=error_code, message=message, retry_after=retry_after,
                      delay=float(delay), drop=drop, times=times, fraction=fraction, _owner=self)
        with self._lock:
            self._faults.append(fault)
        return fault

    def remove(self, fault: Fault) -> None:
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._faults))

    def __len__(self) -> int:
        return len(self._faults)

    def __bool__(self) -> bool:
        return bool(self._faults)

    def pick(self, method: str, path: str, operation: str) -> Fault | None:
        """The fault that fires for this request (its hit counted), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or not fault.matches(method, path, operation):
                    continue
                if fault.fraction is not None:
                    if self._rng is None:
                        self._rng = random.Random(f"mlemu-faults:{self._seed}")
                    if self._rng.random() >= fault.fraction:
                        continue
                fault.hits += 1
                return fault
        return None
