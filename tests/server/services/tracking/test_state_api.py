"""``ws.tracking`` as an API: the contract other services code against, the convenience methods
test authors use to set up state without HTTP, and the cost of the hot paths."""
from __future__ import annotations


import pytest

from mlemu import ApiError, Workspace


@pytest.fixture
def ws() -> Workspace:
    return Workspace(seed=11)


def test_public_contract(ws):
    t = ws.tracking
    exp = t.create_experiment(f"{ws.user.home}/contract", tags={"team": "x"})
    run = t.create_run(exp.experiment_id, run_name="r")
    model = t.create_logged_model(exp.experiment_id, name="m", source_run_id=run.info.run_id)

    got = t.get_run(run.info.run_id)
    assert (got.info.run_id, got.info.experiment_id) == (run.info.run_id, exp.experiment_id)
    assert isinstance(got.info.experiment_id, str)
    assert got.info.artifact_uri == f"dbfs:/databricks/mlflow-tracking/{exp.experiment_id}/{run.info.run_id}/artifacts"
    lm = t.get_logged_model(model.info.model_id)
    assert lm.info.experiment_id == exp.experiment_id and lm.info.source_run_id == run.info.run_id
    assert lm.info.artifact_uri.endswith(f"/logged_models/{model.info.model_id}/artifacts")
    assert t.get_experiment(exp.experiment_id).artifact_location == f"dbfs:/databricks/mlflow-tracking/{exp.experiment_id}"

    for call in (lambda: t.get_run("nope"), lambda: t.get_logged_model("m-nope"), lambda: t.get_experiment("1")):
        with pytest.raises(ApiError) as e:
            call()
        assert e.value.code == "RESOURCE_DOES_NOT_EXIST" and e.value.status == 404


def test_convenience_methods_show_through_the_client(mlemu):
    mlflow = pytest.importorskip("mlflow")
    t = mlemu.tracking
    exp = t.create_experiment(f"{mlemu.user.home}/prepared")
    run = t.create_run(exp.experiment_id, run_name="seeded", tags={"origin": "fixture"})
    t.log_param(run.info.run_id, "alpha", 0.5)
    t.log_metric(run.info.run_id, "loss", 0.25, step=3)
    t.log_batch(run.info.run_id, metrics=[("acc", 0.9), {"key": "f1", "value": 0.8, "step": 1}],
                params={"beta": "1"}, tags=[("stage", "dev")])
    t.set_tag(run.info.run_id, "note", "hi")
    t.update_run(run.info.run_id, status="FINISHED", end_time=run.info.start_time + 10)

    got = mlflow.get_run(run.info.run_id)
    assert got.info.run_name == "seeded" and got.info.status == "FINISHED"
    assert got.data.params == {"alpha": "0.5", "beta": "1"}
    assert got.data.metrics == {"loss": 0.25, "acc": 0.9, "f1": 0.8}
    assert {"origin": "fixture", "stage": "dev", "note": "hi"}.items() <= got.data.tags.items()
    assert mlflow.get_experiment_by_name(f"{mlemu.user.home}/prepared").experiment_id == exp.experiment_id
    # nothing of the above went over HTTP
    assert not mlemu.calls.filter(operation="tracking.runs.create")


def test_same_seed_same_ids_and_names():
    def build(seed):
        w = Workspace(seed=seed)
        w.clock.freeze(1_700_000_000_000)
        exp = w.tracking.create_experiment(f"{w.user.home}/e")
        runs = [w.tracking.create_run(exp.experiment_id) for _ in range(3)]
        model = w.tracking.create_logged_model(exp.experiment_id)
        return exp.experiment_id, [(r.info.run_id, r.info.run_name) for r in runs], model.info.model_id, model.info.name

    assert build(1) == build(1)
    assert build(1) != build(2)


def test_search_over_ten_thousand_runs(ws):
    """Filter, order and page over 10,000 runs (its speed is measured in bench/, not here)."""
    t = ws.tracking
    exp = t.create_experiment(f"{ws.user.home}/big")
    for i in range(10_000):
        run = t.create_run(exp.experiment_id, start_time=i)
        t.log_batch(run.info.run_id, metrics=[("acc", i / 10_000, 1, 0)], params={"p": str(i % 7)})
    found, token = t.search_runs([exp.experiment_id], "metrics.acc > 0.5 and params.p = '3'",
                                 order_by=["metrics.acc DESC"], max_results=100)
    assert len(found) == 100 and token
    assert found[0].data.metrics["acc"].value == pytest.approx(0.9999)  # 9999 % 7 == 3


def test_metric_history_is_kept_per_key_with_the_latest_value_precomputed(ws):
    t = ws.tracking
    exp = t.create_experiment(f"{ws.user.home}/m")
    rid = t.create_run(exp.experiment_id).info.run_id
    t.log_batch(rid, metrics=[("loss", 1.0 - s / 1000, 10 + s, s) for s in range(1000)])
    assert t.get_run(rid).data.metrics["loss"].step == 999
    page, token = t.get_metric_history(rid, "loss", max_results=600)
    rest, last = t.get_metric_history(rid, "loss", max_results=600, page_token=token)
    assert len(page) == 600 and len(rest) == 400 and last is None
    assert [m.step for m in page + rest] == list(range(1000))
