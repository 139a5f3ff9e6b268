"""``mlemu serve --ui`` in a subprocess: it prints the client environment and a login URL
whose ``?token=`` hop sets the UI's header cookie; data calls still need the token."""
from __future__ import annotations

import subprocess
import sys

import pytest
import requests


def test_serve_ui_prints_a_login_url_that_logs_the_browser_in():
    pytest.importorskip("mlflow.server", reason="the full mlflow wheel ships the UI")
    from mlemu.server.ui.bundle import UiUnavailable, build_dir
    try:
        build_dir()
    except UiUnavailable as e:
        pytest.skip(str(e))
    proc = subprocess.Popen([sys.executable, "-m", "mlemu.cli", "serve", "--port", "0", "--memory", "--ui"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        host = lines[0].removeprefix("export DATABRICKS_HOST=")
        token = lines[1].removeprefix("export DATABRICKS_TOKEN=")
        assert lines[2].startswith("# MLflow UI (mlflow ")
        login = lines[2].rsplit(" ", 1)[1]
        assert login == f"{host}/?token={token}"
        session = requests.Session()
        page = session.get(login)
        assert page.status_code == 200 and b"<title>MLflow</title>" in page.content  # redirected to /
        assert session.cookies["mlflow-request-header-Authorization"] == f"Bearer%20{token}"
        # Issue 17, defect 13: the session ends, and the page says where it may run and be framed.
        hop = requests.get(login, allow_redirects=False)
        assert "Max-Age=28800" in hop.headers["set-cookie"]
        cookie = next(c for c in session.cookies if c.name == "mlflow-request-header-Authorization")
        assert cookie.expires is not None
        assert page.headers["x-frame-options"] == "SAMEORIGIN"
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'self'" in policy and "object-src 'none'" in policy
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
        # The cookie is for the UI's JavaScript; the server still wants the header.
        assert session.get(f"{host}/ajax-api/2.0/mlflow/experiments/search").status_code == 401
        ok = session.get(f"{host}/ajax-api/2.0/mlflow/experiments/search",
                         headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_ui_without_the_ui_files_says_what_to_install(monkeypatch, capsys):
    from mlemu import cli
    from mlemu.server.ui import bundle

    def no_ui() -> None:
        raise bundle.UiUnavailable("Only mlflow-skinny 3.17.2 is installed, which ships without the web UI")

    monkeypatch.setattr(bundle, "build_dir", no_ui)
    assert cli.main(["serve", "--ui", "--port", "0", "--memory"]) == 2
    assert "mlflow-skinny 3.17.2" in capsys.readouterr().err


@pytest.mark.mlemu(ui=True)
def test_server_fixture_serves_the_ui(mlemu_server):
    from mlemu.server.ui.bundle import UiUnavailable, build_dir
    try:
        build_dir()
    except UiUnavailable as e:
        pytest.skip(str(e))
    session = requests.Session()
    page = session.get(mlemu_server.login_url)
    assert page.status_code == 200 and b"<title>MLflow</title>" in page.content
    assert session.get(f"{mlemu_server.url}/ajax-api/3.0/mlflow/server-info",
                       headers={"Authorization": f"Bearer {mlemu_server.ws.token}"}).status_code == 200


def test_mlemu_ui_opens_a_saved_workspace(tmp_path):
    """A failed test's export (``--mlemu-keep-failed``) opens in the UI with one command."""
    pytest.importorskip("mlflow.server", reason="the full mlflow wheel ships the UI")
    from mlemu.server.ui.bundle import UiUnavailable, build_dir
    try:
        build_dir()
    except UiUnavailable as e:
        pytest.skip(str(e))
    import mlemu
    from mlflow import MlflowClient

    with mlemu.emulate() as ws:
        client = MlflowClient()
        exp = client.create_experiment("/Shared/saved")
        run = client.create_run(exp, run_name="the-failed-one")
        client.log_metric(run.info.run_id, "loss", 0.25)
        saved = ws.export(tmp_path / "failed.zip")
    proc = subprocess.Popen([sys.executable, "-m", "mlemu.cli", "ui", str(saved), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        host = lines[0].removeprefix("export DATABRICKS_HOST=")
        token = lines[1].removeprefix("export DATABRICKS_TOKEN=")
        login = lines[2].rsplit(" ", 1)[1]
        session = requests.Session()
        assert b"<title>MLflow</title>" in session.get(login).content
        auth = {"Authorization": f"Bearer {token}"}
        found = session.post(f"{host}/ajax-api/2.0/mlflow/runs/search", json={"experiment_ids": [exp]},
                             headers=auth).json()["runs"]
        assert [r["info"]["run_name"] for r in found] == ["the-failed-one"]
        assert found[0]["data"]["metrics"][0]["value"] == 0.25
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_mlemu_ui_refuses_a_file_that_is_not_an_export(tmp_path, capsys):
    from mlemu import cli
    from mlemu.server.ui.bundle import UiUnavailable, build_dir
    try:
        build_dir()
    except UiUnavailable as e:
        pytest.skip(str(e))
    bad = tmp_path / "nope.zip"
    bad.write_bytes(b"not a zip")
    assert cli.main(["ui", str(bad), "--port", "0"]) == 2
    assert "cannot open" in capsys.readouterr().err
