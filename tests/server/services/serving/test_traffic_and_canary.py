"""A/B traffic splits and the seed's canary loop: routing follows the percentages, is the same
run to run, and a canary with a rollback runs without waiting (virtual time)."""
from __future__ import annotations

import math
import time

import pytest
from databricks.sdk.errors import OperationFailed
from databricks.sdk.service.serving import EndpointCoreConfigInput, Route, ServedEntityInput, TrafficConfig

import mlemu as mlemu_pkg
from tests.server.services.serving.conftest import MODEL, config, entity


def _ab_endpoint(w):
    # The seed's A/B update, with the served-entity names Databricks gives UC versions.
    w.serving_endpoints.create_and_wait("fraud-detection-endpoint",
                                        config=config("fraud-detection-endpoint", entity("3")))
    w.serving_endpoints.update_config_and_wait(
        name="fraud-detection-endpoint",
        served_entities=[
            ServedEntityInput(entity_name="catalog.schema.fraud_model", entity_version="3",
                              scale_to_zero_enabled=False),
            ServedEntityInput(entity_name="catalog.schema.fraud_model", entity_version="4",
                              scale_to_zero_enabled=False),
        ],
        traffic_config=TrafficConfig(routes=[
            Route(served_model_name="fraud_model-3", traffic_percentage=90),
            Route(served_model_name="fraud_model-4", traffic_percentage=10),
        ]),
    )


def _route_1000(w, X) -> list[str]:
    record = X.head(1).to_dict("records")
    return [w.serving_endpoints.query("fraud-detection-endpoint", dataframe_records=record).served_model_name
            for _ in range(1000)]


def test_ab_split_follows_percentages_and_is_deterministic(mlemu, w, fraud_model, X):
    _ab_endpoint(w)
    first = _route_1000(w, X)
    challenger = first.count("fraud_model-4")
    sigma = math.sqrt(1000 * 0.1 * 0.9)
    assert abs(challenger - 100) <= 4 * sigma, challenger
    assert first.count("fraud_model-3") + challenger == 1000

    champion_dir, challenger_dir = _saved_dir(mlemu, 3), _saved_dir(mlemu, 4)
    with mlemu_pkg.emulate(workspace_id="2222222222222222") as again:   # same seed, new workspace
        from databricks.sdk import WorkspaceClient
        for path in (champion_dir, champion_dir, champion_dir, challenger_dir):
            again.registry.seed_model_version(MODEL, path)
        w2 = WorkspaceClient()
        _ab_endpoint(w2)
        assert _route_1000(w2, X) == first


def _saved_dir(ws, version: int) -> str:
    """Export a version's files to a directory (to seed an identical second workspace)."""
    import os
    import tempfile

    from mlemu.server.services.serving import predictor
    target = tempfile.mkdtemp(prefix="mlemu-test-")
    for rel, data in predictor.model_files(ws.storage, ws.registry.get_version(MODEL, version).files_path).items():
        path = os.path.join(target, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    return target


def _update_traffic_split(w, new_version: str, percentage: int) -> None:
    old = 100 - percentage
    entities = [entity("3"), entity(new_version)] if old else [entity(new_version)]
    routes = [Route(served_model_name="fraud_model-3", traffic_percentage=old)] if old else []
    routes.append(Route(served_model_name=f"fraud_model-{new_version}", traffic_percentage=percentage))
    w.serving_endpoints.update_config_and_wait(name="fraud-detection-endpoint", served_entities=entities,
                                               traffic_config=TrafficConfig(routes=routes))


def _rollback_to_previous_version(w) -> None:
    w.serving_endpoints.update_config_and_wait(name="fraud-detection-endpoint", served_entities=[entity("3")])


@pytest.mark.mlemu(virtual_time=True)
def test_canary_rollout_with_rollback_runs_without_waiting(mlemu, w, fraud_model, X):
    w.serving_endpoints.create_and_wait("fraud-detection-endpoint",
                                        config=config("fraud-detection-endpoint", entity("3")))
    start_ms = mlemu.clock.now_ms()
    steps, outcome = [], None

    def check_performance_metrics(percentage: int) -> bool:
        for _ in range(20):
            w.serving_endpoints.query("fraud-detection-endpoint", dataframe_records=X.head(1).to_dict("records"))
        return percentage < 50  # the challenger degrades at 50 %

    traffic_percentages = [5, 25, 50, 100]
    for percentage in traffic_percentages:          # the seed's loop
        if percentage == 50:
            mlemu.serving.fail_next_update("fraud-detection-endpoint", "Out of memory while loading the model.")
        try:
            _update_traffic_split(w, "4", percentage)
        except OperationFailed:
            outcome = "deployment failed"
            _rollback_to_previous_version(w)
            break
        steps.append(percentage)
        time.sleep(3600)  # 1 hour
        if not check_performance_metrics(percentage):
            outcome = "metrics"
            _rollback_to_previous_version(w)
            break

    assert steps == [5, 25] and outcome == "deployment failed"
    assert mlemu.clock.now_ms() - start_ms >= 2 * 3600 * 1000   # two virtual hours passed
    final = w.serving_endpoints.get("fraud-detection-endpoint")
    assert [e.entity_version for e in final.config.served_entities] == ["3"]
    assert final.state.config_update.value == "NOT_UPDATING"


def test_virtual_time_restores_sleep(mlemu):
    real = time.sleep
    with mlemu_pkg.virtual_time(mlemu):
        before = mlemu.clock.now_ms()
        time.sleep(7200)
        assert mlemu.clock.now_ms() - before >= 7200 * 1000
    assert time.sleep is real


def test_virtual_time_ticks_freezegun_when_it_is_active(mlemu):
    import freezegun

    with freezegun.freeze_time("2026-01-01 00:00:00"), mlemu_pkg.virtual_time(mlemu):
        before_wall, before_ws = time.time(), mlemu.clock.now_ms()
        time.sleep(90)
        assert time.time() - before_wall == 90
        assert mlemu.clock.now_ms() - before_ws == 90_000
