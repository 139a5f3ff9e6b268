"""``log_model`` writes the packaged layout through the real mlflow client into the emulated
workspace; stock ``mlflow.pyfunc.load_model`` predicts with the lookups; ``score_batch``
resolves ``runs:/``, ``models:/name/N`` and ``models:/name@alias``."""
from __future__ import annotations

import datetime
import os

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from tests.standins.feature_store.conftest import TABLE, oracle_labels

MODEL = "catalog.schema.spend_model"


@pytest.fixture
def trained(oracle_table):
    """A training set over the oracle table (with defaults and a lookback) and a model on it."""
    from databricks.feature_engineering import FeatureEngineeringClient, FeatureLookup

    mlflow.set_experiment("/Shared/fs")
    fe = FeatureEngineeringClient()
    lookup = FeatureLookup(table_name=TABLE, lookup_key="customer_id", timestamp_lookup_key="event_timestamp",
                           feature_names=["total_spend", "n_orders"], rename_outputs={"n_orders": "orders"},
                           default_values={"orders": 0}, lookback_window=datetime.timedelta(days=30))
    labels = oracle_labels().drop(columns=["row_id"])
    ts = fe.create_training_set(df=labels, feature_lookups=[lookup], label="is_churned",
                                exclude_columns=["customer_id", "event_timestamp"])
    df = ts.load_df()
    model = make_pipeline(SimpleImputer(strategy="constant", fill_value=0.0), LinearRegression())
    model.fit(df[["total_spend", "orders"]], df["is_churned"])
    return fe, ts, model


def test_artifact_layout_and_spec(trained):
    fe, ts, model = trained
    info = fe.log_model(model=model, artifact_path="model", flavor=mlflow.sklearn, training_set=ts,
                        registered_model_name=MODEL)
    local = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{MODEL}/1")
    files = sorted(os.path.relpath(os.path.join(d, f), local) for d, _, fs in os.walk(local) for f in fs)
    assert "MLmodel" in files
    assert "data/feature_store/feature_spec.yaml" in files
    assert "data/feature_store/raw_model/MLmodel" in files
    mlmodel = yaml.safe_load(open(os.path.join(local, "MLmodel")))
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlemu.standins.feature_store.mlflow_model"
    assert mlmodel["flavors"]["python_function"]["data"] == "data/feature_store"
    raw_conda = yaml.safe_load(open(os.path.join(local, "data/feature_store/raw_model/conda.yaml")))
    pip = next(d["pip"] for d in raw_conda["dependencies"] if isinstance(d, dict))
    assert "databricks-feature-lookup==1.*" in pip
    spec = yaml.safe_load(open(os.path.join(local, "data/feature_store/feature_spec.yaml")))
    table = mlemu_table_id(fe)
    assert spec["input_columns"] == [
        {"customer_id": {"data_type": "string", "include": False, "topological_ordering": 0,
                         "source": "training_data"}},
        {"event_timestamp": {"data_type": "timestamp", "include": False, "topological_ordering": 0,
                             "source": "training_data"}},
        {"total_spend": {"table_name": TABLE, "feature_name": "total_spend", "lookup_key": ["customer_id"],
                         "timestamp_lookup_key": ["event_timestamp"], "data_type": "double",
                         "topological_ordering": 1, "source": "feature_store"}},
        {"orders": {"table_name": TABLE, "feature_name": "n_orders", "lookup_key": ["customer_id"],
                    "timestamp_lookup_key": ["event_timestamp"], "default_value": "0", "data_type": "double",
                    "topological_ordering": 1, "source": "feature_store"}}]
    assert spec["input_tables"] == [{TABLE: {"table_id": table, "lookback_window": 2592000.0}}]
    assert spec["serialization_version"] == 11
    # signature: source columns required, features optional, outputs = the label
    sig = info.signature
    # (mlflow < 2.10's ColSpec says ``optional`` rather than ``required``)
    assert [(c.name, c.required if hasattr(c, "required") else not c.optional) for c in sig.inputs.inputs] == [
        ("customer_id", True), ("event_timestamp", True), ("total_spend", False), ("orders", False)]
    assert [c.name for c in sig.outputs.inputs] == ["is_churned"]


def mlemu_table_id(fe) -> str:
    return fe.get_table(name=TABLE).table_id


def _expected(model, rows: pd.DataFrame) -> np.ndarray:
    return model.predict(rows[["total_spend", "orders"]]).astype(float)


@pytest.mark.parametrize("uri", ["runs", "version", "alias"])
def test_score_batch_by_every_uri_form(trained, uri):
    fe, ts, model = trained
    info = fe.log_model(model=model, artifact_path="model", flavor=mlflow.sklearn, training_set=ts,
                        registered_model_name=MODEL)
    mlflow.MlflowClient().set_registered_model_alias(MODEL, "champion", "1")
    model_uri = {"runs": f"runs:/{info.run_id}/model", "version": f"models:/{MODEL}/1",
                 "alias": f"models:/{MODEL}@champion"}[uri]
    scoring = pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c9"],
                            "event_timestamp": pd.to_datetime(["2024-01-06", "2024-01-20", "2024-01-02",
                                                               "2024-01-02"])})
    out = fe.score_batch(model_uri=model_uri, df=scoring)
    assert list(out.columns) == ["customer_id", "event_timestamp", "total_spend", "orders", "prediction"]
    looked_up = pd.DataFrame({"total_spend": [50.0, 7.0, 1.0, np.nan], "orders": [5.0, 2.0, 0.0, 0.0]})
    pd.testing.assert_frame_equal(out[["total_spend", "orders"]], looked_up)
    np.testing.assert_allclose(out["prediction"], _expected(model, looked_up))


