"""Server-mode credentials (issue 8, defect 6): ``mlemu serve`` mints an unpredictable token,
pre-signed URLs are signed with a per-workspace secret and built from the server's own address
(never the ``Host`` header), and binding a non-loopback interface warns."""
from __future__ import annotations

import io
import warnings

import pytest
import requests

from mlemu import Workspace, emulate, serve
from mlemu.server.transport.server import LoopbackServer, is_loopback
from tests.serve_cli import serve_cli

VOL = "/Volumes/main/default/vol"


def _serve_and_read_env(*extra: str) -> dict[str, str]:
    with serve_cli("--memory", *extra) as env:
        return env


def test_two_default_servers_have_different_unpredictable_tokens():
    a, b = _serve_and_read_env(), _serve_and_read_env()
    assert a["DATABRICKS_TOKEN"] != b["DATABRICKS_TOKEN"]
    assert a["DATABRICKS_TOKEN"] != Workspace(seed=0).token  # not the seed-0 token of old
    assert a["DATABRICKS_TOKEN"].startswith("dapi") and len(a["DATABRICKS_TOKEN"]) >= 36
    assert _serve_and_read_env("--token", "dapi-given")["DATABRICKS_TOKEN"] == "dapi-given"


def test_in_process_tokens_stay_seeded():
    assert Workspace(seed=5).token == Workspace(seed=5).token != Workspace(seed=6).token


def _upload_url_of(ws, base: str) -> str:
    r = requests.post(f"{base}/api/2.0/fs/create-download-url", json={"path": f"{VOL}/secret.txt"},
                      headers={"Authorization": f"Bearer {ws.token}", "Host": "attacker.example"})
    assert r.status_code == 200, r.text
    return r.json()["url"]


def test_same_seed_workspace_cannot_use_anothers_presigned_url():
    import secrets

    a = Workspace(seed=1, secret=secrets.token_bytes(32))
    b = Workspace(seed=1, secret=secrets.token_bytes(32))
    for ws in (a, b):
        ws.storage.write("files", f"{VOL}/secret.txt", b"of " + str(id(ws)).encode())
    with serve(a) as sa, serve(b) as sb:
        url_a = _upload_url_of(a, sa.url)
        assert requests.get(url_a).content == b"of " + str(id(a)).encode()
        # The same grant id exists in b (same seed), but the signature is a's.
        forged = url_a.replace(sa.url, sb.url)
        r = requests.get(forged)
        assert r.status_code == 403 and b"AccessDenied" in r.content


def test_in_process_presigned_urls_are_deterministic():
    urls = []
    for _ in range(2):
        with emulate(Workspace(seed=3)) as ws:
            ws.clock.freeze(1_700_000_000_000)
            ws.storage.write("files", f"{VOL}/secret.txt", b"a")
            urls.append(_upload_url_of(ws, ws.host))
    assert urls[0] == urls[1]


def test_tampered_signature_is_refused(mlemu):
    mlemu.storage.write("files", f"{VOL}/secret.txt", b"x")
    url = _upload_url_of(mlemu, mlemu.host)
    assert requests.get(url).status_code == 200
    base, token_and_path = url.split("/presigned/")
    grant_id, sig_and_path = token_and_path.split("-", 1)
    flipped = ("0" if sig_and_path[0] != "0" else "1") + sig_and_path[1:]
    assert requests.get(f"{base}/presigned/{grant_id}-{flipped}").status_code == 403
    assert requests.get(f"{base}/presigned/{grant_id}{sig_and_path[32:]}").status_code == 403


def test_presigned_urls_ignore_the_host_header(mlemu, mlemu_server):
    from databricks.sdk import WorkspaceClient

    mlemu.storage.write("files", f"{VOL}/secret.txt", b"x")
    url = _upload_url_of(mlemu, mlemu_server.url)  # sent with Host: attacker.example
    assert url.startswith(mlemu_server.url + "/presigned/")
    assert "attacker" not in url
    w = WorkspaceClient()  # and the SDK still downloads through the URL
    w.files.upload(f"{VOL}/b.txt", io.BytesIO(b"bee"))
    assert w.files.download(f"{VOL}/b.txt").contents.read() == b"bee"


def test_public_url_names_the_presigned_host(mlemu):
    with serve(mlemu, public_url="http://mlemu.example:1234/") as s:
        mlemu.storage.write("files", f"{VOL}/secret.txt", b"x")
        assert _upload_url_of(mlemu, s.url).startswith("http://mlemu.example:1234/presigned/")


def test_non_loopback_bind_warns():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("example.com")
    with pytest.warns(RuntimeWarning, match="not a loopback interface"):
        LoopbackServer(Workspace(), "0.0.0.0", 0)._server.server_close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LoopbackServer(Workspace(), "127.0.0.1", 0)._server.server_close()
