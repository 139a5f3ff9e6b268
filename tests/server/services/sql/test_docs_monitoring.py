"""docs/monitoring.md's copy-paste test of the seed's monitoring queries runs as written."""
from __future__ import annotations

import re
from pathlib import Path

from tests.server.services.sql.helpers import require_engine

require_engine()

DOC = Path(__file__).resolve().parents[4] / "docs" / "monitoring.md"


def test_the_seed_queries_block_of_monitoring_md(mlemu):
    block = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)[0]
    namespace: dict = {}
    exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - the doc's own test code
    namespace["test_seed_monitoring_queries"](mlemu)


def test_the_cancel_block_of_monitoring_md(mlemu):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    (block,) = [b for b in blocks if "def test_a_long_statement_can_be_canceled" in b]
    namespace: dict = {}
    exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - the doc's own test code
    namespace["test_a_long_statement_can_be_canceled"](mlemu)
