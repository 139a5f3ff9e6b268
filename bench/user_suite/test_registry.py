"""Registry: register, alias, promote, load by alias (Unity Catalog)."""
import mlflow
import pytest
from mlflow import MlflowClient

from conftest import log_model


def _register(model, X, name):
    mlflow.set_experiment("/Shared/registry")
    with mlflow.start_run():
        info = log_model(model, X)
    return mlflow.register_model(info.model_uri, name)


@pytest.mark.parametrize("alias", ["champion", "challenger", "staging"])
def test_register_and_alias(mlemu, data, model, alias):
    X, _ = data
    mv = _register(model, X, "main.default.churn")
    MlflowClient().set_registered_model_alias("main.default.churn", alias, mv.version)
    assert MlflowClient().get_model_version_by_alias("main.default.churn", alias).version == mv.version


def test_load_champion(mlemu, data, model):
    X, _ = data
    mv = _register(model, X, "main.default.churn")
    MlflowClient().set_registered_model_alias("main.default.churn", "champion", mv.version)
    loaded = mlflow.pyfunc.load_model("models:/main.default.churn@champion")
    assert list(loaded.predict(X.head(3))) == list(model.predict(X.head(3)))


def test_second_version_becomes_champion(mlemu, data, model):
    X, _ = data
    _register(model, X, "main.default.churn")
    mv2 = _register(model, X, "main.default.churn")
    MlflowClient().set_registered_model_alias("main.default.churn", "champion", mv2.version)
    assert mv2.version == "2"


def test_tags_and_description(mlemu, make_registered_model):
    make_registered_model("main.default.tagged", versions=1)
    client = MlflowClient()
    client.set_model_version_tag("main.default.tagged", "1", "validated", "true")
    client.update_registered_model("main.default.tagged", description="churn model")
    assert client.get_model_version("main.default.tagged", "1").tags == {"validated": "true"}


def test_seeded_model_version(mlemu, model, data):
    X, _ = data
    mlemu.registry.seed_model_version("main.default.seeded", model, aliases=["champion"], input_example=X.head(2))
    assert MlflowClient().get_model_version_by_alias("main.default.seeded", "champion").version == "1"


def test_search_model_versions(mlemu, make_registered_model):
    make_registered_model("main.default.many", versions=3)
    assert len(MlflowClient().search_model_versions("name = 'main.default.many'")) == 3
