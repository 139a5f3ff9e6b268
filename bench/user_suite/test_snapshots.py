"""Snapshots: expensive set-up once, restored per case."""
import mlflow
import pytest
from mlflow import MlflowClient


@pytest.mark.parametrize("alias", ["champion", "challenger", "shadow"])
def test_restore_between_cases(mlemu, make_registered_model, alias):
    make_registered_model("main.default.snap", versions=2)
    snap = mlemu.snapshot()
    MlflowClient().set_registered_model_alias("main.default.snap", alias, "2")
    mlemu.restore(snap)
    assert MlflowClient().get_registered_model("main.default.snap").aliases == {}
    assert mlflow.MlflowClient().get_model_version("main.default.snap", "2").version == "2"
