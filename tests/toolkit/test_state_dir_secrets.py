"""``--state-dir`` keeps its secrets private (issue 17, defect 6): the directory is 0700, its
files 0600, and no token header reaches the write-ahead log; replay still authenticates."""
from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from mlemu.toolkit.statedir import open_state_dir
from mlemu.workspace import Workspace

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")


def _mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("exists", [False, True])
def test_directory_0700_and_files_0600(tmp_path, exists):
    d = str(tmp_path / "state")
    if exists:
        os.mkdir(d, 0o755)
        os.chmod(d, 0o755)
    old = os.umask(0o022)
    try:
        dw = open_state_dir(d, Workspace)
        dw.handle("POST", "/api/2.0/mlflow/experiments/create", "",
                  {"Authorization": f"Bearer {dw.workspace.token}"}, b'{"name": "/Shared/x"}')
        dw.close()
        open_state_dir(d, Workspace).close()  # a second start writes a new checkpoint and meta.json
    finally:
        os.umask(old)
    assert _mode(d) == 0o700
    names = sorted(os.listdir(d))
    assert "meta.json" in names and "wal.log" in names and any(n.startswith("checkpoint-") for n in names)
    for here, dirs, files in os.walk(d):
        for name in dirs:
            assert _mode(os.path.join(here, name)) == 0o700, name
        for name in files:
            assert _mode(os.path.join(here, name)) == 0o600, name


def test_no_token_header_is_logged_and_replay_still_authenticates(tmp_path):
    d = str(tmp_path / "state")
    dw = open_state_dir(d, Workspace)
    token = dw.workspace.token
    second = dw.workspace.add_token()
    secret_headers = {"Authorization": f"Bearer {second}", "Cookie": "session=c00kie-value",
                      "X-Databricks-Token": "hdr-token-value", "X-Api-Key": "key-value",
                      "Content-Type": "application/json"}
    ok = dw.handle("POST", "/api/2.0/mlflow/experiments/create", "", secret_headers, b'{"name": "/Shared/ok"}')
    refused = dw.handle("POST", "/api/2.0/mlflow/experiments/create", "",
                        {"Authorization": "Bearer dapi-wrong-token-value"}, b'{"name": "/Shared/refused"}')
    anonymous = dw.handle("POST", "/api/2.0/mlflow/experiments/create", "", {}, b'{"name": "/Shared/anon"}')
    assert (ok[0], refused[0], anonymous[0]) == (200, 403, 401)
    dw.close()
    log = open(os.path.join(d, "wal.log"), "rb").read()
    assert log  # the writes were logged...
    for value in (token, second, "c00kie-value", "hdr-token-value", "key-value", "dapi-wrong-token-value"):
        assert value.encode() not in log  # ...without any credential
    ws = open_state_dir(d, Workspace).workspace
    _, _, out = ws.handle("POST", "/api/2.0/mlflow/experiments/search", "",
                          {"Authorization": f"Bearer {token}"}, b'{"max_results": 100}')
    names = {e["name"] for e in json.loads(out)["experiments"]}
    assert "/Shared/ok" in names and not {"/Shared/refused", "/Shared/anon"} & names
