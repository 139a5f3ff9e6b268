"""The journal: the requests a workspace answered, for assertions in tests
(the shape of ``responses.calls``): all of them (the default), the last N, or none.

Operation names in assertions are checked against the names routes have (when the workspace
tells the journal them): a typo fails with the closest names instead of passing vacuously.
A name ending in ``*`` is an explicit prefix match (``tracking.runs.*``); ``*`` elsewhere is
an ``fnmatch`` pattern."""
from __future__ import annotations

import difflib
import fnmatch
import json
import pprint
from collections import deque
from typing import Any, Callable, Collection, Iterator


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
        setter = object.__setattr__  # __setattr__ refuses: the slots are set past it
        setter(self, "method", method)
        setter(self, "path", path)
        setter(self, "operation", operation)
        setter(self, "_request", request)
        setter(self, "status", status)
        setter(self, "_response", response)

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
        #: The operation names routes have (set by the workspace): names in assertions are
        #: checked against them. None: no check.
        self.known_operations: Callable[[], Collection[str]] | None = None

    def keeps(self, operation: str) -> bool:
        """Whether a call of ``operation`` would be kept (so a caller may skip building it)."""
        return self.size != 0 and (self.record_probes or operation not in self.QUIET_OPERATIONS)

    def record(self, call: Call) -> None:
        if self.keeps(call.operation):
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

    def check_operation(self, operation: str) -> None:
        """Refuse an operation name (or pattern) that no route has, naming the closest ones."""
        check_operation(operation, self.known_operations() if self.known_operations else None)

    def filter(self, operation: str | None = None, method: str | None = None,
               path: str | None = None, status: int | None = None) -> list[Call]:
        """Calls matching every given field. ``operation`` may end in ``*`` (a prefix match)
        or hold ``fnmatch`` wildcards; a name no route has raises ``ValueError``."""
        if operation is not None:
            self.check_operation(operation)
        return [c for c in self._calls
                if (operation is None or operation_matches(operation, c.operation))
                and (method is None or c.method == method.upper())
                and (path is None or c.path == path)
                and (status is None or c.status == status)]

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

    def assert_called_with(self, operation: str, **fields: Any) -> Call:
        """Assert some call of ``operation`` carried every given request field with that value
        (``assert_called_with("tracking.runs.log_parameter", key="lr", value="0.1")``); return
        the last such call. On failure, show a diff against the closest call."""
        calls = self.filter(operation=operation)
        if not calls:
            raise AssertionError(f"{operation} was never called; calls: {self.operations()}")
        matching = [c for c in calls if _missing(c.request, fields) == 0]
        if matching:
            return matching[-1]
        closest = min(reversed(calls), key=lambda c: _missing(c.request, fields))
        actual = {k: (closest.request or {}).get(k, "<absent>") if isinstance(closest.request, dict)
                  else "<no JSON body>" for k in fields}
        diff = "\n".join(difflib.ndiff(pprint.pformat(fields, width=80).splitlines(),
                                       pprint.pformat(actual, width=80).splitlines()))
        raise AssertionError(
            f"no {operation} call had {fields!r}; {len(calls)} call(s). The closest "
            f"({closest.method} {closest.path}), expected (-) vs. sent (+):\n{diff}\n"
            f"its whole request: {closest.request!r}")


def operation_matches(pattern: str, operation: str) -> bool:
    """``a.b.*`` (or ``a.b*``) is a prefix match, other wildcards ``fnmatch``, else equality."""
    if pattern.endswith("*") and not any(ch in pattern[:-1] for ch in "*?["):
        return operation.startswith(pattern[:-1])
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(operation, pattern)
    return operation == pattern


def check_operation(pattern: str, known: Collection[str] | None) -> None:
    """Raise ``ValueError`` when ``pattern`` names or matches no operation in ``known``."""
    if known is None or pattern == "unknown":
        return
    if any(operation_matches(pattern, op) for op in known):
        return
    stem = pattern.rstrip("*").rstrip(".")
    close = difflib.get_close_matches(stem, sorted(known), n=3, cutoff=0.6)
    if not close:  # a prefix: suggest among the prefixes operations have
        prefixes = sorted({op.rsplit(".", i)[0] for op in known for i in (1, 2) if "." in op})
        close = [p + ".*" for p in difflib.get_close_matches(stem, prefixes, n=3, cutoff=0.6)]
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(f"no route has the operation {pattern!r}{hint} "
                     "(the names are listed in docs/coverage.md; end a prefix with '*')")


def _missing(request: Any, fields: dict[str, Any]) -> int:
    """How many of ``fields`` the request body lacks or carries with another value."""
    if not isinstance(request, dict):
        return len(fields)
    return sum(1 for k, v in fields.items() if request.get(k, _ABSENT) != v)


_ABSENT = object()
