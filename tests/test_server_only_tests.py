"""The tests the second stack leaves out (``SERVER_ONLY`` in tests/conftest.py) must not run the
mlflow client: otherwise mlflow 2.22 would silently lose their coverage. Checked on the syntax
trees: no ``import mlflow`` / ``from mlflow ...`` but the version probe of the differential test."""
from __future__ import annotations

import ast
import pathlib

from tests.conftest import SERVER_ONLY

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: file -> why it may import mlflow anyway
ALLOWED = {"tests/server/wire/test_differential.py": "reads mlflow.__version__ to pick the server to compare with"}


def _files() -> list[pathlib.Path]:
    out = []
    for entry in SERVER_ONLY:
        path = ROOT / entry
        out.extend(sorted(path.rglob("*.py")) if entry.endswith("/") else [path])
    return out


def _imports_mlflow(path: pathlib.Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "mlflow" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "mlflow":
            return True
    return False


def test_every_listed_path_exists():
    assert [e for e in SERVER_ONLY if not (ROOT / e).exists()] == []


def test_server_only_tests_never_import_mlflow():
    files = _files()
    assert len(files) > 20
    offenders = [str(p.relative_to(ROOT)) for p in files
                 if _imports_mlflow(p) and str(p.relative_to(ROOT)) not in ALLOWED]
    assert offenders == [], "these run the mlflow client: take them out of SERVER_ONLY in tests/conftest.py"
