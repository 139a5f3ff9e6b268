"""``Page``: what every paged search or listing of the Python state API returns
(``ws.tracking.search_runs(...)``, ``ws.tracking.search_experiments()``, ``ws.tracing.search(...)``).

A page holds ``items`` and ``next_page_token`` (None on the last page). It unpacks as
``items, token = page`` (what the routes do) and is truthy only when it holds items, so
``assert ws.tracking.search_experiments()`` fails on an empty workspace.
"""
from __future__ import annotations

from typing import Any, Generic, Iterable, TypeVar

T = TypeVar("T")


class Page(tuple, Generic[T]):  # type: ignore[type-arg]
    """One page of results: ``.items`` (a list) and ``.next_page_token`` (str or None)."""

    def __new__(cls, items: Iterable[T], next_page_token: str | None = None) -> "Page[T]":
        return super().__new__(cls, (list(items), next_page_token))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self[0], self[1])

    @property
    def items(self) -> list[T]:
        return self[0]  # type: ignore[no-any-return]

    @property
    def next_page_token(self) -> str | None:
        return self[1]  # type: ignore[no-any-return]

    def __bool__(self) -> bool:
        return bool(self[0])

    def __repr__(self) -> str:
        return f"Page(items={self[0]!r}, next_page_token={self[1]!r})"
