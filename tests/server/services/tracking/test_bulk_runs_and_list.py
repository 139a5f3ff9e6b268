"""Endpoints the coverage sweep found missing: ``w.experiments.list_experiments`` and the
Databricks bulk ``delete_runs`` / ``restore_runs``."""
from __future__ import annotations

import pytest


@pytest.fixture
def w(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient()


def test_list_experiments_pages_and_views(w):
    ids = [w.experiments.create_experiment(f"/Shared/list-{i}").experiment_id for i in range(3)]
    w.experiments.delete_experiment(ids[0])
    from databricks.sdk.service.ml import ViewType

    active = {e.experiment_id for e in w.experiments.list_experiments(max_results=1)}
    assert active == set(ids[1:])
    every = {e.experiment_id for e in w.experiments.list_experiments(view_type=ViewType.ALL)}
    assert every == set(ids)


def test_delete_runs_and_restore_runs_by_timestamp(mlemu, w):
    exp = w.experiments.create_experiment("/Shared/bulk").experiment_id
    mlemu.clock.freeze(1_000_000)
    old = [w.experiments.create_run(experiment_id=exp).run.info.run_id for _ in range(3)]
    mlemu.clock.advance(60)
    new = w.experiments.create_run(experiment_id=exp).run.info.run_id

    assert w.experiments.delete_runs(exp, 1_000_000, max_runs=2).runs_deleted == 2
    assert w.experiments.delete_runs(exp, 1_000_000).runs_deleted == 1
    stages = {r: w.experiments.get_run(r).run.info.lifecycle_stage for r in old + [new]}
    assert stages == {**{r: "deleted" for r in old}, new: "active"}

    mlemu.clock.advance(60)
    w.experiments.delete_run(new)
    restored = w.experiments.restore_runs(exp, mlemu.clock.now_ms())
    assert restored.runs_restored == 1
    assert w.experiments.get_run(new).run.info.lifecycle_stage == "active"
    assert w.experiments.restore_runs(exp, 0).runs_restored == 3


def test_bulk_run_limits(w):
    from databricks.sdk.errors import InvalidParameterValue, ResourceDoesNotExist

    exp = w.experiments.create_experiment("/Shared/bulk-limits").experiment_id
    with pytest.raises(InvalidParameterValue, match="max_runs"):
        w.experiments.delete_runs(exp, 0, max_runs=10001)
    with pytest.raises(ResourceDoesNotExist):
        w.experiments.restore_runs("424242", 0)
