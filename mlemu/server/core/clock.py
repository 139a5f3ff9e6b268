"""The workspace clock. Follows the wall clock (and so freezegun, which patches
``time.time``) unless a test pins or advances it explicitly.

Pinned or advanced, it stays between :data:`MIN_MS` and :data:`MAX_MS`: Databricks timestamps
are int64 milliseconds, and every service must still be able to render "now" (an HTTP date, a
pandas timestamp, a monitor window, an expiry an hour later), so the range is the epoch to
2200-01-01, well inside pandas' nanosecond range (which ends in 2262). A value outside it, or
one that is not a finite number, raises ``ValueError`` and leaves the clock as it was.
"""
from __future__ import annotations

import contextlib
import math
import time
from typing import Iterator

#: The earliest time the clock may be set to: the Unix epoch.
MIN_MS = 0
#: The latest: 2200-01-01T00:00:00Z.
MAX_MS = 7_258_118_400_000


def check_ms(epoch_ms: object, name: str = "epoch_ms") -> int:
    """``epoch_ms`` as an int if it is a whole number of milliseconds in the clock's range."""
    if isinstance(epoch_ms, bool) or not isinstance(epoch_ms, (int, float)):
        raise ValueError(f"{name} must be a number of milliseconds since the epoch, not {epoch_ms!r}.")
    if isinstance(epoch_ms, float) and not (math.isfinite(epoch_ms) and epoch_ms.is_integer()):
        raise ValueError(f"{name} must be a whole number of milliseconds, not {epoch_ms!r}.")
    if not MIN_MS <= epoch_ms <= MAX_MS:
        raise ValueError(f"{name} must be between {MIN_MS} and {MAX_MS} (1970-01-01 to 2200-01-01), "
                         f"not {epoch_ms!r}.")
    return int(epoch_ms)


def check_seconds(seconds: object, name: str = "seconds") -> float:
    """``seconds`` as a float if it is a finite number."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ValueError(f"{name} must be a number, not {seconds!r}.")
    try:
        value = float(seconds)
    except OverflowError:  # an int too large for a float
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {seconds!r}.")
    return value


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
        self._pinned_ms = check_ms(epoch_ms)
        self._offset_ms = 0

    def unfreeze(self) -> None:
        self._pinned_ms = None
        self._offset_ms = 0

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` on (or back, if negative), within its range."""
        seconds = check_seconds(seconds)
        now = self.now_ms()
        if seconds * 1000 > MAX_MS - now or seconds * 1000 < MIN_MS - now:
            raise ValueError(f"advancing the clock by {seconds!r} s would leave its range "
                             f"({MIN_MS} to {MAX_MS} ms, 1970-01-01 to 2200-01-01); it reads {now}.")
        self._offset_ms += int(seconds * 1000)
