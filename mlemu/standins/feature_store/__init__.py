"""A clean-room emulation of Databricks' feature engineering clients on pandas, backed by the
emulated workspace: feature tables are its Unity Catalog tables.

    from mlemu.standins.feature_store import FeatureEngineeringClient, FeatureLookup
    # or, under the pytest plugin / mlemu.emulate(), the real import paths:
    from databricks.feature_engineering import FeatureEngineeringClient, FeatureLookup

Modules: ``names`` (table names), ``dtypes`` (Spark types of pandas columns), ``tables``
(create / write / read / drop), ``lookups`` (FeatureLookup, FeatureFunction), ``asof`` (the
joins), ``spec`` (feature_spec.yaml), ``training_set`` (specs and augmentation; FeatureFunctions
call the UC Python UDFs of ``ws.unity_catalog.functions``), ``packaging`` (log_model),
``scoring`` (score_batch), ``mlflow_model`` (the pyfunc loader), ``clients``, ``shim``
(import paths), ``fixtures`` (one-line test helpers), ``active`` (the workspace acted on).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["FeatureEngineeringClient", "FeatureStoreClient", "FeatureLookup", "FeatureFunction",
           "FeatureTable", "TrainingSet", "install_import_shim", "make_feature_table"]

if TYPE_CHECKING:
    from mlemu.standins.feature_store.clients import FeatureEngineeringClient, FeatureStoreClient
    from mlemu.standins.feature_store.fixtures import make_feature_table
    from mlemu.standins.feature_store.lookups import FeatureFunction, FeatureLookup
    from mlemu.standins.feature_store.shim import install as install_import_shim
    from mlemu.standins.feature_store.tables import FeatureTable
    from mlemu.standins.feature_store.training_set import TrainingSet

_LAZY = {
    "FeatureEngineeringClient": ("mlemu.standins.feature_store.clients", "FeatureEngineeringClient"),
    "FeatureStoreClient": ("mlemu.standins.feature_store.clients", "FeatureStoreClient"),
    "FeatureLookup": ("mlemu.standins.feature_store.lookups", "FeatureLookup"),
    "FeatureFunction": ("mlemu.standins.feature_store.lookups", "FeatureFunction"),
    "FeatureTable": ("mlemu.standins.feature_store.tables", "FeatureTable"),
    "TrainingSet": ("mlemu.standins.feature_store.training_set", "TrainingSet"),
    "install_import_shim": ("mlemu.standins.feature_store.shim", "install"),
    "make_feature_table": ("mlemu.standins.feature_store.fixtures", "make_feature_table"),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'mlemu.standins.feature_store' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value
