"""Every folder of conftest_examples/ passes as a user would run it (a separate pytest process)."""
from __future__ import annotations

import pathlib
import shutil

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "conftest_examples"
FOLDERS = sorted(p.name for p in EXAMPLES.iterdir() if (p / "conftest.py").exists())


@pytest.mark.parametrize("folder", FOLDERS)
def test_example_folder_passes(pytester, folder):
    pytest.importorskip("mlflow")
    for f in (EXAMPLES / folder).glob("*.py"):
        pytester.makepyfile(**{f.stem: f.read_text()})
    for sub in (EXAMPLES / folder).iterdir():  # a project's other files (bundle YAML, notebooks)
        if sub.is_dir() and sub.name != "__pycache__":
            shutil.copytree(sub, pytester.path / sub.name, ignore=shutil.ignore_patterns("__pycache__"))
        elif sub.is_file() and sub.suffix != ".py":
            shutil.copy(sub, pytester.path / sub.name)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=300)
    expected = sum(f.read_text().count("\ndef test_") for f in (EXAMPLES / folder).glob("test_*.py"))
    result.assert_outcomes(passed=expected)
