"""``score_batch``: look features up for a DataFrame the way the model's training set did,
feed the raw model the included columns in spec order, append ``prediction``
(``feature-store.md`` §2.7). Also what the packaged model's pyfunc ``predict`` runs."""
from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from mlemu.standins.feature_store.spec import SPEC_FILE, FeatureSpec
from mlemu.standins.feature_store.tables import FeatureTables
from mlemu.standins.feature_store.training_set import augment, snapshot, udf_callables

PREDICTION = "prediction"
HAS_PREDICTION = ('FeatureStoreClient.score_batch returns a DataFrame with a new column "prediction". '
                  'df already has a column with name "prediction".')
FEATURE_STORE_DIR = os.path.join("data", "feature_store")
RAW_MODEL = "raw_model"


def model_dir(model_uri: str) -> str:
    """Download a packaged model (``runs:/``, ``models:/name/N``, ``models:/name@alias``) and
    return its local directory; ValueError if it holds no feature store metadata."""
    import mlflow

    local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri)
    if not os.path.isfile(os.path.join(local, FEATURE_STORE_DIR, SPEC_FILE)):
        raise ValueError(f"No suitable model found at {model_uri}: the model was not packaged with Feature Store "
                         "metadata. Log it with FeatureEngineeringClient.log_model or "
                         "FeatureStoreClient.log_model.")
    return os.path.join(local, FEATURE_STORE_DIR)


def load_spec(feature_store_dir: str) -> FeatureSpec:
    with open(os.path.join(feature_store_dir, SPEC_FILE), encoding="utf-8") as fh:
        return FeatureSpec.from_yaml(fh.read())


def required_columns(spec: FeatureSpec) -> list[str]:
    """Every source column of the spec, plus lookup keys no other feature produces."""
    produced = {f.name for f in spec.features} | {f.name for f in spec.functions}
    out = [s.name for s in spec.sources]
    for f in spec.features:
        for k in f.lookup_key + f.timestamp_lookup_key:
            if k not in produced and k not in out:
                out.append(k)
    for fn in spec.functions:
        for c in fn.input_bindings.values():
            if c not in produced and c not in out:
                out.append(c)
    return out


def score(tables: FeatureTables, feature_store_dir: str, df: pd.DataFrame, *, result_type: str = "double",
          params: dict[str, Any] | None = None, drop_null_timestamps: bool = True,
          raw_model: Any = None) -> pd.DataFrame:
    """``df`` + missing model inputs + ``prediction``."""
    columns = [str(c) for c in df.columns]
    if PREDICTION in columns:
        raise ValueError(HAS_PREDICTION)
    dups = sorted(c for c, n in Counter(columns).items() if n > 1)
    if dups:
        raise ValueError(f"Found duplicate DataFrame column names {dups}.")
    spec = load_spec(feature_store_dir)
    missing = [c for c in required_columns(spec) if c not in columns]
    if missing:
        raise ValueError(f"DataFrame is missing required columns {', '.join(repr(m) for m in missing)}.")
    snapshots = {name: snapshot(tables, name) for name in dict.fromkeys(f.table_name for f in spec.features)
                 if not all(f.name in columns for f in spec.features if f.table_name == name)}
    augmented = augment(df, spec, snapshots, drop_null_timestamps=drop_null_timestamps, keep_present=True,
                        udfs=udf_callables(tables, spec))
    inputs = spec.model_inputs
    if raw_model is None:
        import mlflow.pyfunc
        raw_model = mlflow.pyfunc.load_model(os.path.join(feature_store_dir, RAW_MODEL))
    predictions = raw_model.predict(augmented[inputs].reset_index(drop=True), **({"params": params} if params else {}))
    out = augmented[columns + [c for c in inputs if c not in columns]].reset_index(drop=True)
    out[PREDICTION] = cast(predictions, result_type)
    return out


def cast(predictions: Any, result_type: str) -> Any:
    """Like ``mlflow.pyfunc.spark_udf``'s ``result_type``: a 2-D output gives its first column for
    a scalar type; ``double``/``float``/``long``/``int``/``string``/``boolean`` cast the values."""
    if isinstance(predictions, pd.DataFrame):
        predictions = predictions.iloc[:, 0]
    values = np.asarray(predictions)
    if values.ndim > 1:
        values = values[:, 0]
    kind = (result_type or "double").lower()
    target = {"double": "float64", "float": "float32", "long": "int64", "bigint": "int64", "int": "int32",
              "integer": "int32", "string": "str", "boolean": "bool"}.get(kind)
    if target is None:
        return list(values)
    return values.astype(target)
