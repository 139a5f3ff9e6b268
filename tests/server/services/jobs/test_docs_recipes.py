"""docs/notebooks-and-jobs.md: every Python block runs as written, as a test in a user's project
(a fresh pytest process, only mlemu's public fixtures)."""
from __future__ import annotations

import pathlib
import re

import pytest

pytest_plugins = ["pytester"]

DOC = pathlib.Path(__file__).resolve().parents[4] / "docs" / "notebooks-and-jobs.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_recipe_runs_as_written(pytester, index):
    pytest.importorskip("databricks.sdk")
    block = BLOCKS[index]
    pytester.makepyfile(test_recipe=block)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=block.count("\ndef test_"))


def test_the_page_has_recipes():
    assert len(BLOCKS) >= 2
