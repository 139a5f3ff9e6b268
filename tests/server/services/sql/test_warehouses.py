"""SQL warehouses with the real databricks-sdk: the starter warehouse, create/get/list/edit/
start/stop/delete and their ``*_and_wait`` waiters, validation."""
from __future__ import annotations

import pytest
from databricks.sdk.errors import InvalidParameterValue, NotFound, ResourceAlreadyExists
from databricks.sdk.service.sql import State

from mlemu.server.services.sql.engine import missing_engine


def test_a_new_workspace_has_a_running_starter_warehouse(mlemu, w):
    [wh] = list(w.warehouses.list())
    assert (wh.name, wh.state, wh.enable_serverless_compute) == ("Serverless Starter Warehouse", State.RUNNING, True)
    assert wh.odbc_params.path == f"/sql/1.0/warehouses/{wh.id}"
    assert w.warehouses.get(wh.id).creator_name == mlemu.user.user_name


def test_warehouse_lifecycle(w):
    wh = w.warehouses.create_and_wait(name="monitoring", cluster_size="2X-Small", max_num_clusters=1,
                                      auto_stop_mins=10)
    assert (wh.state, wh.cluster_size) == (State.RUNNING, "2X-Small")
    assert w.warehouses.stop_and_wait(wh.id).state == State.STOPPED
    assert w.warehouses.start_and_wait(wh.id).state == State.RUNNING
    edited = w.warehouses.edit_and_wait(wh.id, name="monitoring-2", cluster_size="Small", max_num_clusters=2)
    assert (edited.name, edited.cluster_size, edited.max_num_clusters) == ("monitoring-2", "Small", 2)
    assert sorted(x.name for x in w.warehouses.list()) == ["Serverless Starter Warehouse", "monitoring-2"]
    w.warehouses.delete(wh.id)
    with pytest.raises(NotFound):
        w.warehouses.get(wh.id)


@pytest.mark.skipif(missing_engine() is not None, reason=str(missing_engine()))
def test_a_stopped_warehouse_starts_for_a_statement(w):
    wh = next(iter(w.warehouses.list()))
    w.warehouses.stop_and_wait(wh.id)
    assert w.statement_execution.execute_statement("SELECT 1", wh.id).result.data_array == [["1"]]
    assert w.warehouses.get(wh.id).state == State.RUNNING


def test_warehouse_validation(w):
    with pytest.raises(InvalidParameterValue, match="auto_stop_mins"):
        w.warehouses.create(name="x", cluster_size="Small", auto_stop_mins=5)
    with pytest.raises(ResourceAlreadyExists):
        w.warehouses.create(name="Serverless Starter Warehouse", cluster_size="Small")


def test_statements_without_the_engine_answer_501(w, monkeypatch):
    """Without the extra mlemu[sql] (duckdb, sqlglot), warehouses work and statements say why not."""
    import sys

    from databricks.sdk.errors import NotImplemented as SdkNotImplemented

    monkeypatch.setitem(sys.modules, "duckdb", None)
    wh = next(iter(w.warehouses.list()))
    with pytest.raises(SdkNotImplemented, match=r"mlemu\[sql\]"):
        w.statement_execution.execute_statement("SELECT 1", wh.id)
