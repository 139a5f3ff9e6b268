"""Test helper: ``mlemu serve`` in a subprocess, with the environment it prints."""
from __future__ import annotations

import contextlib
import subprocess
import sys
from typing import Iterator


@contextlib.contextmanager
def serve_cli(*args: str) -> Iterator[dict[str, str]]:
    """Start ``mlemu serve --port 0 *args``; yield ``{"DATABRICKS_HOST": ..., "DATABRICKS_TOKEN": ...}``."""
    proc = subprocess.Popen([sys.executable, "-m", "mlemu.cli", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        env = {}
        for _ in range(2):
            key, _, value = proc.stdout.readline().strip().removeprefix("export ").partition("=")
            env[key] = value
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=10)
