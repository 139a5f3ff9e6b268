"""A damaged ``--state-dir`` is refused with a message naming the file and record, and left
as it was; ``--recover-prefix`` keeps the valid records before the damage (issue 17, defect 5)."""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib

import pytest

from mlemu.toolkit import wal
from mlemu.toolkit.statedir import StateDirError, open_state_dir
from mlemu.workspace import Workspace


def make_state_dir(directory: str, experiments: int = 20, first: int = 0) -> list[str]:
    """A state directory whose log holds ``experiments`` experiment creations (not yet
    checkpointed: the server was killed). Returns their ids."""
    dw = open_state_dir(directory, Workspace)
    token = dw.workspace.token
    ids = []
    for i in range(first, first + experiments):
        _, _, out = dw.handle("POST", "/api/2.0/mlflow/experiments/create", "",
                              {"Authorization": f"Bearer {token}"}, json.dumps({"name": f"/Shared/e{i}"}).encode())
        ids.append(json.loads(out)["experiment_id"])
    dw.close()
    return ids


def offsets(path: str) -> list[int]:
    data = open(path, "rb").read()
    out, pos = [], 0
    while pos < len(data):
        out.append(pos)
        pos += wal.HEAD.size + struct.unpack_from(">I", data, pos)[0]
    return out


def experiments(dw) -> list[str]:
    ws = dw.workspace
    _, _, out = ws.handle("POST", "/api/2.0/mlflow/experiments/search", "",
                          {"Authorization": f"Bearer {ws.token}"}, b'{"max_results": 1000}')
    return sorted(e["name"] for e in json.loads(out).get("experiments", []) if e["name"].startswith("/Shared/e"))


def snapshot_files(directory: str) -> dict[str, bytes]:
    return {n: open(os.path.join(directory, n), "rb").read() for n in sorted(os.listdir(directory))
            if os.path.isfile(os.path.join(directory, n))}


def test_a_flipped_bit_is_refused_naming_the_record_and_the_log_is_kept(tmp_path):
    d = str(tmp_path / "s")
    make_state_dir(d)
    log = os.path.join(d, "wal.log")
    data = bytearray(open(log, "rb").read())
    data[offsets(log)[3] + wal.HEAD.size + 5] ^= 0x10  # record 4 of 20
    open(log, "wb").write(bytes(data))
    before = snapshot_files(d)
    with pytest.raises(StateDirError) as e:
        open_state_dir(d, Workspace)
    assert "wal.log" in str(e.value) and "record 4" in str(e.value) and "--recover-prefix" in str(e.value)
    assert snapshot_files(d) == before  # nothing erased, nothing rewritten
    dw = open_state_dir(d, Workspace, recover_prefix=True)
    assert experiments(dw) == ["/Shared/e0", "/Shared/e1", "/Shared/e2"]
    assert open(os.path.join(d, "wal.log.damaged-1"), "rb").read() == bytes(data)
    assert "record 4" in dw.notes[0]
    dw.close()


def _rewrite_record(log: str, index: int, payload: bytes) -> None:
    """Replace record ``index`` with ``payload`` under valid checksums."""
    data = open(log, "rb").read()
    starts = offsets(log) + [len(data)]
    head = struct.pack(">II", len(payload), zlib.crc32(payload))
    rec = head + struct.pack(">I", zlib.crc32(head)) + payload
    open(log, "wb").write(data[:starts[index]] + rec + data[starts[index + 1]:])


@pytest.mark.parametrize("payload, reason", [
    (b"{not json", "not valid JSON"),
    (b'{"seq": 3}', "has no 'clock'"),
    (b'[1, 2]', "not a JSON object"),
])
def test_checksummed_nonsense_is_refused(tmp_path, payload, reason):
    d = str(tmp_path / "s")
    make_state_dir(d, 5)
    _rewrite_record(os.path.join(d, "wal.log"), 2, payload)
    with pytest.raises(StateDirError, match=f"record 3 .*{reason}"):
        open_state_dir(d, Workspace)


@pytest.mark.parametrize("damage", ["garbage", "huge-length", "seq-gap"])
def test_garbage_and_huge_lengths_do_not_start_empty(tmp_path, damage):
    d = str(tmp_path / "s")
    make_state_dir(d, 5)
    log = os.path.join(d, "wal.log")
    data = bytearray(open(log, "rb").read())
    if damage == "garbage":
        data = bytearray(os.urandom(len(data)))
    elif damage == "huge-length":
        data[0:4] = struct.pack(">I", 0x7FFFFFF0)
    else:
        payload = json.loads(data[wal.HEAD.size: offsets(log)[1]])
        payload["seq"] += 7
        open(log, "wb").write(bytes(data))
        _rewrite_record(log, 0, json.dumps(payload).encode())
        data = bytearray(open(log, "rb").read())
    open(log, "wb").write(bytes(data))
    with pytest.raises(StateDirError, match="record 2 .*seq" if damage == "seq-gap" else "record 1"):
        open_state_dir(d, Workspace)
    assert open(log, "rb").read() == bytes(data)


