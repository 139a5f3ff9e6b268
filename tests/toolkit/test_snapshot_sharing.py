"""In-memory snapshots share the runs instead of copying them (mlemu/server/core/shared_dict.py): a
run is copied when it is next read, so nothing a client changes after a snapshot reaches it.
Driven through the real mlflow client."""
from __future__ import annotations

import mlflow
from mlflow import MlflowClient


def _state(client: MlflowClient, run_id: str) -> tuple:
    run = client.get_run(run_id)
    history = [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")]
    return (run.info.status, run.info.end_time, run.data.params, run.data.tags.get("stage"), history)


def _seeded(n: int = 5) -> tuple[MlflowClient, str, list[str]]:
    mlflow.set_tracking_uri("databricks")
    client = MlflowClient()
    exp = client.create_experiment("/Shared/sharing")
    ids = []
    for i in range(n):
        run = client.create_run(exp)
        client.log_param(run.info.run_id, "i", str(i))
        client.log_metric(run.info.run_id, "loss", 1.0, step=0)
        client.set_tag(run.info.run_id, "stage", "before")
        ids.append(run.info.run_id)
    return client, exp, ids


def test_changes_after_a_snapshot_never_reach_it(mlemu):
    client, exp, ids = _seeded()
    before = {r: _state(client, r) for r in ids}
    snap = mlemu.snapshot()
    for r in ids:  # every kind of run change, through the client
        client.log_metric(r, "loss", 0.5, step=1)
        client.set_tag(r, "stage", "after")
        client.log_param(r, "extra", "x")
        client.set_terminated(r, "FAILED")
    client.delete_run(ids[0])
    extra = client.create_run(exp).info.run_id
    mlemu.restore(snap)
    assert {r: _state(client, r) for r in ids} == before
    found = {r.info.run_id for r in client.search_runs([exp])}
    assert found == set(ids) and extra not in found


def test_one_snapshot_restores_the_same_state_again_and_again(mlemu):
    client, exp, ids = _seeded(3)
    snap = mlemu.snapshot()
    expected = {r: _state(client, r) for r in ids}
    for round_ in range(3):
        mlemu.restore(snap)
        assert {r: _state(client, r) for r in ids} == expected
        for r in ids:
            client.log_metric(r, "loss", float(round_), step=10 + round_)
            client.set_tag(r, "stage", f"round-{round_}")


def test_a_run_read_before_a_second_snapshot_keeps_each_snapshot_apart(mlemu):
    client, _, ids = _seeded(1)
    run_id = ids[0]
    first = mlemu.snapshot()
    client.set_tag(run_id, "stage", "between")
    second = mlemu.snapshot()
    client.set_tag(run_id, "stage", "last")
    mlemu.restore(first)
    assert client.get_run(run_id).data.tags["stage"] == "before"
    mlemu.restore(second)
    assert client.get_run(run_id).data.tags["stage"] == "between"


def test_an_export_holds_the_runs_whole_after_sharing_snapshots(mlemu, tmp_path):
    client, _, ids = _seeded(3)
    mlemu.snapshot()  # leaves the live runs shared
    expected = {r: _state(client, r) for r in ids}
    path = mlemu.export(tmp_path / "ws.zip")
    loaded = type(mlemu).load(path)
    snap = loaded.snapshot()
    runs = {r: loaded.tracking.get_run(r) for r in ids}
    assert {r: (run.info.status, dict(run.data.params)) for r, run in runs.items()} == \
        {r: (s[0], s[2]) for r, s in expected.items()}
    assert snap.shared  # the loaded workspace's runs are shared by its own snapshots
