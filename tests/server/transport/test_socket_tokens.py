"""A workspace on a socket accepts only a random token (issue 17, defect 7): ``mlemu.serve(ws)``,
the ``mlemu_server`` and ``mlemu_session_server`` fixtures and ``mlemu ui`` used to serve the
token drawn from the seed, which any local process can compute. In-process, tokens stay
deterministic."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
import requests

import mlemu
from mlemu import Workspace

pytest_plugins = ["pytester"]

SEEDED = Workspace(seed=0).token  # what any local process can compute


def _status(url: str, token: str) -> int:
    return requests.get(f"{url}/api/2.0/preview/scim/v2/Me", headers={"Authorization": f"Bearer {token}"},
                        timeout=30).status_code


def test_the_seeded_token_is_refused_over_the_socket_and_the_random_one_works():
    ws = Workspace(seed=0)
    assert ws.token == SEEDED
    with mlemu.serve(ws) as server:
        assert ws.token != SEEDED and ws.token.startswith("dapi") and len(ws.token) >= 36
        assert _status(server.url, SEEDED) == 403
        assert _status(server.url, ws.token) == 200
        extra = ws.add_token()
        assert extra != Workspace(seed=0).add_token() and _status(server.url, extra) == 200
    with mlemu.serve(Workspace(seed=0)) as other:
        assert other.workspace.token not in (SEEDED, ws.token)


def test_in_process_tokens_stay_deterministic():
    a, b = Workspace(seed=3), Workspace(seed=3)
    assert a.token == b.token and a.add_token() == b.add_token()
    with mlemu.emulate(a) as ws:
        from databricks.sdk import WorkspaceClient
        assert os.environ["DATABRICKS_TOKEN"] == b.token
        assert WorkspaceClient().current_user.me().user_name == ws.user.user_name


def test_the_mlemu_server_fixture_exports_the_random_token(mlemu, mlemu_server):
    from databricks.sdk import WorkspaceClient

    assert os.environ["DATABRICKS_TOKEN"] == mlemu.token != SEEDED
    assert _status(mlemu_server.url, SEEDED) == 403
    w = WorkspaceClient()
    assert w.config.host == mlemu_server.url
    w.files.upload("/Volumes/main/default/v/a.txt", io.BytesIO(b"a"), overwrite=True)
    assert w.files.download("/Volumes/main/default/v/a.txt").contents.read() == b"a"


def test_a_restored_snapshot_or_a_reset_keeps_the_socket_token(mlemu, mlemu_server):
    snap = Workspace().snapshot()   # holds the seeded token
    mlemu.restore(snap)
    assert _status(mlemu_server.url, mlemu.token) == 200
    mlemu.reset()                   # rebuilt from the constructor's arguments: the seeded token
    assert _status(mlemu_server.url, mlemu.token) == 200
    assert _status(mlemu_server.url, SEEDED) == 403


@pytest.mark.mlemu(token="dapi-chosen-by-the-test")
def test_a_token_the_caller_chose_is_kept(mlemu, mlemu_server):
    assert mlemu.token == "dapi-chosen-by-the-test"
    assert _status(mlemu_server.url, "dapi-chosen-by-the-test") == 200


def test_presigned_urls_of_a_served_workspace_are_not_signed_with_the_seeded_secret():
    ws = Workspace(seed=0)
    seeded_secret = ws.secret
    with mlemu.serve(ws):
        assert ws.secret != seeded_secret == Workspace(seed=0).secret


def test_the_session_server_exports_a_random_token(pytester):
    pytester.makepyfile(test_session="""
        import requests
        from mlemu import Workspace

        def test_it(mlemu_session_server):
            token = mlemu_session_server.env["DATABRICKS_TOKEN"]
            assert token == mlemu_session_server.workspace.token != Workspace().token
            me = mlemu_session_server.url + "/api/2.0/preview/scim/v2/Me"
            assert requests.get(me, headers={"Authorization": "Bearer " + token}).status_code == 200
            assert requests.get(me, headers={"Authorization": "Bearer " + Workspace().token}).status_code == 403
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", timeout=300)
    result.assert_outcomes(passed=1)


def test_mlemu_ui_refuses_the_token_saved_in_the_export(tmp_path):
    """An export holds its workspace's (seeded) tokens; the UI server of it takes only its own."""
    pytest.importorskip("mlflow")
    from mlemu.server.ui.bundle import UiUnavailable, build_dir
    try:
        build_dir()
    except UiUnavailable as e:
        pytest.skip(str(e))
    path = Workspace(seed=0).export(tmp_path / "w.zip")
    proc = subprocess.Popen([sys.executable, "-m", "mlemu.cli", "ui", str(path), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        env = dict(proc.stdout.readline().strip().removeprefix("export ").partition("=")[::2] for _ in range(2))
        assert _status(env["DATABRICKS_HOST"], env["DATABRICKS_TOKEN"]) == 200
        assert _status(env["DATABRICKS_HOST"], SEEDED) == 403
    finally:
        proc.terminate()
        proc.wait(timeout=10)
