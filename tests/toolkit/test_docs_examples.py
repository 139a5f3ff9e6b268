"""The toolkit pages' examples, and the serving page's, run as written in a user's project
(a fresh pytest process, no conftest: only mlemu's public fixtures)."""
from __future__ import annotations

import pathlib
import re

import pytest

pytest_plugins = ["pytester"]

# imported here, not in the tests: pytester restores sys.modules after each test, and numpy
# cannot be imported twice in one process
pytest.importorskip("mlflow")
pytest.importorskip("sklearn")

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"


def _blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.S)


@pytest.mark.parametrize("page, needle", [
    ("serving.md", "def test_serving("),
    ("faults.md", "def test_log_batch_survives_throttling"),
    ("builders.md", "def test_scoring_uses_the_champion"),
    ("assertions.md", "def test_params_are_logged"),
    ("model-logging.md", "def test_model_logging_is_fast"),
])
def test_page_example_runs_as_written(pytester, page, needle):
    [block] = [b for b in _blocks(page) if needle in b]
    pytester.makepyfile(test_example=block)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", timeout=300)
    result.assert_outcomes(passed=block.count("\ndef test_") + block.startswith("def test_"))
