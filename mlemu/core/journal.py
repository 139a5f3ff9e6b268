"""The journal: every request a workspace answered, for assertions in tests
(the shape of ``responses.calls``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator


@dataclass(frozen=True)
class Call:
    """One answered request. ``request``/``response`` are the parsed JSON bodies, or None."""

    method: str
    path: str
    operation: str
    request: Any
    status: int
    response: Any

    @property
    def error_code(self) -> str | None:
        if isinstance(self.response, dict) and self.status >= 400:
            return self.response.get("error_code")
        return None


class Journal:
    """An append-only list of :class:`Call`, with small helpers for assertions."""

    #: Operations left out of the journal by default: probes the SDK makes before nearly
    #: every call, which would drown the calls a test cares about.
    QUIET_OPERATIONS = frozenset({"iam.host-metadata"})

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self.record_probes = False

    def record(self, call: Call) -> None:
        if self.record_probes or call.operation not in self.QUIET_OPERATIONS:
            self._calls.append(call)

    def __iter__(self) -> Iterator[Call]:
        return iter(list(self._calls))

    def __len__(self) -> int:
        return len(self._calls)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
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
