"""``w.tables.update`` (the owner) and ``w.tables.list_summaries`` (LIKE patterns, paging)
through the real SDK."""
from __future__ import annotations

import pandas as pd
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound


@pytest.fixture
def w(mlemu) -> WorkspaceClient:
    uc = mlemu.unity_catalog
    for name in ("main.ml.features", "main.ml.feature_log", "main.ml.scores", "main.raw.events"):
        uc.ensure_schema(name.rsplit(".", 1)[0])
        uc.put_table(name, pd.DataFrame({"a": [1]}))
    return WorkspaceClient()


def test_update_sets_the_owner(w):
    w.tables.update("main.ml.scores", owner="ml-team")
    assert w.tables.get("main.ml.scores").owner == "ml-team"
    with pytest.raises(NotFound):
        w.tables.update("main.ml.nope", owner="x")


def test_list_summaries_filters_with_like_patterns(w):
    every = [t.full_name for t in w.tables.list_summaries("main")]
    assert every == ["main.ml.feature_log", "main.ml.features", "main.ml.scores", "main.raw.events"]
    ml = [t.full_name for t in w.tables.list_summaries("main", schema_name_pattern="ml", table_name_pattern="feature%")]
    assert ml == ["main.ml.feature_log", "main.ml.features"]
    one = [t.full_name for t in w.tables.list_summaries("main", table_name_pattern="_cores")]
    assert one == ["main.ml.scores"]
    assert {t.table_type.value for t in w.tables.list_summaries("main")} == {"MANAGED"}
    paged = [t.full_name for t in w.tables.list_summaries("main", max_results=1)]
    assert paged == every  # the SDK follows next_page_token
    with pytest.raises(NotFound):
        list(w.tables.list_summaries("no_such_catalog"))
