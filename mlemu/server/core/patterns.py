"""SQL ``LIKE`` patterns, as the filters and listings of several services accept them."""
from __future__ import annotations

import re


def like_regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """SQL LIKE as a regex for ``fullmatch``: ``%`` any run, ``_`` one character."""
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)
