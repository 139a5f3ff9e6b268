"""``mlemu serve`` in a subprocess, used by another process: the subprocess scenario."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.serve_cli import serve_cli


@pytest.fixture
def served(tmp_path):
    with serve_cli("--artifact-root", str(tmp_path)) as env:
        yield env


def test_serve_answers_a_client_in_another_process(served):
    code = ("from databricks.sdk import WorkspaceClient; w = WorkspaceClient(); "
            "w.workspace.mkdirs('/Shared/from-subprocess'); "
            "print([o.path for o in w.workspace.list('/Shared')])")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")} | served
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['/Shared/from-subprocess']"
    assert served["DATABRICKS_HOST"].startswith("http://127.0.0.1:")


def test_coverage_lists_every_route():
    out = subprocess.run([sys.executable, "-m", "mlemu.cli", "coverage", "--no-sweep"], capture_output=True, text=True)
    assert out.returncode == 0
    from mlemu.server import plugins

    for route in plugins.app().routes:
        assert f"`{route.rule}`" in out.stdout


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_removes_its_temporary_file_root_when_stopped(stop):
    proc = subprocess.Popen([sys.executable, "-m", "mlemu.cli", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "files under" not in line:
            line = proc.stderr.readline()
            assert line, "mlemu serve ended before it said where its files are"
        root = line.split("files under ", 1)[1].split(")", 1)[0]
        assert os.path.isdir(root)
        proc.send_signal(stop)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not os.path.exists(root)
