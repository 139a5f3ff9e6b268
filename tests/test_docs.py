"""The docs that are generated from the code are current."""
from __future__ import annotations

import pathlib

from mlemu.coverage import render_markdown

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_coverage_table_is_current():
    committed = (ROOT / "docs" / "coverage.md").read_text()
    assert committed == render_markdown(), "run: mlemu coverage -o docs/coverage.md"


def test_every_route_names_the_client_calls_that_reach_it():
    from mlemu import plugins

    missing = [f"{r.method} {r.rule}" for r in plugins.app().routes if not r.client_calls]
    # Presigned HEAD is only reached by tools that probe URLs; everything else must say.
    assert all("presigned" in m for m in missing), missing
