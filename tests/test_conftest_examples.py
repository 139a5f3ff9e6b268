"""Every folder of conftest_examples/ passes as a user would run it."""
from __future__ import annotations

import pathlib

import pytest

import databricks.sdk  # noqa: F401  (imported before pytester snapshots sys.modules)
import requests  # noqa: F401

import mlemu.emulation  # noqa: F401
import mlemu.plugins
import mlemu.transport.inprocess  # noqa: F401
import mlemu.transport.server  # noqa: F401

pytest_plugins = ["pytester"]
mlemu.plugins.app()

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "conftest_examples"
FOLDERS = sorted(p.name for p in EXAMPLES.iterdir() if (p / "conftest.py").exists())


@pytest.mark.parametrize("folder", FOLDERS)
def test_example_folder_passes(pytester, folder):
    pytest.importorskip("mlflow")
    import mlflow  # noqa: F401  (same reason as above)

    for f in (EXAMPLES / folder).glob("*.py"):
        pytester.makepyfile(**{f.stem: f.read_text()})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    expected = sum(f.read_text().count("\ndef test_") for f in (EXAMPLES / folder).glob("test_*.py"))
    result.assert_outcomes(passed=expected)
