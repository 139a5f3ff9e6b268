"""Every way of reaching an optional engine without its packages names the extra to install."""
from __future__ import annotations

import sys

import pytest

from mlemu.server.core.extras import MissingExtra


def _hide(monkeypatch, *modules: str) -> None:
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError


def test_sql_query_helper_names_the_extra(mlemu, monkeypatch):
    _hide(monkeypatch, "duckdb")
    with pytest.raises(MissingExtra, match=r"pip install 'mlemu\[sql\]'") as e:
        mlemu.sql.query("SELECT 1")
    assert isinstance(e.value, ImportError) and e.value.extra == "sql"


def test_dbapi_connect_names_the_extra(mlemu, monkeypatch):
    import mlemu as mlemu_pkg

    _hide(monkeypatch, "sqlglot")
    with pytest.raises(mlemu_pkg.sql.InterfaceError, match=r"mlemu\[sql\]"):
        mlemu_pkg.sql.connect()


def test_arrow_results_without_pyarrow_answer_501_naming_the_extra(mlemu, monkeypatch):
    pytest.importorskip("duckdb", reason="needs the SQL engine (mlemu[sql]) to get as far as Arrow")
    pytest.importorskip("sqlglot", reason="needs the SQL engine (mlemu[sql]) to get as far as Arrow")
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import NotImplemented as SdkNotImplemented
    from databricks.sdk.service.sql import Disposition, Format

    w = WorkspaceClient()
    warehouse = next(iter(w.warehouses.list()))
    _hide(monkeypatch, "pyarrow")
    with pytest.raises(SdkNotImplemented, match=r"pyarrow.*mlemu\[sql\]"):
        w.statement_execution.execute_statement("SELECT 1 AS x", warehouse.id, format=Format.ARROW_STREAM,
                                                disposition=Disposition.EXTERNAL_LINKS)


def test_monitor_report_names_the_extra(mlemu, monkeypatch):
    _hide(monkeypatch, "matplotlib")
    with pytest.raises(MissingExtra, match=r"mlemu\[monitors-report\]"):
        mlemu.monitors.render_report("main.default.nothing", "/tmp")


def test_spark_session_names_the_extra(monkeypatch):
    import mlemu as mlemu_pkg

    _hide(monkeypatch, "pyspark", "pyspark.sql")
    with pytest.raises(MissingExtra, match=r"mlemu\[spark\]"):
        mlemu_pkg.spark.session()
