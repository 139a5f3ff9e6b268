"""The seed's "Feature Store" sections, run as written (both clients), checked row by row:
"Create Feature Table", "Training with Features", "Batch Scoring with Feature Store".

The only departures from the cheatsheet text: the FeatureEngineeringClient needs the
timestamp key in ``primary_keys`` (the real client raises otherwise), and ``train_model`` /
the DataFrames are defined here.
"""
from __future__ import annotations

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from databricks.sdk import WorkspaceClient
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

T = pd.Timestamp


def feature_df() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [1, 1, 2, 3],
        "feature_timestamp": [T("2024-01-01"), T("2024-02-01"), T("2024-01-01"), T("2024-01-15")],
        "total_purchases": [3, 7, 1, 12],
        "avg_order_value": [20.0, 25.0, 90.0, 15.0],
    })


def new_features_df() -> pd.DataFrame:
    """Customer 2 gets a newer row; customer 1's February row is corrected."""
    return pd.DataFrame({
        "customer_id": [2, 1],
        "feature_timestamp": [T("2024-02-10"), T("2024-02-01")],
        "total_purchases": [4, 8],
        "avg_order_value": [60.0, 26.0],
    })


def product_df() -> pd.DataFrame:
    return pd.DataFrame({"product_id": [10, 20, 30], "category": ["books", "games", "books"],
                         "price": [12.5, 59.0, 8.0]})


def labels_df() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [1, 1, 2, 2, 3, 3],
        "product_id": [10, 20, 20, 30, 10, 30],
        "event_timestamp": [T("2024-01-20"), T("2024-02-05"), T("2024-01-05"), T("2024-02-20"),
                            T("2024-01-10"), T("2024-01-31")],
        "is_churned": [0, 0, 1, 1, 0, 1],
    })


#: What the point-in-time join must give for labels_df, row by row (worked out by hand):
#: customer 1 on 01-20 sees the 01-01 row, on 02-05 the corrected 02-01 row; customer 2 on
#: 01-05 the 01-01 row, on 02-20 the merged 02-10 row; customer 3 on 01-10 nothing yet.
EXPECTED_TRAINING = pd.DataFrame({
    "product_id": [10, 20, 20, 30, 10, 30],
    "total_purchases": [3.0, 8.0, 1.0, 4.0, np.nan, 12.0],
    "avg_order_value": [20.0, 26.0, 90.0, 60.0, np.nan, 15.0],
    "category": ["books", "games", "games", "books", "books", "books"],
    "price": [12.5, 59.0, 59.0, 8.0, 12.5, 8.0],
    "is_churned": [0, 0, 1, 1, 0, 1],
})


def train_model(training_df: pd.DataFrame) -> Pipeline:
    """The user's model: one-hot category, numeric features with missing values as 0."""
    numeric = ["total_purchases", "avg_order_value", "price"]
    model = Pipeline([
        ("features", ColumnTransformer([
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["category"]),
            ("num", SimpleImputer(strategy="constant", fill_value=0.0), numeric)])),
        ("clf", LogisticRegression())])
    return model.fit(training_df.drop(columns=["is_churned"]), training_df["is_churned"])


@pytest.fixture(params=["FeatureStoreClient", "FeatureEngineeringClient"])
def client_kind(request):
    return request.param


@pytest.fixture
def schema(mlemu):
    """catalog.schema, created as a user would, and an experiment for the runs."""
    mlflow.set_experiment("/Shared/churn")
    w = WorkspaceClient()
    w.catalogs.create(name="catalog")
    w.schemas.create(name="schema", catalog_name="catalog")


def test_create_train_log_and_score(mlemu, schema, client_kind):
    if client_kind == "FeatureStoreClient":
        # -- Create Feature Table (verbatim) --
        from databricks.feature_store import FeatureStoreClient

        fs = FeatureStoreClient()

        fs.create_table(
            name="catalog.schema.customer_features",
            primary_keys=["customer_id"],
            timestamp_keys=["feature_timestamp"],
            df=feature_df(),
            description="Customer behavioral features for ML"
        )
    else:
        from databricks.feature_engineering import FeatureEngineeringClient

        fs = FeatureEngineeringClient()
        fs.create_table(
            name="catalog.schema.customer_features",
            primary_keys=["customer_id", "feature_timestamp"],  # FE: the timestamp key is a primary key
            timestamp_keys=["feature_timestamp"],
            df=feature_df(),
            description="Customer behavioral features for ML"
        )
    new_features_df = new_features_df_()
    fs.write_table(
        name="catalog.schema.customer_features",
        df=new_features_df,
        mode="merge"
    )
    fs.create_table(name="catalog.schema.product_features", primary_keys=["product_id"], df=product_df())

    # -- Training with Features (verbatim) --
    if client_kind == "FeatureStoreClient":
        from databricks.feature_store import FeatureLookup
    else:
        from databricks.feature_engineering import FeatureLookup

    # Define feature lookups
    feature_lookups = [
        FeatureLookup(
            table_name="catalog.schema.customer_features",
            feature_names=["total_purchases", "avg_order_value"],
            lookup_key="customer_id",
            timestamp_lookup_key="event_timestamp"
        ),
        FeatureLookup(
            table_name="catalog.schema.product_features",
            feature_names=["category", "price"],
            lookup_key="product_id"
        )
    ]

    # Create training set
    training_set = fs.create_training_set(
        df=labels_df(),
        feature_lookups=feature_lookups,
        label="is_churned",
        exclude_columns=["customer_id", "event_timestamp"]
    )

    # Get training DataFrame
    training_df = training_set.load_df()
    pd.testing.assert_frame_equal(training_df, EXPECTED_TRAINING, check_dtype=False)

    # Train model
    model = train_model(training_df)

    # Log model with feature metadata
    info = fs.log_model(
        model=model,
        artifact_path="model",
        flavor=mlflow.sklearn,
        training_set=training_set,
        registered_model_name="catalog.schema.churn_model"
    )
    assert info.flavors["python_function"]["loader_module"] == "mlemu.standins.feature_store.mlflow_model"
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("catalog.schema.churn_model", "production", "1")

    # -- Batch Scoring with Feature Store (verbatim) --
    scoring_df = labels_df().drop(columns=["is_churned"])
    # Score with automatic feature lookup
    predictions = fs.score_batch(
        model_uri="models:/catalog.schema.churn_model@production",
        df=scoring_df  # Only needs primary keys
    )

    inputs = EXPECTED_TRAINING.drop(columns=["is_churned"])
    assert list(predictions.columns) == ["customer_id", "product_id", "event_timestamp", "total_purchases",
                                         "avg_order_value", "category", "price", "prediction"]
    np.testing.assert_array_equal(predictions["prediction"].to_numpy(), model.predict(inputs).astype(float))
    assert predictions["prediction"].dtype == np.float64
    pd.testing.assert_frame_equal(predictions[list(inputs.columns)], inputs, check_dtype=False)
    # the registered version is in the emulated UC registry, found by the real client
    mv = client.get_model_version_by_alias("catalog.schema.churn_model", "production")
    assert mv.version == "1"


def new_features_df_() -> pd.DataFrame:
    return new_features_df()
