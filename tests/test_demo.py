"""The README's demo (``bash scripts/demo.sh`` runs demo/demo.py) runs, and its first run is
clean: no warnings, no deprecation notices, no ANSI banners."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

DEMO = pathlib.Path(__file__).resolve().parents[1] / "demo" / "demo.py"


def test_the_demo_runs_cleanly(tmp_path):
    pytest.importorskip("sklearn", reason="the demo trains a scikit-learn model")
    done = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "champion predicts like the trained model: True" in out
    noise = [line for line in out.splitlines()
             if "WARNING" in line or "deprecated" in line.lower() or "\x1b[" in line or "Traceback" in line]
    assert noise == [], "\n".join(noise)
