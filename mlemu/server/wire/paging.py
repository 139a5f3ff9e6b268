"""The body of one page of a listing, as every Databricks list/search answer is shaped."""
from __future__ import annotations

from typing import Any


def page_body(key: str, items: list, token: str | None, *, keep_empty: bool = False,
              **fields: Any) -> dict[str, Any]:
    """``{**fields, key: items, "next_page_token": token}``. An empty ``items`` is left out
    (proto3 JSON omits empty repeated fields) unless ``keep_empty``; no token, no key."""
    out: dict[str, Any] = dict(fields)
    if items or keep_empty:
        out[key] = items
    if token:
        out["next_page_token"] = token
    return out
