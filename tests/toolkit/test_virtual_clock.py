"""Virtual time moves only with the sleeps of the thread under test (mlemu.virtual_time)."""
from __future__ import annotations

import threading
import time

import mlemu as mlemu_pkg


def _background_sleeper(stop: threading.Event, woke: list[int]) -> None:
    while not stop.is_set():
        time.sleep(0.05)  # a poller in the background, like py4j's client thread
        woke.append(1)


def test_a_background_thread_that_sleeps_does_not_move_the_clock(mlemu):
    mlemu.clock.freeze(1_700_000_000_000)
    stop, woke = threading.Event(), []
    with mlemu_pkg.virtual_time(mlemu):
        sleeper = threading.Thread(target=_background_sleeper, args=(stop, woke), daemon=True)
        sleeper.start()
        while len(woke) < 5:          # the background thread sleeps for real, several times
            stop.wait(0.01)
        time.sleep(3600)              # the test's own sleep is virtual: one hour, exactly
        assert mlemu.clock.now_ms() == 1_700_000_000_000 + 3_600_000
        stop.set()
        sleeper.join()
    assert mlemu.clock.now_ms() == 1_700_000_000_000 + 3_600_000


def test_a_worker_thread_can_follow_virtual_time(mlemu):
    mlemu.clock.freeze(1_700_000_000_000)
    with mlemu_pkg.virtual_time(mlemu) as vt:
        def worker() -> None:
            vt.follow()
            time.sleep(60)

        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert mlemu.clock.now_ms() == 1_700_000_000_000 + 60_000


def test_sleep_is_restored_and_other_threads_never_see_virtual_time(mlemu):
    real = time.sleep
    with mlemu_pkg.virtual_time(mlemu):
        assert time.sleep is not real
    assert time.sleep is real
