"""The docs that are generated from the code are current."""
from __future__ import annotations

import pathlib

from mlemu.toolkit.coverage import render_routes, split

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_coverage_table_is_current():
    """The routing-table part (the sweep part is checked by tests/toolkit/test_coverage_sweep.py)."""
    committed = (ROOT / "docs" / "coverage.md").read_text()
    assert split(committed)[1].rstrip("\n") == render_routes().rstrip("\n"), \
        "run: mlemu coverage -o docs/coverage.md"


def test_every_route_names_the_client_calls_that_reach_it():
    from mlemu.server import plugins

    missing = [f"{r.method} {r.rule}" for r in plugins.app().routes if not r.client_calls]
    # Presigned HEAD is only reached by tools that probe URLs; everything else must say.
    assert all("presigned" in m for m in missing), missing