def test_a_torn_tail_is_a_crash_not_damage(tmp_path):
    d = str(tmp_path / "s")
    make_state_dir(d, 5)
    log = os.path.join(d, "wal.log")
    record = wal.encode({"seq": 99})
    with open(log, "ab") as fh:
        fh.write(record[:7] if os.urandom(1)[0] % 2 else record[:-3])
    dw = open_state_dir(d, Workspace)
    assert len(experiments(dw)) == 5 and dw.notes == []
    dw.close()


@pytest.mark.parametrize("case", ["truncated-meta", "meta-not-object", "meta-missing-keys", "meta-missing",
                                  "meta-seq-changed", "meta-token-changed",
                                  "garbage-checkpoint", "missing-checkpoint", "wal-is-a-directory",
                                  "dir-is-a-file"])
def test_damaged_files_give_clear_errors(tmp_path, case):
    d = str(tmp_path / "s")
    make_state_dir(d, 3)
    open_state_dir(d, Workspace).close()  # now with a checkpoint
    make_state_dir(d, 2, first=3)
    meta_path = os.path.join(d, "meta.json")
    meta = json.load(open(meta_path))
    checkpoint = os.path.join(d, meta["checkpoint"])
    expect = "meta.json"
    if case == "truncated-meta":
        open(meta_path, "w").write(open(meta_path).read()[:40])
    elif case == "meta-not-object":
        open(meta_path, "w").write("[]")
    elif case == "meta-missing-keys":
        del meta["workspace"]
        json.dump(meta, open(meta_path, "w"))
    elif case in ("meta-seq-changed", "meta-token-changed"):  # would skip records / change identity
        if case == "meta-seq-changed":
            meta["checkpoint_seq"] += 4
        else:
            meta["workspace"]["token"] = "dapi" + "0" * 32
        json.dump(meta, open(meta_path, "w"))
    elif case == "meta-missing":
        os.unlink(meta_path)
    elif case == "garbage-checkpoint":
        open(checkpoint, "wb").write(os.urandom(500))
        expect = meta["checkpoint"]
    elif case == "missing-checkpoint":
        os.unlink(checkpoint)
        expect = meta["checkpoint"]
    elif case == "wal-is-a-directory":
        os.unlink(os.path.join(d, "wal.log"))
        os.mkdir(os.path.join(d, "wal.log"))
        expect = "wal.log"
    else:
        d = str(tmp_path / "file")
        open(d, "w").write("x")
        expect = "not a directory"
    with pytest.raises(StateDirError, match=expect.replace(".", r"\.")):
        open_state_dir(d, Workspace)


def test_the_cli_refuses_with_a_message_and_no_traceback(tmp_path):
    d = str(tmp_path / "s")
    make_state_dir(d, 3)
    log = os.path.join(d, "wal.log")
    data = bytearray(open(log, "rb").read())
    data[-2] ^= 1
    open(log, "wb").write(bytes(data))
    proc = subprocess.run([sys.executable, "-m", "mlemu.cli", "serve", "--port", "0", "--state-dir", d],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "record 3" in proc.stderr and "wal.log" in proc.stderr and "Traceback" not in proc.stderr
    assert open(log, "rb").read() == bytes(data)


def test_the_cli_recovers_the_prefix_when_asked(tmp_path):
    d = str(tmp_path / "s")
    make_state_dir(d, 3)
    log = os.path.join(d, "wal.log")
    data = bytearray(open(log, "rb").read())
    data[-2] ^= 1
    open(log, "wb").write(bytes(data))
    proc = subprocess.Popen([sys.executable, "-m", "mlemu.cli", "serve", "--port", "0", "--state-dir", d,
                             "--recover-prefix"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("export DATABRICKS_HOST=")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "kept the 2 valid records" in err and "wal.log.damaged-1" in err
    assert open(os.path.join(d, "wal.log.damaged-1"), "rb").read() == bytes(data)
    dw = open_state_dir(d, Workspace)
    assert experiments(dw) == ["/Shared/e0", "/Shared/e1"]
    dw.close()
