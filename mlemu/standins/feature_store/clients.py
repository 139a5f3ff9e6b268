"""``FeatureEngineeringClient`` and the legacy ``FeatureStoreClient``: clean-room versions of
Databricks' clients, on pandas, acting on the active emulated workspace (no credentials, no
Spark). The two differ as the real ones do: keyword-only vs positional arguments, the
timestamp key rule, merge-only writes, ``default_values``, ``table_name=`` for tags.

What needs a live platform (online stores, publishing, feature serving, declarative features)
raises ``NotImplementedError`` naming the Databricks feature.
"""
from __future__ import annotations

import logging
from types import ModuleType
from typing import Any, Dict, List, Optional, Union

from mlemu.standins.feature_store import active, frames, packaging, scoring, training_set, versions
from mlemu.standins.feature_store.dtypes import empty_frame
from mlemu.standins.feature_store.lookups import FeatureFunction, FeatureLookup
from mlemu.standins.feature_store.tables import MERGE, FeatureTable, FeatureTables, as_list

_logger = logging.getLogger("databricks.feature_store")

_LOCAL_ENV_MANAGERS = ("local", None)


def unsupported(feature: str) -> NotImplementedError:
    return NotImplementedError(
        f"{feature} needs a live Databricks platform and is not emulated by mlemu "
        "(see docs/feature-store.md, 'What is not emulated').")


class _Client:
    """What both clients share: the workspace's feature tables and the model helpers."""

    _fe = True

    def __init__(self, model_registry_uri: Optional[str] = None) -> None:
        self._model_registry_uri = model_registry_uri

    def _tables(self) -> FeatureTables:
        return FeatureTables(active.workspace(), fe=self._fe)

    # -- shared implementations ------------------------------------------------------------
    def _create(self, name: str, primary_keys: Any, df: Any, timestamp_keys: List[str], partition_columns: Any,
                schema: Any, description: Optional[str], tags: Optional[Dict[str, str]]) -> FeatureTable:
        frame = frames.to_pandas(df)[0] if df is not None else None
        template = empty_frame(schema) if schema is not None else None
        return self._tables().create(name, primary_keys, frame, timestamp_keys=timestamp_keys,
                                     partition_columns=partition_columns, schema=template,
                                     description=description, tags=tags)

    def _write(self, name: str, df: Any, mode: str) -> None:
        frame, _ = frames.to_pandas(df)
        self._tables().write(name, frame, mode)

    def _read(self, name: str, kwargs: Dict[str, Any]) -> Any:
        unknown = [k for k in kwargs if k != "as_of_delta_timestamp"]
        if unknown:
            raise TypeError(f"read_table() got unexpected keyword argument(s): {unknown}")
        frame = self._tables().read(name, kwargs.get("as_of_delta_timestamp"))
        return frames.like_input(frame, frames.active_spark())

    def _training_set(self, df: Any, feature_lookups: Any, label: Any, exclude_columns: Any,
                      use_spark_native_join: bool = False) -> training_set.TrainingSet:
        frame, spark = frames.to_pandas(df)
        return training_set.create(self._tables(), frame, feature_lookups, label, exclude_columns,
                                   drop_null_timestamps=not use_spark_native_join, spark=spark)

    def _score(self, model_uri: str, df: Any, result_type: str, params: Any = None,
               use_spark_native_join: bool = False) -> Any:
        frame, spark = frames.to_pandas(df)
        if scoring.PREDICTION in frame.columns:  # checked before the model is fetched
            raise ValueError(scoring.HAS_PREDICTION)
        path = scoring.model_dir(model_uri)
        out = scoring.score(self._tables(), path, frame, result_type=result_type, params=params,
                            drop_null_timestamps=not use_spark_native_join)
        return frames.like_input(out, spark)


