"""Plugins found through the ``mlemu`` entry-point group (as ``pip install`` would declare
them), and the observation hooks: request seen, model loaded / predicted, workspace seeded."""
from __future__ import annotations

import pathlib
import shutil

import pytest

pytest_plugins = ["pytester"]

# imported once here: pytester restores sys.modules after each test (numpy cannot load twice)
mlflow = pytest.importorskip("mlflow")

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"


def _install_by_entry_point(site: pathlib.Path) -> None:
    """What ``pip install plugins/mlemu_traffic_log`` leaves: the package and a dist-info
    whose entry_points.txt declares it in the ``mlemu`` group."""
    shutil.copytree(PLUGINS / "mlemu_traffic_log", site / "mlemu_traffic_log")
    info = site / "mlemu_traffic_log-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mlemu-traffic-log\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[mlemu]\ntraffic_log = mlemu_traffic_log\n")


def test_an_installed_plugin_is_discovered_and_its_hooks_fire(pytester, monkeypatch):
    pytest.importorskip("mlflow")
    site = pytester.path / "site"
    site.mkdir()
    _install_by_entry_point(site)
    monkeypatch.setenv("PYTHONPATH", str(site))
    pytester.makepyfile(test_user="""
        import mlflow
        import pandas as pd
        from databricks.sdk import WorkspaceClient
        from mlemu_traffic_log import traffic

        def test_hooks(mlemu, make_registered_model, make_serving_endpoint, mlemu_seed):
            from mlemu.server import plugins
            assert "traffic_log" in [n for n, _ in plugins.manager().list_name_plugin()]
            mlflow.set_experiment("/Shared/t")
            with mlflow.start_run():
                mlflow.log_metric("a", 1.0)
            log = traffic(mlemu)
            assert log.requests["tracking.runs.create", 200] == 1
            model = make_registered_model()
            endpoint = make_serving_endpoint(model=model)
            WorkspaceClient().serving_endpoints.query(endpoint.name, dataframe_records=[{"x": 1.0, "y": 1.0}])
            assert log.models_loaded[-1][1:] == (model.name, "1")
            assert log.predictions == [(endpoint.name, endpoint.config.served_entities[0].name, 200)]
            mlemu_seed({"experiments": [{"name": "/Shared/seeded", "runs": [{"name": "r"}]}]})
            assert log.seeded == [{"experiments": 1, "runs": 1}]
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=1)


def test_plugin_registered_by_hand(mlemu_plugin_registered):
    pass


@pytest.fixture
def mlemu_plugin_registered():
    import sys

    import mlemu.server.plugins
    sys.path.insert(0, str(PLUGINS))
    try:
        import mlemu_traffic_log
        from mlemu import Workspace

        mlemu.server.plugins.register(mlemu_traffic_log, name="traffic-by-hand")
        try:
            ws = Workspace()
            ws.handle("GET", "/api/2.1/unity-catalog/catalogs", headers={"Authorization": f"Bearer {ws.token}"})
            assert mlemu_traffic_log.traffic(ws).requests == {("unity_catalog.catalogs.list", 200): 1}
        finally:
            mlemu.server.plugins.unregister(mlemu_traffic_log)
        yield
    finally:
        sys.path.remove(str(PLUGINS))
