"""The workspace clock's Python API refuses what no service could render (issue 17, defect 8):
``ws.clock.freeze`` and ``ws.clock.advance`` raise ``ValueError`` and leave the clock as it was."""
from __future__ import annotations

import io

import pytest

from mlemu.server.core.clock import MAX_MS, MIN_MS

FROZEN = 1_700_000_000_000


@pytest.mark.parametrize("epoch_ms", [10**30, -1, MAX_MS + 1, 1.5, float("nan"), float("inf"), "1", True, None])
def test_freeze_refuses_values_outside_the_range(mlemu, epoch_ms):
    mlemu.clock.freeze(FROZEN)
    with pytest.raises(ValueError):
        mlemu.clock.freeze(epoch_ms)
    assert mlemu.clock.now_ms() == FROZEN


@pytest.mark.parametrize("seconds", [float("inf"), float("-inf"), float("nan"), 1e300, -1e12, 10**400, "5", True])
def test_advance_refuses_what_would_leave_the_range(mlemu, seconds):
    mlemu.clock.freeze(FROZEN)
    with pytest.raises(ValueError):
        mlemu.clock.advance(seconds)
    assert mlemu.clock.now_ms() == FROZEN


def test_the_whole_range_renders(mlemu):
    """Files written at either end of the range are listed and read by the SDK."""
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    for ms in (MIN_MS, MAX_MS):
        mlemu.clock.freeze(ms)
        w.files.upload(f"/Volumes/main/default/v/{ms}.txt", io.BytesIO(b"x"), overwrite=True)
        assert w.files.get_metadata(f"/Volumes/main/default/v/{ms}.txt").content_length == 1
    mlemu.clock.advance(-(MAX_MS - MIN_MS) / 1000)
    assert mlemu.clock.now_ms() == MIN_MS
