"""The workspace clock. Follows the wall clock (and so freezegun, which patches
``time.time``) unless a test pins or advances it explicitly."""
from __future__ import annotations

import contextlib
import time
from typing import Iterator


class Clock:
    """Milliseconds since the epoch, as Databricks timestamps are."""

    def __init__(self) -> None:
        self._pinned_ms: int | None = None
        self._offset_ms = 0
        #: The wall-clock reading a durable server holds for one request (see :meth:`hold`).
        self._held_wall_ms: int | None = None

    def now_ms(self) -> int:
        if self._pinned_ms is not None:
            return self._pinned_ms + self._offset_ms
        if self._held_wall_ms is not None:
            return self._held_wall_ms + self._offset_ms
        # Attribute lookup at call time so freezegun's patched time.time is seen.
        return int(time.time() * 1000) + self._offset_ms

    def wall_ms(self) -> int:
        """The wall-clock reading :meth:`now_ms` would start from (held or live)."""
        return self._held_wall_ms if self._held_wall_ms is not None else int(time.time() * 1000)

    @contextlib.contextmanager
    def hold(self, wall_ms: int) -> Iterator[None]:
        """Read the wall clock as ``wall_ms`` meanwhile: a ``--state-dir`` server runs each
        request, and later replays it, at the one reading it logged, so the replay sees the
        same times. Freezing and advancing work as usual meanwhile."""
        self._held_wall_ms = int(wall_ms)
        try:
            yield
        finally:
            self._held_wall_ms = None

    def freeze(self, epoch_ms: int) -> None:
        """Stop the clock at ``epoch_ms`` (it moves only through :meth:`advance`)."""
        self._pinned_ms = int(epoch_ms)
        self._offset_ms = 0

    def unfreeze(self) -> None:
        self._pinned_ms = None
        self._offset_ms = 0

    def advance(self, seconds: float) -> None:
        self._offset_ms += int(seconds * 1000)
