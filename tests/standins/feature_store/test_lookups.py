"""``FeatureLookup`` / ``FeatureFunction`` constructor validation (``feature-store.md`` §1.3)."""
from __future__ import annotations

import datetime

import pytest

from mlemu.standins.feature_store import FeatureFunction, FeatureLookup


def test_properties_and_unwrapping():
    fl = FeatureLookup("t", "id", feature_names="a", timestamp_lookup_key=["ts"],
                       lookback_window=datetime.timedelta(days=1), rename_outputs={"a": "b"},
                       default_values={"b": 0})
    assert (fl.table_name, fl.lookup_key, fl.feature_names, fl.timestamp_lookup_key) == ("t", "id", ["a"], "ts")
    assert fl.lookback_window == datetime.timedelta(days=1) and fl.default_values == {"b": 0}
    assert fl.feature_name == "a" and fl.output_name == "b"


def test_deprecated_feature_name_and_output_name():
    fl = FeatureLookup("t", "id", feature_name="a", output_name="b")
    assert fl.feature_names == ["a"] and fl.rename_outputs == {"a": "b"}


@pytest.mark.parametrize("kwargs, error, message", [
    ({"nope": 1}, TypeError, r"^FeatureLookup got unexpected keyword argument\(s\): \['nope'\]$"),
    ({"timestamp_lookup_key": ["a", "b"]}, ValueError, r"^Setting multiple timestamp lookup keys is not supported.$"),
    ({"feature_names": ["a", 1]}, ValueError, "feature_names"),
    ({"rename_outputs": ["a"]}, ValueError, "rename_outputs"),
    ({"lookback_window": datetime.timedelta(days=1)}, ValueError,
     "lookback windows can only be applied on time series feature tables"),
    ({"timestamp_lookup_key": "ts", "lookback_window": datetime.timedelta(days=-1)}, ValueError,
     "non-negative"),
    ({"timestamp_lookup_key": "ts", "lookback_window": 3}, ValueError, "non-negative"),
    ({"default_values": [0]}, ValueError, "default_values"),
    ({"feature_names": ["a"], "rename_outputs": {"a": "b"}, "default_values": {"a": 0}}, ValueError,
     r"^Feature a is being renamed to b, please use the renamed feature name"),
    ({"feature_names": ["a"], "default_values": {"c": 0}}, ValueError, "c"),
])
def test_constructor_rules(kwargs, error, message):
    with pytest.raises(error, match=message):
        FeatureLookup("t", "id", **kwargs)


def test_feature_function_lowercases_the_udf_name():
    ff = FeatureFunction(udf_name="Main.Default.Fn", input_bindings={"x": "a"}, output_name="y")
    assert (ff.udf_name, ff.input_bindings, ff.output_name) == ("main.default.fn", {"x": "a"}, "y")
