"""mlflow's process-wide state does not carry one emulation into the next
(:mod:`mlemu.standins.mlflow_globals`), seen through the real client."""
from __future__ import annotations

import pytest

import mlemu

mlflow = pytest.importorskip("mlflow")


class _CatalogSession:
    """Stands in for an active SparkSession: mlflow's Unity Catalog store asks it for
    ``current_catalog()`` to complete two-level model names."""

    def sql(self, query: str) -> "_CatalogSession":
        return self

    def collect(self) -> list[dict[str, str]]:
        return [{"catalog": "leaked", "schema": "from_spark"}]


def test_a_registry_store_built_with_spark_does_not_serve_the_next_workspace(monkeypatch):
    """Found in this suite: a UC registry test after a Spark test in the same process reached
    the stopped session's JVM, because mlflow keeps one registry store per URI and the store
    keeps the Spark session active when it was built."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.store._unity_catalog.registry import rest_store

    with mlemu.emulate(mlemu.Workspace()) as ws:
        ws.unity_catalog.ensure_schema("leaked.from_spark")
        with monkeypatch.context() as m:   # a Spark session is active while the store is built
            m.setattr(rest_store, "_get_active_spark_session", lambda: _CatalogSession())
            MlflowClient().create_registered_model("m")
        assert ws.registry.get_model("leaked.from_spark.m") is not None

    with mlemu.emulate(mlemu.Workspace()):           # the next test: no Spark session
        with pytest.raises(MlflowException, match="three levels"):
            MlflowClient().create_registered_model("m")
