"""The real import paths resolve to mlemu's clients: at collection time under the pytest
plugin (this module imports them at the top), inside ``mlemu.emulate()`` outside pytest,
without disturbing ``databricks.sdk``; platform-only features say so."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from databricks.feature_engineering import FeatureEngineeringClient, FeatureFunction, FeatureLookup
from databricks.feature_store import FeatureLookup as LegacyLookup
from databricks.feature_store import FeatureStoreClient

import mlemu.standins.feature_store as fs_pkg


def test_collection_time_imports_are_mlemus_classes():
    assert FeatureEngineeringClient is fs_pkg.FeatureEngineeringClient
    assert FeatureStoreClient is fs_pkg.FeatureStoreClient
    assert FeatureLookup is LegacyLookup is fs_pkg.FeatureLookup
    assert FeatureFunction is fs_pkg.FeatureFunction


def test_submodule_paths_and_the_sdk_namespace():
    from databricks.feature_engineering.entities.feature_lookup import FeatureLookup as Nested
    from databricks.feature_store.entities.feature_table import FeatureTable
    from databricks.sdk import WorkspaceClient  # the other half of the namespace still works

    assert Nested is FeatureLookup and FeatureTable is fs_pkg.FeatureTable
    assert WorkspaceClient.__module__.startswith("databricks.sdk")


def test_clients_need_no_credentials_but_an_active_workspace():
    client = FeatureEngineeringClient()  # constructing is free
    with pytest.raises(RuntimeError, match="No emulated Databricks workspace is active"):
        client.get_table(name="main.default.t")


def test_install_replaces_modules_imported_before_it():
    import types

    from mlemu.standins.feature_store import shim

    fake = types.ModuleType("databricks.feature_store")
    saved = sys.modules.get("databricks.feature_store")
    sys.modules["databricks.feature_store"] = fake
    try:
        shim.install()
        import databricks.feature_store as again
        assert again is not fake and again.FeatureStoreClient is FeatureStoreClient
    finally:
        if saved is not None:
            sys.modules["databricks.feature_store"] = saved


def test_emulate_outside_pytest_makes_the_paths_importable(tmp_path):
    script = textwrap.dedent("""
        import pandas as pd
        import mlemu
        try:
            import databricks.feature_engineering
            raise SystemExit("importable before emulate()")
        except ModuleNotFoundError:
            pass
        with mlemu.emulate() as ws:
            from databricks.feature_engineering import FeatureEngineeringClient
            from databricks.sdk import WorkspaceClient
            fe = FeatureEngineeringClient()
            fe.create_table(name="main.default.t", primary_keys="id", df=pd.DataFrame({"id": [1], "x": [2.0]}))
            pk = WorkspaceClient().tables.get("main.default.t").table_constraints[0].primary_key_constraint
            print(pk.child_columns, fe.read_table(name="main.default.t")["x"].tolist())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                         env={k: v for k, v in __import__("os").environ.items() if not k.startswith("PYTEST")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['id'] [2.0]"


@pytest.mark.parametrize("call", [
    lambda c: c.publish_table(online_store=None, source_table_name="t"),
    lambda c: c.create_online_store(name="s", capacity="CU_1"),
    lambda c: c.create_feature_serving_endpoint(name="e"),
    lambda c: c.create_feature_spec(name="s", features=[]),
    lambda c: c.drop_online_table("t", None),
    lambda c: c.build_model_env("models:/m/1", "/tmp/x"),
    lambda c: c.compute_features(features=[]),
    lambda c: c.score_batch(model_uri="models:/m/1", df=None, env_manager="virtualenv"),
])
def test_platform_only_features_raise_not_implemented(call):
    with pytest.raises(NotImplementedError, match="needs a live Databricks platform"):
        call(FeatureEngineeringClient())


def test_legacy_platform_only_features(mlemu):
    with pytest.raises(NotImplementedError, match="publish_table"):
        FeatureStoreClient().publish_table("t", None)
    with pytest.raises(NotImplementedError, match="data sources"):
        FeatureStoreClient().add_data_sources(feature_table_name="t", source_names="s")
