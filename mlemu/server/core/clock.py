"""The workspace clock. Follows the wall clock (and so freezegun, which patches
``time.time``) unless a test pins or advances it explicitly."""
from __future__ import annotations

import time


class Clock:
    """Milliseconds since the epoch, as Databricks timestamps are."""

    def __init__(self) -> None:
        self._pinned_ms: int | None = None
        self._offset_ms = 0

    def now_ms(self) -> int:
        if self._pinned_ms is not None:
            return self._pinned_ms + self._offset_ms
        # Attribute lookup at call time so freezegun's patched time.time is seen.
        return int(time.time() * 1000) + self._offset_ms

    def freeze(self, epoch_ms: int) -> None:
        """Stop the clock at ``epoch_ms`` (it moves only through :meth:`advance`)."""
        self._pinned_ms = int(epoch_ms)
        self._offset_ms = 0

    def unfreeze(self) -> None:
        self._pinned_ms = None
        self._offset_ms = 0

    def advance(self, seconds: float) -> None:
        self._offset_ms += int(seconds * 1000)
