"""``FeatureLookup`` and ``FeatureFunction``: what a training set takes from where, with the
constructor validation of the real classes (``feature-store.md`` §1.3). Pure Python."""
from __future__ import annotations

import datetime
import logging
from typing import Any, Dict, List, Optional, Union

from mlemu.standins.feature_store import versions

_logger = logging.getLogger("databricks.ml_features")
_DEPRECATED = ("feature_name", "output_name")


class FeatureLookup:
    """A lookup of features from one feature table by key (and, for time-series tables,
    as of a timestamp)."""

    def __init__(self, table_name: str, lookup_key: Union[str, List[str]], *,
                 feature_names: Union[str, List[str], None] = None,
                 rename_outputs: Optional[Dict[str, str]] = None,
                 timestamp_lookup_key: Optional[str] = None,
                 lookback_window: Optional[datetime.timedelta] = None,
                 default_values: Optional[Dict[str, Any]] = None, **kwargs: Any) -> None:
        if default_values is not None:
            versions.check("FeatureLookup", "default_values")
        unexpected = [k for k in kwargs if k not in _DEPRECATED]
        if unexpected:
            raise TypeError(f"FeatureLookup got unexpected keyword argument(s): {unexpected}")
        feature_name = kwargs.get("feature_name")
        output_name = kwargs.get("output_name")
        if feature_name is not None:
            _logger.warning("The 'feature_name' parameter is deprecated. Use 'feature_names'.")
            if feature_names is None:
                feature_names = [feature_name]
                if output_name is not None:
                    _logger.warning("The 'output_name' parameter is deprecated. Use 'rename_outputs'.")
                    rename_outputs = {feature_name: output_name}
        if isinstance(timestamp_lookup_key, list):
            if len(timestamp_lookup_key) > 1:
                raise ValueError("Setting multiple timestamp lookup keys is not supported.")
            timestamp_lookup_key = timestamp_lookup_key[0] if timestamp_lookup_key else None
        if isinstance(feature_names, str):
            feature_names = [feature_names]
        if feature_names is not None:
            if not isinstance(feature_names, list) or not all(isinstance(f, str) for f in feature_names):
                raise ValueError(f"feature_names must be a str or a list of str, not {feature_names!r}.")
        if rename_outputs is None:
            rename_outputs = {}
        if not isinstance(rename_outputs, dict):
            raise ValueError(f"Unexpected type for rename_outputs: {type(rename_outputs)}. "
                             "rename_outputs must be a dict.")
        if lookback_window is not None:
            if timestamp_lookup_key is None:
                raise ValueError("Unexpected lookback_window value: lookback windows can only be applied on "
                                 "time series feature tables. Use timestamp_lookup_key to perform point-in-time "
                                 "lookups with lookback window.")
            if not isinstance(lookback_window, datetime.timedelta) or lookback_window < datetime.timedelta(0):
                raise ValueError(f"Unexpected value for lookback_window: {lookback_window}, only non-negative "
                                 "datetime.timedelta allowed.")
        if default_values is not None:
            if not isinstance(default_values, dict):
                raise ValueError(f"Unexpected type for default_values: {type(default_values)}. "
                                 "default_values must be a dict.")
            renamed = {v: k for k, v in rename_outputs.items()}
            for key in default_values:
                if key in rename_outputs:
                    raise ValueError(f"Feature {key} is being renamed to {rename_outputs[key]}, please use the "
                                     "renamed feature name in default_values.")
                if feature_names is not None and renamed.get(key, key) not in feature_names:
                    raise ValueError(f"Feature {key} in default_values is not one of the looked-up features "
                                     f"{[rename_outputs.get(f, f) for f in feature_names]}.")
        self._table_name = table_name
        self._lookup_key = lookup_key
        self._feature_names = feature_names
        self._rename_outputs = dict(rename_outputs)
        self._timestamp_lookup_key = timestamp_lookup_key
        self._lookback_window = lookback_window
        self._default_values = dict(default_values or {})

    @property
    def table_name(self) -> str:
        return self._table_name

    @property
    def lookup_key(self) -> Union[str, List[str]]:
        return self._lookup_key

    @property
    def feature_names(self) -> Optional[List[str]]:
        return self._feature_names

    @property
    def feature_name(self) -> Optional[str]:
        """Deprecated: the single feature name, when exactly one was asked for."""
        return self._feature_names[0] if self._feature_names and len(self._feature_names) == 1 else None

    @property
    def output_name(self) -> Optional[str]:
        """Deprecated: the output name of :attr:`feature_name`."""
        name = self.feature_name
        return self._rename_outputs.get(name, name) if name else None

    @property
    def rename_outputs(self) -> Dict[str, str]:
        return dict(self._rename_outputs)

    @property
    def timestamp_lookup_key(self) -> Optional[str]:
        return self._timestamp_lookup_key

    @property
    def lookback_window(self) -> Optional[datetime.timedelta]:
        return self._lookback_window

    @property
    def default_values(self) -> Dict[str, Any]:
        return dict(self._default_values)

    @property
    def lookup_keys(self) -> List[str]:
        """``lookup_key`` as a list (matched to the table's primary keys by position)."""
        return [self._lookup_key] if isinstance(self._lookup_key, str) else list(self._lookup_key)

    def output_for(self, feature: str) -> str:
        return self._rename_outputs.get(feature, feature)

    def __repr__(self) -> str:
        return (f"FeatureLookup(table_name={self._table_name!r}, lookup_key={self._lookup_key!r}, "
                f"feature_names={self._feature_names!r}, timestamp_lookup_key={self._timestamp_lookup_key!r})")


class FeatureFunction:
    """An on-demand feature computed by a Unity Catalog Python UDF."""

    def __init__(self, *, udf_name: str, input_bindings: Optional[Dict[str, str]] = None,
                 output_name: Optional[str] = None) -> None:
        if not isinstance(udf_name, str) or not udf_name:
            raise ValueError("udf_name must be a non-empty string.")
        if input_bindings is not None and not isinstance(input_bindings, dict):
            raise ValueError(f"Unexpected type for input_bindings: {type(input_bindings)}. "
                             "input_bindings must be a dict.")
        self._udf_name = udf_name.lower()
        self._input_bindings = dict(input_bindings or {})
        self._output_name = output_name or self._udf_name.split(".")[-1]

    @property
    def udf_name(self) -> str:
        return self._udf_name

    @property
    def input_bindings(self) -> Dict[str, str]:
        return dict(self._input_bindings)

    @property
    def output_name(self) -> str:
        return self._output_name

    def __repr__(self) -> str:
        return f"FeatureFunction(udf_name={self._udf_name!r}, output_name={self._output_name!r})"
