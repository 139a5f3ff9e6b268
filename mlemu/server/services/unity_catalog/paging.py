"""Opaque page tokens for Unity Catalog list/search calls (shared with the registry).

A token encodes the offset into the (explicitly sorted) result list; it is opaque to the
client, as Databricks' tokens are. A token that does not decode is ``INVALID_PARAMETER_VALUE``.
"""
from __future__ import annotations

import base64
import binascii
from typing import Sequence, TypeVar

from mlemu.server.core.errors import invalid
from mlemu.server.core.paging import Page

T = TypeVar("T")


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"mlemu:{offset}".encode()).decode()


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = raw.partition(":")
        offset = int(number)
        if prefix != "mlemu" or offset < 0:
            raise ValueError(raw)
        return offset
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid(f"Invalid page token: '{token}'.") from None


def page_size(max_results: int | None, *, unset: int | None, zero: int | None,
              cap: int | None) -> int | None:
    """The page length for a ``max_results`` as the UC list APIs document it.

    ``unset``: length when the parameter is absent (None = everything); ``zero``: when it is
    0; ``cap``: the server maximum a positive value is clamped to. Negative -> 400.
    """
    if max_results is None:
        return unset
    if max_results < 0:
        raise invalid(f"max_results must be non-negative, got {max_results}.")
    if max_results == 0:
        return zero
    return min(max_results, cap) if cap else max_results


def paginate(items: Sequence[T], size: int | None, token: str | None) -> Page[T]:
    """One page of ``items`` and the token of the next page (None on the last page)."""
    start = decode_token(token)
    if size is None:
        return Page(items[start:])
    end = start + size
    return Page(items[start:end], encode_token(end) if end < len(items) else None)
