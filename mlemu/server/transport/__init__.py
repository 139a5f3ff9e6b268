"""Transports: how requests reach a workspace (in-process, or a loopback server).

They know only :class:`Answerer`, the shape of what they deliver requests to, not the
workspace class or any service.
"""
from __future__ import annotations

from typing import Protocol


class LowerCaseHeaders(dict):
    """Request headers whose names a transport has already lower-cased: an answerer may take
    them as they are instead of lower-casing every name again."""

    __slots__ = ()


class Answerer(Protocol):
    """What a transport delivers requests to (``mlemu.Workspace`` is one)."""

    host: str

    def handle(self, method: str, path: str, query_string: str = "",
               headers: dict[str, str] | None = None, body: bytes = b"",
               base_url: str | None = None,
               raise_internal: bool = False) -> tuple[int, dict[str, str], bytes]: ...
