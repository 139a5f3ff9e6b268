"""%sql cells through the workspace's SQL engine: results displayed and bound to _sqldf,
several statements per cell, widget values as parameters, USE kept between cells."""
from __future__ import annotations

import pandas as pd
import pytest

from mlemu.standins import notebooks
from mlemu.standins.notebooks import NotebookFailed
from mlemu.standins.notebooks.sqlcells import split_statements, substitute

pytest.importorskip("duckdb", reason="the SQL engine needs mlemu[sql] (duckdb, sqlglot)")
pytest.importorskip("sqlglot", reason="the SQL engine needs mlemu[sql] (duckdb, sqlglot)")


def test_sql_cells_query_the_workspace_tables(mlemu, write_notebook):
    mlemu.unity_catalog.put_table("main.default.trips", pd.DataFrame({"zip": [1, 1, 2], "fare": [5.0, 7.0, 3.0]}))
    path = write_notebook("Q.py", 'dbutils.widgets.text("min_fare", "4")', """
        # MAGIC %sql
        # MAGIC CREATE TABLE main.default.summary AS SELECT zip, sum(fare) AS total FROM main.default.trips GROUP BY zip;
        # MAGIC -- a comment; with a semicolon
        # MAGIC SELECT * FROM main.default.summary WHERE total > :min_fare ORDER BY zip
    """, """
        # MAGIC %sql
        # MAGIC USE main.default
    """, """
        # MAGIC %sql
        # MAGIC SELECT count(*) AS n FROM trips WHERE fare > ${min_fare}
    """, 'dbutils.notebook.exit(str(len(_sqldf)) + "/" + str(_sqldf["n"][0]))')
    run = notebooks.run(path)
    assert [d.cell_index for d in run.displays] == [1, 3]
    assert run.displays[0].frame.to_dict("list") == {"zip": [1], "total": [12.0]}
    assert run.exit_value == "1/2"
    assert mlemu.unity_catalog.read_table("main.default.summary").shape == (2, 2)
    assert mlemu.calls.operations().count("sql.dbapi.execute") == 4   # journalled like the DB-API adapter


def test_sql_errors_fail_the_cell(mlemu, write_notebook):
    with pytest.raises(NotebookFailed, match="TABLE_OR_VIEW_NOT_FOUND"):
        notebooks.run(write_notebook("Q.py", "# MAGIC %sql\n# MAGIC SELECT * FROM main.default.nope"))


def test_splitting_and_substitution():
    assert split_statements("SELECT ';' AS a; -- x;y\nSELECT 2;") == ["SELECT ';' AS a", "-- x;y\nSELECT 2"]
    assert split_statements("  ") == []
    text, params = substitute("SELECT ':no' , :a, ${b}, :c, x::int FROM t", {"a": "1", "b": "two", "z": "0"})
    assert text == "SELECT ':no' , :a, two, :c, x::int FROM t" and params == {"a": "1"}
