"""Slicing expressions (issue 17, defect 2): SQL expressions over the table's columns,
admitted by a grammar and evaluated by the SQL engine or, without it, a small parser; never
``eval``. A code-execution payload is refused when the monitor is created or updated."""
from __future__ import annotations

import pytest
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service.catalog import MonitorInferenceLog, MonitorInferenceLogProblemType

from tests.server.services.monitors.conftest import OUTPUT, TABLE

INFERENCE = MonitorInferenceLog(problem_type=MonitorInferenceLogProblemType.PROBLEM_TYPE_CLASSIFICATION,
                                timestamp_col="ts", granularities=["1 day"], prediction_col="prediction",
                                model_id_col="model_version", label_col="label")
EXPRESSIONS = ["country", "amount > 12", "country IN ('FR', 'DE')", "NOT (amount > 12) AND label = 1",
               "amount IS NULL", "label + prediction", "`country` <> 'US' OR amount * 2 < 16"]


@pytest.fixture(params=["sql-engine", "small-parser"])
def engine(request, monkeypatch):
    """Both evaluators: the SQL engine (when installed) and the parser used without it."""
    from mlemu.server.services.monitors import slicing

    if request.param == "sql-engine":
        pytest.importorskip("duckdb", reason="the SQL engine needs the optional extra mlemu[sql]")
        pytest.importorskip("sqlglot", reason="the SQL engine needs the optional extra mlemu[sql]")
    monkeypatch.setattr(slicing, "_engine_present", lambda: request.param == "sql-engine")
    return request.param


def _create(w, **kw):
    return w.quality_monitors.create(TABLE, output_schema_name=OUTPUT, assets_dir="/Workspace/Shared/m",
                                     inference_log=INFERENCE, **kw)


def test_a_code_execution_payload_is_refused(w, mlemu, log_table, engine, tmp_path):
    marker = tmp_path / "pwned.txt"
    payloads = [f"@np.lib._npyio_impl.os.system('touch {marker}')", f"__import__('os').system('touch {marker}')",
                f"amount.__class__.__mro__[1].__subclasses__()", f"@pd.io.common.os.system('touch {marker}')"]
    for payload in payloads:
        with pytest.raises(InvalidParameterValue, match="Invalid slicing expression"):
            _create(w, slicing_exprs=[payload])
    _create(w, slicing_exprs=["country"])
    with pytest.raises(InvalidParameterValue, match="Invalid slicing expression"):
        w.quality_monitors.update(TABLE, output_schema_name=OUTPUT, slicing_exprs=[payloads[0]])
    mlemu.monitors.refresh(TABLE)
    assert not marker.exists()
    assert w.quality_monitors.get(TABLE).slicing_exprs == ["country"]


@pytest.mark.parametrize("expression", [
    "amount > (SELECT 1)", "sum(amount) > 1", "count(*) OVER () > 1", "t.amount > 1", "getvariable('x') = 1",
    "amount > 1; DROP TABLE x", "(" * 40 + "amount" + ")" * 40, "read_csv('/etc/passwd') IS NULL", ""])
def test_expressions_outside_the_grammar_are_refused(w, log_table, engine, expression):
    with pytest.raises(InvalidParameterValue):
        _create(w, slicing_exprs=[expression])


def test_both_evaluators_slice_alike(w, mlemu, log_table, engine):
    _create(w, slicing_exprs=EXPRESSIONS)
    prof = mlemu.unity_catalog.read_table(f"{OUTPUT}.fraud_predictions_profile_metrics")
    table_rows = prof[(prof.column_name == ":table") & (prof.log_type == "INPUT") & prof.slice_key.notna()]
    counts = table_rows.groupby(["slice_key", "slice_value"])["count"].sum().to_dict()
    log = log_table
    assert counts[("amount > 12", "true")] == int((log.amount > 12).sum())
    assert counts[("amount > 12", "false")] == int((log.amount <= 12).sum())   # NULL amounts in neither
    assert counts[("country IN ('FR', 'DE')", "true")] == int(log.country.isin(["FR", "DE"]).sum())
    assert counts[("amount IS NULL", "true")] == int(log.amount.isna().sum())
    assert {v for k, v in counts if k == "label + prediction"} == {"0", "1", "2"}
    assert counts[("label + prediction", "2")] == int(((log.label + log.prediction) == 2).sum())
    assert counts[("NOT (amount > 12) AND label = 1", "true")] == int(((log.amount <= 12) & (log.label == 1)).sum())
    assert counts[("`country` <> 'US' OR amount * 2 < 16", "false")] == int(
        ((log.country == "US") & (log.amount * 2 >= 16)).sum())


def test_a_missing_column_fails_the_refresh(w, log_table, engine):
    _create(w, slicing_exprs=["no_such_column > 1"])
    (r,) = w.quality_monitors.list_refreshes(TABLE).refreshes
    assert r.state.value == "FAILED" and "no_such_column" in r.message
