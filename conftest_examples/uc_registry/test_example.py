import mlflow
from mlflow import MlflowClient


def promote_challenger(name: str) -> None:
    """Stands in for the code under test: move @champion to the challenger's version."""
    client = MlflowClient()
    challenger = client.get_model_version_by_alias(name, "challenger")
    client.set_registered_model_alias(name, "champion", challenger.version)
    client.delete_registered_model_alias(name, "challenger")


def test_promotion_moves_the_alias(fraud_model, mlemu):
    promote_challenger(fraud_model)
    client = MlflowClient()
    assert client.get_model_version_by_alias(fraud_model, "champion").version == "2"
    mlemu.calls.assert_called("registry.registered-models.alias.delete", times=1)


def test_champion_loads_and_predicts(fraud_model, features):
    model = mlflow.pyfunc.load_model(f"models:/{fraud_model}@champion")
    assert len(model.predict(features)) == len(features)
