"""The copyable test in ``docs/feature-store.md`` runs as written (in a fresh pytest, with
the mlemu plugin, as a user's suite would)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "feature-store.md"


def recipe_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    return [b for b in blocks if b.startswith("import ") and "def test_" in b]


def test_the_docs_recipe_passes(tmp_path):
    (block,) = recipe_blocks()
    (tmp_path / "test_recipe.py").write_text(block)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATABRICKS_", "MLFLOW_"))}
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_recipe.py"],
                         cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "1 passed" in out.stdout
