"""Uploads under ``--state-dir`` are held in memory once (issue 17, defect 11): the log keeps a
digest, not the bytes (they go to the blob store, which checkpoints share), a chunked body is
spooled to disk as it arrives, and the bodies all connections hold at once are bounded.
Measured with tracemalloc, never timings."""
from __future__ import annotations

import hashlib
import os
import threading
import time
import tracemalloc

import pytest
import requests

from mlemu.server.transport.body_budget import BodyBudget
from mlemu.server.transport.server import LoopbackServer
from mlemu.toolkit.statedir import open_state_dir
from mlemu.workspace import Workspace

SIZE = 30 * 1024 * 1024
PATH = "/api/2.0/fs/files/Volumes/main/default/v/big.bin"


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_upload_is_logged_by_digest_and_held_once(tmp_path):
    d = str(tmp_path / "s")
    dw = open_state_dir(d, Workspace)
    auth = {"Authorization": f"Bearer {dw.workspace.token}"}
    body = os.urandom(SIZE)
    answers = []
    peak = _peak(lambda: answers.append(dw.handle("PUT", PATH, "", auth, body)))
    assert answers[0][0] == 204
    assert peak < SIZE // 4  # the old log held the body ~4 more times (base64, JSON, bytes)
    dw.close()
    log = open(os.path.join(d, "wal.log"), "rb").read()
    assert len(log) < 4096 and body[1000:1064] not in log
    digest = hashlib.sha256(body).hexdigest()
    assert digest.encode() in log and os.path.getsize(os.path.join(d, "blobs", digest)) == SIZE

    holder = []
    peak = _peak(lambda: holder.append(open_state_dir(d, Workspace)))  # replay + checkpoint
    ws = holder[0].workspace
    assert peak < int(SIZE * 1.5)  # the blob read once, stored once; the checkpoint refers to it
    status, _, got = ws.handle("GET", PATH, "", auth)
    assert status == 200 and got == body
    checkpoint = next(n for n in os.listdir(d) if n.startswith("checkpoint-"))
    assert os.path.getsize(os.path.join(d, checkpoint)) < 1024 * 1024  # no copy inside the ZIP
    assert os.listdir(os.path.join(d, "blobs")) == [digest]
    holder[0].close()
    again = open_state_dir(d, Workspace)  # from the checkpoint and the blob store alone
    assert again.workspace.handle("GET", PATH, "", auth)[2] == body
    again.close()


def test_a_missing_body_blob_is_damage_not_a_silent_loss(tmp_path):
    from mlemu.toolkit.statedir import StateDirError

    d = str(tmp_path / "s")
    dw = open_state_dir(d, Workspace)
    auth = {"Authorization": f"Bearer {dw.workspace.token}"}
    assert dw.handle("PUT", PATH, "", auth, os.urandom(200_000))[0] == 204
    dw.close()
    blobs = os.path.join(d, "blobs")
    for name in os.listdir(blobs):
        os.unlink(os.path.join(blobs, name))
    with pytest.raises(StateDirError, match="record 1 .*blobs/"):
        open_state_dir(d, Workspace)


def test_a_chunked_upload_is_spooled_not_held_twice(tmp_path):
    dw = open_state_dir(str(tmp_path / "s"), Workspace)
    piece = os.urandom(1024 * 1024)

    def chunks():
        for _ in range(SIZE // len(piece)):
            yield piece

    with LoopbackServer(dw).start() as server:
        url = f"{server.url}{PATH}"
        auth = {"Authorization": f"Bearer {dw.workspace.token}"}
        statuses = []
        peak = _peak(lambda: statuses.append(requests.put(url, data=chunks(), headers=auth).status_code))
        assert statuses == [204]
        assert peak < int(SIZE * 1.5)  # joined chunks held it twice, plus the log's copies
        assert dw.workspace.handle("HEAD", PATH, "", auth)[1]["content-length"] == str(SIZE)
    dw.close()


def test_the_body_budget_bounds_what_connections_hold_at_once():
    budget = BodyBudget(100)
    assert budget.reserve(60, 0) and not budget.reserve(50, 0.01) and not budget.reserve(101, 0)
    freed = threading.Timer(0.05, budget.release, (60,))
    freed.start()
    assert budget.reserve(50, 5)  # waits for room
    freed.join()
    budget.release(50)
    assert budget.used == 0


def test_a_body_that_finds_no_room_is_a_503_unread():
    ws = Workspace()
    with LoopbackServer(ws, read_timeout=0.2, max_upload_bytes=1000, max_json_bytes=1000,
                        max_inflight_body_bytes=1000).start() as server:
        auth = {"Authorization": f"Bearer {ws.token}"}
        budget = server._server.body_budget
        assert budget.limit == 1000 and budget.reserve(900, 0)  # another upload holds most of it
        r = requests.put(f"{server.url}{PATH}", data=b"x" * 500, headers=auth)
        assert r.status_code == 503 and r.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        budget.release(900)
        assert requests.put(f"{server.url}{PATH}", data=b"x" * 500, headers=auth).status_code == 204
        deadline = time.monotonic() + 5  # given back right after the answer is written
        while budget.used and time.monotonic() < deadline:
            time.sleep(0.01)
        assert budget.used == 0
