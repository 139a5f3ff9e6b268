"""``mlemu serve`` in a subprocess, used by another process: the subprocess scenario."""
from __future__ import annotations

import os
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