class FeatureEngineeringClient(_Client):
    """``databricks.feature_engineering.FeatureEngineeringClient`` (Unity Catalog only)."""

    _fe = True

    def __init__(self, *, model_registry_uri: Optional[str] = None) -> None:
        super().__init__(model_registry_uri)

    def create_table(self, *, name: str, primary_keys: Union[str, List[str]], df: Any = None,
                     timeseries_column: Optional[str] = None, partition_columns: Union[str, List[str], None] = None,
                     schema: Any = None, description: Optional[str] = None,
                     tags: Optional[Dict[str, str]] = None, **kwargs: Any) -> FeatureTable:
        for alias in ("timestamp_keys", "timeseries_columns"):
            if alias in kwargs:
                value = as_list(kwargs.pop(alias))
                if len(value) > 1:
                    raise ValueError("Setting multiple timeseries keys is not supported.")
                if value and timeseries_column is None:
                    timeseries_column = value[0]
        if "features_df" in kwargs:
            _logger.warning("The 'features_df' parameter is deprecated. Use 'df'.")
            df = kwargs.pop("features_df") if df is None else df
        if "path" in kwargs:
            raise ValueError("The 'path' parameter is not supported for feature tables in Unity Catalog.")
        if kwargs:
            raise TypeError(f"create_table() got unexpected keyword argument(s): {sorted(kwargs)}")
        return self._create(name, primary_keys, df, as_list(timeseries_column), partition_columns, schema,
                            description, tags)

    def write_table(self, *, name: str, df: Any, mode: str = MERGE, checkpoint_location: Optional[str] = None,
                    trigger: Optional[Dict[str, Any]] = None) -> None:
        self._write(name, df, mode)

    def read_table(self, *, name: str, **kwargs: Any) -> Any:
        return self._read(name, kwargs)

    def get_table(self, *, name: str) -> FeatureTable:
        return self._tables().get(name)

    def drop_table(self, *, name: str) -> None:
        self._tables().drop(name)

    def set_feature_table_tag(self, *, name: str, key: str, value: str) -> None:
        self._tables().set_tag(name, key, value)

    def delete_feature_table_tag(self, *, name: str, key: str) -> None:
        self._tables().delete_tag(name, key)

    def create_training_set(self, *, df: Any, feature_lookups: Optional[List[Any]] = None,
                            feature_spec: Optional[str] = None, features: Optional[List[Any]] = None,
                            label: Union[str, List[str], None], exclude_columns: Optional[List[str]] = None,
                            use_spark_native_join: bool = False, use_timeseries_filtering: bool = False,
                            **kwargs: Any) -> training_set.TrainingSet:
        for argument, value in (("feature_spec", feature_spec), ("features", features),
                                ("use_spark_native_join", use_spark_native_join or None)):
            if value is not None:
                versions.check("create_training_set", argument)
        given = [x for x in (feature_lookups, feature_spec, features) if x is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of 'feature_lookups', 'feature_spec', or 'features' must be provided.")
        if feature_spec is not None:
            raise unsupported("create_training_set(feature_spec=...) (UC feature spec functions)")
        if features is not None:
            raise unsupported("create_training_set(features=...) (declarative features)")
        return self._training_set(df, feature_lookups, label, exclude_columns, use_spark_native_join)

    def log_model(self, *, model: Any, artifact_path: str, flavor: ModuleType, training_set: Any = None,
                  registered_model_name: Optional[str] = None, await_registration_for: Any = packaging.UNSET,
                  infer_input_example: bool = False, extra_pip_requirements: Optional[List[str]] = None,
                  **kwargs: Any) -> Any:
        return packaging.log_model(model=model, artifact_path=artifact_path, flavor=flavor,
                                   training_set=training_set, registered_model_name=registered_model_name,
                                   await_registration_for=await_registration_for,
                                   infer_input_example=infer_input_example,
                                   extra_pip_requirements=extra_pip_requirements, **kwargs)

    def score_batch(self, *, model_uri: str, df: Any, result_type: str = "double", env_manager: str = "local",
                    params: Optional[Dict[str, Any]] = None, use_spark_native_join: bool = False,
                    **kwargs: Any) -> Any:
        if env_manager not in _LOCAL_ENV_MANAGERS:
            raise unsupported(f"score_batch(env_manager={env_manager!r}) (rebuilding the model environment)")
        return self._score(model_uri, df, result_type, params, use_spark_native_join)

    # -- needs a live platform -------------------------------------------------------------
    def publish_table(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("publish_table (online stores)")

    def drop_online_table(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("drop_online_table (online stores)")

    def create_online_store(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("Databricks Online Store (create_online_store)")

    get_online_store = update_online_store = delete_online_store = list_online_stores = create_online_store

    def create_feature_serving_endpoint(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("Feature Serving endpoints (create_feature_serving_endpoint)")

    get_feature_serving_endpoint = delete_feature_serving_endpoint = create_feature_serving_endpoint

    def create_feature_spec(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("UC feature spec functions (create_feature_spec)")

    update_feature_spec = delete_feature_spec = create_feature_spec

    def build_model_env(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("build_model_env (model environment builds)")

    def create_feature(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("Declarative features (create_feature, compute_features, materialize_features)")

    register_feature = get_feature = list_features = delete_feature = compute_features = create_feature
    materialize_features = list_materialized_features = delete_materialized_feature = create_feature

    def create_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("Feature streams (create_stream)")

    update_stream = get_stream = list_streams = delete_stream = create_stream


class FeatureStoreClient(_Client):
    """The legacy ``databricks.feature_store.FeatureStoreClient`` (hive metastore or UC names)."""

    _fe = False

    def __init__(self, feature_store_uri: Optional[str] = None, model_registry_uri: Optional[str] = None) -> None:
        super().__init__(model_registry_uri)
        self._feature_store_uri = feature_store_uri

    def create_table(self, name: str, primary_keys: Union[str, List[str]], df: Any = None, *,
                     timestamp_keys: Union[str, List[str], None] = None,
                     partition_columns: Union[str, List[str], None] = None, schema: Any = None,
                     description: Optional[str] = None, tags: Optional[Dict[str, str]] = None,
                     **kwargs: Any) -> FeatureTable:
        if "features_df" in kwargs:
            _logger.warning("The 'features_df' parameter is deprecated. Use 'df'.")
            df = kwargs.pop("features_df") if df is None else df
        if kwargs:
            raise TypeError(f"create_table() got unexpected keyword argument(s): {sorted(kwargs)}")
        return self._create(name, primary_keys, df, as_list(timestamp_keys), partition_columns, schema,
                            description, tags)

    def create_feature_table(self, name: str, keys: Union[str, List[str]], features_df: Any = None,
                             schema: Any = None, partition_columns: Union[str, List[str], None] = None,
                             description: Optional[str] = None, timestamp_keys: Union[str, List[str], None] = None,
                             **kwargs: Any) -> FeatureTable:
        """Deprecated alias of :meth:`create_table`."""
        _logger.warning("create_feature_table is deprecated. Use create_table.")
        return self.create_table(name, keys, features_df, timestamp_keys=timestamp_keys,
                                 partition_columns=partition_columns, schema=schema, description=description,
                                 **kwargs)

    def register_table(self, *, delta_table: str, primary_keys: Union[str, List[str]],
                       timestamp_keys: Union[str, List[str], None] = None, description: Optional[str] = None,
                       tags: Optional[Dict[str, str]] = None) -> FeatureTable:
        """Make an existing table a feature table (its rows must be unique on the keys)."""
        tables = self._tables()
        return tables.register(delta_table, as_list(primary_keys), as_list(timestamp_keys), description, tags)

    def get_table(self, name: str) -> FeatureTable:
        return self._tables().get(name)

    def get_feature_table(self, name: str) -> FeatureTable:
        """Deprecated alias of :meth:`get_table`."""
        return self.get_table(name)

    def read_table(self, name: str, **kwargs: Any) -> Any:
        return self._read(name, kwargs)

    def drop_table(self, name: str) -> None:
        self._tables().drop(name)

    def write_table(self, name: str, df: Any, mode: str = MERGE, checkpoint_location: Optional[str] = None,
                    trigger: Optional[Dict[str, Any]] = None) -> None:
        self._write(name, df, mode)

    def create_training_set(self, df: Any, feature_lookups: List[Any], label: Union[str, List[str], None],
                            exclude_columns: Optional[List[str]] = None, **kwargs: Any) -> training_set.TrainingSet:
        return self._training_set(df, feature_lookups, label, exclude_columns)

    def log_model(self, model: Any, artifact_path: str, *, flavor: ModuleType, training_set: Any = None,
                  registered_model_name: Optional[str] = None, await_registration_for: Any = packaging.UNSET,
                  infer_input_example: bool = False, extra_pip_requirements: Optional[List[str]] = None,
                  **kwargs: Any) -> Any:
        return packaging.log_model(model=model, artifact_path=artifact_path, flavor=flavor,
                                   training_set=training_set, registered_model_name=registered_model_name,
                                   await_registration_for=await_registration_for,
                                   infer_input_example=infer_input_example,
                                   extra_pip_requirements=extra_pip_requirements, **kwargs)

    def score_batch(self, model_uri: str, df: Any, result_type: str = "double") -> Any:
        return self._score(model_uri, df, result_type)

    def set_feature_table_tag(self, *, table_name: str, key: str, value: str) -> None:
        self._tables().set_tag(table_name, key, value)

    def delete_feature_table_tag(self, *, table_name: str, key: str) -> None:
        self._tables().delete_tag(table_name, key)

    # -- needs a live platform -------------------------------------------------------------
    def publish_table(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("publish_table (online stores)")

    def drop_online_table(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("drop_online_table (online stores)")

    def add_data_sources(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("Feature table data sources (add_data_sources)")

    delete_data_sources = add_data_sources

    def create_feature_serving_endpoint(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("Feature Serving endpoints (create_feature_serving_endpoint)")

    get_feature_serving_endpoint = delete_feature_serving_endpoint = create_feature_serving_endpoint

    def create_feature_spec(self, *args: Any, **kwargs: Any) -> Any:
        raise unsupported("UC feature spec functions (create_feature_spec)")

    delete_feature_spec = create_feature_spec


__all__ = ["FeatureEngineeringClient", "FeatureStoreClient", "FeatureLookup", "FeatureFunction"]
