"""A statement runs outside the workspace lock (issue 17, defect 4): a long statement never
delays other requests, ``wait_timeout`` / ``on_wait_timeout`` and ``/cancel`` behave as the
statement execution API documents, a canceled write leaves nothing behind. Asserted with
states, never durations."""
from __future__ import annotations

import threading

import pandas as pd
import pytest
from databricks.sdk.service.sql import ExecuteStatementRequestOnWaitTimeout

from tests.server.services.sql.helpers import require_engine, rows, run

require_engine()

CANCEL = ExecuteStatementRequestOnWaitTimeout.CANCEL
#: A cross join of 10^12 rows: hours of DuckDB work; every test cancels it.
LONG = "SELECT count(*) AS n FROM range(1000000) a, range(1000000) b"


@pytest.fixture(autouse=True)
def short_poll_wait(monkeypatch, mlemu):
    """Polls of the (never-ending) cross join wait 0.2 s instead of 5 s: states are the same.
    A test that fails half-way leaves no cross join running."""
    from mlemu.server.services.sql import state

    monkeypatch.setattr(state, "POLL_WAIT_SECONDS", 0.2)
    yield
    with mlemu.lock:
        for statement_id in [s.id for s in mlemu.sql.statements.values() if s.state in ("PENDING", "RUNNING")]:
            mlemu.sql.cancel(statement_id)


def _state(w, statement_id: str) -> str:
    return w.statement_execution.get_statement(statement_id).status.state.value


def test_a_long_statement_never_delays_other_requests(mlemu_server, mlemu, warehouse_id):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    assert w.config.host == mlemu_server.url
    st = run(w, warehouse_id, LONG, wait_timeout="0s")
    assert st.status.state.value == "PENDING"
    assert _state(w, st.statement_id) == "RUNNING"          # the first poll starts it
    assert w.current_user.me().user_name == mlemu.user.user_name   # answered while it runs
    experiment = w.experiments.create_experiment("/Shared/while-sql-runs").experiment_id
    assert w.experiments.get_experiment(experiment).experiment.name == "/Shared/while-sql-runs"
    assert _state(w, st.statement_id) == "RUNNING"          # still running after those requests
    w.statement_execution.cancel_execution(st.statement_id)
    assert _state(w, st.statement_id) == "CANCELED"


def test_a_waiting_synchronous_call_does_not_hold_the_workspace(mlemu_server, mlemu, warehouse_id):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    answer: dict = {}
    caller = threading.Thread(target=lambda: answer.update(r=run(w, warehouse_id, LONG, wait_timeout="50s")))
    caller.start()
    try:
        running = _wait_for_running(mlemu)
        assert w.current_user.me().user_name == mlemu.user.user_name
        assert _state(w, running) == "RUNNING"
        w.statement_execution.cancel_execution(running)     # interrupts DuckDB: the call answers
    finally:
        caller.join()
    assert answer["r"].status.state.value == "CANCELED"


def _wait_for_running(mlemu) -> str:
    """The id of the one statement once it is RUNNING (reads workspace state, no clock)."""
    event = threading.Event()
    while True:
        with mlemu.lock:
            running = [s.id for s in mlemu.sql.statements.values() if s.state == "RUNNING"]
        if running:
            return running[0]
        event.wait(0.01)


def test_wait_timeout_with_cancel_answers_canceled(w, warehouse_id):
    r = run(w, warehouse_id, LONG, wait_timeout="5s", on_wait_timeout=CANCEL)
    assert r.status.state.value == "CANCELED"
    assert _state(w, r.statement_id) == "CANCELED"


def test_wait_timeout_with_continue_answers_running_then_cancel(w, warehouse_id):
    r = run(w, warehouse_id, LONG, wait_timeout="5s")  # on_wait_timeout defaults to CONTINUE
    assert r.status.state.value == "RUNNING" and r.result is None
    w.statement_execution.cancel_execution(r.statement_id)
    assert _state(w, r.statement_id) == "CANCELED"


def test_a_canceled_write_writes_nothing(mlemu, w, warehouse_id):
    mlemu.unity_catalog.put_table("main.default.t", pd.DataFrame({"n": [1]}))
    create = run(w, warehouse_id, f"CREATE TABLE main.default.big AS {LONG}", wait_timeout="5s",
                 on_wait_timeout=CANCEL)
    insert = run(w, warehouse_id, f"INSERT INTO main.default.t {LONG}", wait_timeout="0s")
    assert _state(w, insert.statement_id) == "RUNNING"
    w.statement_execution.cancel_execution(insert.statement_id)
    assert (create.status.state.value, _state(w, insert.statement_id)) == ("CANCELED", "CANCELED")
    assert not mlemu.unity_catalog.table_exists("main.default.big")
    assert rows(w, warehouse_id, "SELECT n FROM main.default.t") == [["1"]]


def test_writes_land_when_the_statement_ends(mlemu, w, warehouse_id):
    """CTAS and INSERT computed without the lock are stored whole when they finish."""
    mlemu.unity_catalog.put_table("main.default.t", pd.DataFrame({"n": [1, 2]}))
    r = run(w, warehouse_id, "CREATE TABLE main.default.copy AS SELECT n * 10 AS n FROM main.default.t",
            wait_timeout="0s")
    assert [_state(w, r.statement_id), _state(w, r.statement_id)] == ["RUNNING", "SUCCEEDED"]
    run(w, warehouse_id, "INSERT INTO main.default.copy SELECT n FROM main.default.t")
    assert rows(w, warehouse_id, "SELECT n FROM main.default.copy ORDER BY n") == [["1"], ["2"], ["10"], ["20"]]


def test_snapshots_hold_statements_not_the_engine(mlemu, w, warehouse_id):
    """A workspace that ran SQL can be snapshotted and restored (the DuckDB database and the
    statement threads are not state)."""
    mlemu.unity_catalog.put_table("main.default.t", pd.DataFrame({"n": [1]}))
    done = run(w, warehouse_id, "SELECT n FROM main.default.t")
    snap = mlemu.snapshot()
    run(w, warehouse_id, "DROP TABLE main.default.t")
    mlemu.restore(snap)
    assert _state(w, done.statement_id) == "SUCCEEDED"
    assert rows(w, warehouse_id, "SELECT n + 1 FROM main.default.t") == [["2"]]
