"""The pyfunc loader of feature-aware models logged by mlemu's clients: ``MLmodel`` names
this module as ``loader_module`` (instead of the proprietary
``databricks.feature_store.mlflow_model``, which stock mlflow refuses to register in UC and
cannot load offline). ``mlflow.pyfunc.load_model`` gives a model whose ``predict`` looks the
features up in the active emulated workspace, as the real wrapper calls ``score_batch``."""
from __future__ import annotations

import os
from typing import Any

import pandas as pd

from mlemu.standins.feature_store import active
from mlemu.standins.feature_store.scoring import PREDICTION, RAW_MODEL, score
from mlemu.standins.feature_store.tables import FeatureTables


class FeatureStoreModelWrapper:
    """``predict(df)`` = ``score_batch`` on ``df``, returning the prediction column."""

    def __init__(self, feature_store_dir: str) -> None:
        import mlflow.pyfunc

        self.path = feature_store_dir
        self.raw_model = mlflow.pyfunc.load_model(os.path.join(feature_store_dir, RAW_MODEL))

    def predict(self, df: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.Series:
        params = dict(params or {})
        result_type = params.pop("result_type", "NO_RESULT_TYPE")
        tables = FeatureTables(active.workspace(), fe=True)
        out = score(tables, self.path, df,
                    result_type="double" if result_type in (None, "NO_RESULT_TYPE") else result_type,
                    params=params or None, raw_model=self.raw_model)
        return out[PREDICTION]


def _load_pyfunc(path: str) -> FeatureStoreModelWrapper:
    """Called by ``mlflow.pyfunc.load_model`` with ``<model>/data/feature_store``."""
    return FeatureStoreModelWrapper(path)