def test_score_batch_keeps_values_the_caller_passed(trained):
    fe, ts, model = trained
    info = fe.log_model(model=model, artifact_path="model", flavor=mlflow.sklearn, training_set=ts)
    scoring = pd.DataFrame({"customer_id": ["c1"], "event_timestamp": [pd.Timestamp("2024-01-06")],
                            "total_spend": [1000.0]})
    out = fe.score_batch(model_uri=f"runs:/{info.run_id}/model", df=scoring)
    assert list(out.columns) == ["customer_id", "event_timestamp", "total_spend", "orders", "prediction"]
    assert out["total_spend"].tolist() == [1000.0] and out["orders"].tolist() == [5.0]
    np.testing.assert_allclose(out["prediction"], _expected(model, out))


def test_score_batch_input_errors(trained):
    fe, ts, model = trained
    info = fe.log_model(model=model, artifact_path="model", flavor=mlflow.sklearn, training_set=ts)
    uri = f"runs:/{info.run_id}/model"
    with pytest.raises(ValueError, match=r'^FeatureStoreClient.score_batch returns a DataFrame with a new column '
                                         r'"prediction". df already has a column with name "prediction".$'):
        fe.score_batch(model_uri=uri, df=pd.DataFrame({"customer_id": ["c1"], "prediction": [1.0]}))
    with pytest.raises(ValueError, match=r"^DataFrame is missing required columns 'event_timestamp'.$"):
        fe.score_batch(model_uri=uri, df=pd.DataFrame({"customer_id": ["c1"]}))


def test_score_batch_refuses_a_model_without_feature_metadata(trained):
    fe, _, model = trained
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, **_name("plain"))
    with pytest.raises(ValueError, match="not packaged with Feature Store metadata"):
        fe.score_batch(model_uri=info.model_uri, df=pd.DataFrame({"customer_id": ["c1"]}))


def test_pyfunc_load_model_predicts_with_lookups(trained):
    fe, ts, model = trained
    fe.log_model(model=model, artifact_path="model", flavor=mlflow.sklearn, training_set=ts,
                 registered_model_name=MODEL)
    loaded = mlflow.pyfunc.load_model(f"models:/{MODEL}/1")
    scoring = pd.DataFrame({"customer_id": ["c1", "c2"],
                            "event_timestamp": pd.to_datetime(["2024-01-06", "2024-01-20"])})
    predictions = loaded.predict(scoring)
    np.testing.assert_allclose(np.asarray(predictions),
                               _expected(model, pd.DataFrame({"total_spend": [50.0, 7.0], "orders": [5.0, 2.0]})))


def test_a_flavor_without_python_function_is_refused(trained):
    import types

    fe, ts, model = trained

    def save_model(m, path, mlflow_model=None, **kwargs):
        from mlflow.models import Model
        os.makedirs(path)
        Model().save(os.path.join(path, "MLmodel"))
        with open(os.path.join(path, "conda.yaml"), "w") as fh:
            fh.write("dependencies: []\n")

    flavor = types.ModuleType("my_flavor")
    flavor.save_model = save_model
    with pytest.raises(ValueError, match="does not support 'my_flavor' since it does not have a python_function "
                                         "model flavor."):
        fe.log_model(model=model, artifact_path="model", flavor=flavor, training_set=ts)
    assert mlflow.active_run() is None


def _name(name: str) -> dict:
    return {"name": name} if mlflow.__version__.startswith("3") else {"artifact_path": name}


def test_score_batch_computes_feature_functions(oracle_table, mlemu):
    from databricks.feature_engineering import FeatureEngineeringClient, FeatureFunction, FeatureLookup

    mlflow.set_experiment("/Shared/fs")
    mlemu.unity_catalog.functions.create("catalog.schema.per_order", params=[("spend", "DOUBLE"), ("n", "DOUBLE")],
                                         returns="DOUBLE", body="return (spend or 0.0) / (n or 1.0)")
    fe = FeatureEngineeringClient()
    ts = fe.create_training_set(df=oracle_labels().drop(columns=["row_id"]), label="is_churned",
                                exclude_columns=["customer_id", "event_timestamp"], feature_lookups=[
        FeatureLookup(table_name=TABLE, lookup_key="customer_id", timestamp_lookup_key="event_timestamp",
                      feature_names=["total_spend", "n_orders"]),
        FeatureFunction(udf_name="catalog.schema.per_order", input_bindings={"spend": "total_spend", "n": "n_orders"},
                        output_name="per_order")])
    df = ts.load_df()
    model = make_pipeline(SimpleImputer(strategy="constant", fill_value=0.0), LinearRegression())
    model.fit(df.drop(columns=["is_churned"]), df["is_churned"])
    info = fe.log_model(model=model, artifact_path="model", flavor=mlflow.sklearn, training_set=ts)
    out = fe.score_batch(model_uri=f"runs:/{info.run_id}/model",
                         df=pd.DataFrame({"customer_id": ["c1"], "event_timestamp": [pd.Timestamp("2024-01-06")]}))
    assert list(out.columns) == ["customer_id", "event_timestamp", "total_spend", "n_orders", "per_order",
                                 "prediction"]
    assert out["per_order"].tolist() == [10.0]
    np.testing.assert_allclose(out["prediction"], model.predict(out[["total_spend", "n_orders", "per_order"]]))
