"""The bound on request bodies held in memory at once by a loopback server (issue 17, defect
11): four concurrent 250 MB uploads must not make 1 GB plus copies. A request reserves its
body's size before the body is read, and gives it back once answered; one that cannot get room
within the wait is answered 503 ``TEMPORARILY_UNAVAILABLE`` (clients retry) without its body
being read."""
from __future__ import annotations

import threading
import time

#: Default bound on the request bodies all connections hold at once (the largest single
#: upload, :data:`mlemu.server.transport.server.MAX_UPLOAD_BODY_BYTES`, always fits).
MAX_INFLIGHT_BODY_BYTES = 1024 * 1024 * 1024


class BodyBudget:
    """Bytes of request bodies in memory, bounded by ``limit``."""

    def __init__(self, limit: int = MAX_INFLIGHT_BODY_BYTES) -> None:
        if limit <= 0:
            raise ValueError("the body budget must be positive")
        self.limit = limit
        self.used = 0
        self._cond = threading.Condition()

    def reserve(self, n: int, wait: float) -> bool:
        """Take ``n`` bytes, waiting up to ``wait`` seconds for room; False if there was none
        (a body over the whole ``limit`` never fits)."""
        if n <= 0:
            return True
        if n > self.limit:
            return False
        deadline = time.monotonic() + wait
        with self._cond:
            while self.used + n > self.limit:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            self.used += n
            return True

    def release(self, n: int) -> None:
        if n <= 0:
            return
        with self._cond:
            self.used -= n
            self._cond.notify_all()
