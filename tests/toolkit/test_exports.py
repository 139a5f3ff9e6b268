"""Exports hold data only (issue 17, defect 3): every service's state round-trips through the
JSON format exactly, and an old pickle export or a hostile file is refused with
``UnreadableExport``, never run."""
from __future__ import annotations

import json
import pickle
import subprocess
import sys
import zipfile

import pytest

import mlemu as mlemu_pkg
from mlemu.toolkit import persistence
from mlemu.toolkit.persistence import UnreadableExport
from tests.toolkit import scenario

pytest.importorskip("duckdb")
pytest.importorskip("scipy")


def _state_json(ws) -> str:
    with ws.lock:
        data, files = persistence.to_data(ws)
        for _, buf in files:
            if isinstance(buf, memoryview):
                buf.release()
    return persistence.dumps_json(data).decode()


def test_every_service_round_trips_exactly(mlemu, tmp_path):
    from mlemu.toolkit.builders import Builders

    ids = scenario.build(mlemu, Builders(mlemu))
    assert set(scenario.SERVICES) - set(persistence.service_names(mlemu)) == set()
    before = _state_json(mlemu)
    path = mlemu.export(tmp_path / "ws.zip")
    loaded = mlemu_pkg.Workspace.load(path)
    assert _state_json(loaded) == before  # object for object: ids, clock, PRNGs, frames, files
    assert loaded.export(tmp_path / "again.zip") and \
        (tmp_path / "again.zip").read_bytes() == (tmp_path / "ws.zip").read_bytes()
    table = loaded.unity_catalog.read_table("main.ml.features")
    import pandas as pd
    pd.testing.assert_frame_equal(table, scenario.frame(), check_exact=True)

    # ... and the loaded workspace answers the real clients as the original did
    import mlflow
    from databricks.sdk import WorkspaceClient

    mlemu.stop()
    try:
        with mlemu_pkg.emulate(loaded):
            w = WorkspaceClient()
            run = mlflow.get_run(ids["run_id"])
            assert (run.data.params, run.data.tags["team"]) == ({"lr": "0.1"}, "risk")
            done, pending = (w.statement_execution.get_statement(s) for s in ids["statements"])
            assert done.result.data_array == [["1", "2.50", "2024-01-02", "x"]]
            assert pending.status.state.value == "RUNNING"  # the poll moves it on, as before
            assert w.files.download("/Volumes/main/ml/vol/data.bin").contents.read() == b"\x00\x01binary"
            w.dbfs.close(ids["dbfs_handle"])
            assert w.dbfs.read("/tmp/stream.bin").data == "YWJj"
            assert w.serving_endpoints.query("tiny-ep", dataframe_records=[{"x": 2.0, "y": 0.5}]).predictions == [2.5]
            # a UDF's Python body comes back as data, never run (unity_catalog/test_functions.py)
            assert loaded.unity_catalog.functions.get("main.ml.double_it").from_file
            assert w.model_registry.update_comment(ids["comment_id"], "edited").comment.comment == "edited"
    finally:
        mlemu.start()


def test_export_manifest_and_entries(mlemu, tmp_path):
    scenario.build(mlemu)
    path = mlemu.export(tmp_path / "ws.zip")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        state = json.loads(zf.read("state.json"))
        names = zf.namelist()
    assert manifest["format"] == "mlemu-workspace" and manifest["format_version"] == 2
    assert manifest["file_store"] == "archive" and "state.pickle" not in names
    assert state["format_version"] == 2 and "tracking" in state["services"]
    entry = next(f for f in state["storage"]["files"] if f["path"].endswith("/data.bin"))
    assert entry["size"] == 8 and len(entry["sha256"]) == 64
    assert "files/files/Volumes/main/ml/vol/data.bin" in names
    assert names[:2] == ["manifest.json", "state.json"] and names[2:] == sorted(names[2:])


def _crafted_pickle(target: str) -> bytes:
    """A pickle that creates ``target`` when loaded (``open(target, "w")``)."""
    import builtins

    class Payload:
        def __reduce__(self):
            return (builtins.open, (target, "w"))
    return pickle.dumps({"services": Payload(), "storage": {}}, protocol=5)


