"""The journal: the requests a workspace answered, for assertions in tests
(the shape of ``responses.calls``): all of them (the default), the last N, or none."""
from __future__ import annotations

import json
from collections import deque
from typing import Any, Iterator


class LazyJson:
    """A JSON body as it crossed the wire, parsed when a test first reads it.

    The journal keeps every call of a test; holding parsed bodies (a 1,000-metric batch, a
    10,000-run search page) would leave millions of live objects for the garbage collector to
    walk on every later collection. Bytes cost it nothing."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw


class Call:
    """One answered request. ``request``/``response`` are the parsed JSON bodies, or None.

    Immutable; the bodies are parsed on first access (see :class:`LazyJson`)."""

    __slots__ = ("method", "path", "operation", "status", "_request", "_response")

    method: str
    path: str
    operation: str
    status: int

    def __init__(self, method: str, path: str, operation: str, request: Any, status: int,
                 response: Any) -> None:
        for name, value in (("method", method), ("path", path), ("operation", operation),
                            ("_request", request), ("status", status), ("_response", response)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a Call is immutable")

    def _parsed(self, slot: str) -> Any:
        value = object.__getattribute__(self, slot)
        if isinstance(value, LazyJson):
            value = json.loads(value.raw)
            object.__setattr__(self, slot, value)
        return value

    @property
    def request(self) -> Any:
        return self._parsed("_request")

    @property
    def response(self) -> Any:
        return self._parsed("_response")

    @property
    def error_code(self) -> str | None:
        if isinstance(self.response, dict) and self.status >= 400:
            return self.response.get("error_code")
        return None

    def _fields(self) -> tuple[Any, ...]:
        return (self.method, self.path, self.operation, self.request, self.status, self.response)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    def __hash__(self) -> int:  # bodies are dicts: hash the identifying fields only
        return hash((self.method, self.path, self.operation, self.status))

    def __repr__(self) -> str:
        return (f"Call(method={self.method!r}, path={self.path!r}, operation={self.operation!r}, "
                f"request={self.request!r}, status={self.status!r}, response={self.response!r})")


JournalSize = int | str | None


def parse_size(size: JournalSize) -> int | None:
    """``None``/``"all"``: keep every call; ``0``/``"off"``: keep none; ``N``: the last N."""
    if size is None or size == "all":
        return None
    if size == "off":
        return 0
    n = int(size)
    if n < 0:
        raise ValueError(f"journal size must be 'all', 'off' or a count >= 0, not {size!r}")
    return n


class Journal:
    """An append-only list of :class:`Call`, with small helpers for assertions.

    ``size`` bounds it (see :func:`parse_size`): a long-running ``mlemu serve`` keeps the last
    calls only, since every call holds its request and response bodies."""

    #: Operations left out of the journal by default: probes the SDK makes before nearly
    #: every call, which would drown the calls a test cares about.
    QUIET_OPERATIONS = frozenset({"iam.host-metadata"})

    def __init__(self, size: JournalSize = None, max_body_bytes: int | None = None) -> None:
        self.size = parse_size(size)
        self.max_body_bytes = max_body_bytes
        self._calls: list[Call] | deque[Call] = [] if self.size is None else deque(maxlen=self.size)
        self.record_probes = False

    def record(self, call: Call) -> None:
        if self.size == 0:
            return
        if self.record_probes or call.operation not in self.QUIET_OPERATIONS:
            if self.max_body_bytes is not None:
                for slot in ("_request", "_response"):
                    body = object.__getattribute__(call, slot)
                    if isinstance(body, LazyJson) and len(body.raw) > self.max_body_bytes:
                        object.__setattr__(call, slot, {"mlemu_journal": f"a body of {len(body.raw)} bytes, "
                                                                         "not kept (max_body_bytes)"})
            self._calls.append(call)

    def __iter__(self) -> Iterator[Call]:
        return iter(list(self._calls))

    def __len__(self) -> int:
        return len(self._calls)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        if isinstance(index, slice) and isinstance(self._calls, deque):
            return list(self._calls)[index]
        return self._calls[index]

    def __repr__(self) -> str:
        return f"<Journal {len(self._calls)} calls>"

    def clear(self) -> None:
        self._calls.clear()

    def filter(self, operation: str | None = None, method: str | None = None,
               path: str | None = None, status: int | None = None) -> list[Call]:
        """Calls matching every given field. ``operation`` may end in ``*`` as a prefix match."""
        out = []
        for c in self._calls:
            if operation is not None:
                if operation.endswith("*"):
                    if not c.operation.startswith(operation[:-1]):
                        continue
                elif c.operation != operation:
                    continue
            if method is not None and c.method != method.upper():
                continue
            if path is not None and c.path != path:
                continue
            if status is not None and c.status != status:
                continue
            out.append(c)
        return out

    def operations(self) -> list[str]:
        return [c.operation for c in self._calls]

    def assert_called(self, operation: str, times: int | None = None) -> list[Call]:
        """Assert ``operation`` was answered (exactly ``times`` times if given); return the calls."""
        found = self.filter(operation=operation)
        if times is None and not found:
            raise AssertionError(f"{operation} was never called; calls: {self.operations()}")
        if times is not None and len(found) != times:
            raise AssertionError(
                f"{operation} was called {len(found)} times, expected {times}; calls: {self.operations()}")
        return found

    def assert_not_called(self, operation: str) -> None:
        self.assert_called(operation, times=0)