def _zip(path, entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def _manifest(version: int = 2, **extra) -> bytes:
    return json.dumps({"format": "mlemu-workspace", "format_version": version, "services": [],
                       "workspace": {"workspace_id": "1", "user_name": "u@x.com", "host": None, "seed": 0},
                       **extra}).encode()


def test_a_pickle_export_is_refused_and_runs_nothing(tmp_path):
    target = tmp_path / "pwned.txt"
    crafted = _crafted_pickle(str(target))
    for name, manifest in (("v1.zip", _manifest(1)), ("v2-with-pickle.zip", _manifest(2))):
        path = tmp_path / name
        _zip(path, {"manifest.json": manifest, "state.pickle": crafted,
                    "state.json": json.dumps({"format_version": 2}).encode()})
        with pytest.raises(UnreadableExport, match="pickle") as e:
            mlemu_pkg.Workspace.load(path)
        assert e.value.path == str(path)
        assert not target.exists()
    # mlemu ui PATH (the advertised way to open a CI run's workspace) refuses it too
    proc = subprocess.run([sys.executable, "-m", "mlemu.cli", "ui", str(tmp_path / "v1.zip"), "--port", "0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "cannot" in proc.stderr and not target.exists()


def test_the_crafted_pickle_does_run_code_when_unpickled(tmp_path):
    """The control for the test above: the payload is live."""
    target = tmp_path / "pwned.txt"
    pickle.loads(_crafted_pickle(str(target)))
    assert target.exists()


def _valid_export(tmp_path) -> tuple[bytes, dict]:
    ws = mlemu_pkg.Workspace(seed=3)
    ws.tracking  # noqa: B018 - a service with state
    ws.storage.write("files", "/Volumes/c/s/v/f.txt", b"abc")
    path = ws.export(tmp_path / "valid.zip")
    with zipfile.ZipFile(path) as zf:
        return zf.read("manifest.json"), json.loads(zf.read("state.json"))


def _state(**changes):
    def change(state):
        for key, value in changes.items():
            node = state
            *parents, last = key.split("/")
            for p in parents:
                node = node[int(p)] if isinstance(node, list) else node[p]
            node[last if not isinstance(node, list) else int(last)] = value
        return state
    return change


HOSTILE = {
    "not a zip": None,
    "no manifest": {"state.json": b"{}"},
    "garbage manifest": {"manifest.json": b"\x00\xff{"},
    "another format": {"manifest.json": json.dumps({"format": "other"}).encode()},
    "newer version": {"manifest.json": _manifest(99)},
    "no state": {"manifest.json": _manifest(2)},
    "garbage state": {"manifest.json": _manifest(2), "state.json": b"{\"format_version\": 2, "},
    "deep state": {"manifest.json": _manifest(2), "state.json": b"[" * 100_000},
    "bad identity": {"manifest.json": json.dumps({"format": "mlemu-workspace", "format_version": 2,
                                                  "workspace": {"workspace_id": 5}}).encode()},
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_are_refused_with_the_reason(tmp_path, case):
    path = tmp_path / "hostile.zip"
    if HOSTILE[case] is None:
        path.write_bytes(b"PK\x03\x04 not really")
    else:
        _zip(path, HOSTILE[case])
    with pytest.raises(UnreadableExport) as e:
        mlemu_pkg.Workspace.load(path)
    assert str(path) in str(e.value) and e.value.reason


STATE_CHANGES = {
    "unknown value tag": _state(**{"services/tracking/experiments": [{"$eval": "1"}]}),
    "wrong type": _state(**{"services/tracking/runs": "x"}),
    "unknown service": _state(**{"services/nosuch": {}}),
    "traversal in storage": _state(**{"storage/dirs": ["/files/../../etc"]}),
    "path outside namespaces": _state(**{"storage/dirs": ["/elsewhere"]}),
    "digest mismatch": _state(**{"storage/files/0/sha256": "0" * 64}),
    "size mismatch": _state(**{"storage/files/0/size": 10**12}),
    "bad prng": _state(ids=[3, [1, 2], None]),
    "bad clock": _state(clock={"pinned_ms": "soon", "offset_ms": 0}),
    "missing key": _state(**{"services/tracking": {}}),
}


@pytest.mark.parametrize("case", sorted(STATE_CHANGES))
def test_malformed_state_is_refused_naming_the_part(tmp_path, case):
    manifest, state = _valid_export(tmp_path)
    path = tmp_path / "bad.zip"
    valid = tmp_path / "valid.zip"
    with zipfile.ZipFile(valid) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    entries["state.json"] = json.dumps(STATE_CHANGES[case](state)).encode()
    _zip(path, entries)
    with pytest.raises(UnreadableExport) as e:
        mlemu_pkg.Workspace.load(path)
    assert str(path) in str(e.value)


def test_a_checkpoint_with_external_files_is_not_an_export(tmp_path):
    manifest, state = _valid_export(tmp_path)
    meta = json.loads(manifest)
    meta["file_store"] = "blobs"
    path = tmp_path / "checkpoint.zip"
    _zip(path, {"manifest.json": json.dumps(meta).encode(), "state.json": json.dumps(state).encode()})
    with pytest.raises(UnreadableExport, match="blob store"):
        mlemu_pkg.Workspace.load(path)


def test_export_files_are_private(tmp_path):
    ws = mlemu_pkg.Workspace()
    path = ws.export(tmp_path / "ws.zip")
    import os
    import stat
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
