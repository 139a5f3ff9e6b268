"""The pytest plugin (entry point ``pytest11``): the ``mlemu`` fixture.

    def test_training(mlemu):
        mlflow.set_experiment("/Shared/exp")       # real client, emulated workspace
        ...
        mlemu.calls.assert_called("tracking.experiments.create")

``make_feature_table(name, df, primary_keys=..., timestamp_key=...)`` seeds a feature table
of that workspace in one line; ``make_experiment``, ``make_run``, ``make_registered_model``,
``make_catalog``, ``make_schema``, ``make_table``, ``make_serving_endpoint`` and ``mlemu_seed``
are the other builders (:mod:`mlemu.toolkit.builders`). ``mlemu_session_server`` serves one workspace
for a whole session (per xdist worker). ``--mlemu-keep-failed DIR`` exports the workspace of
each failed test to ``DIR/<test id>.zip``. At ``pytest_configure`` the plugin makes the import paths
``databricks.feature_engineering`` / ``databricks.feature_store`` resolve to mlemu's
clean-room clients (before test modules are collected), see :mod:`mlemu.standins.feature_store.shim`.

Options come from the ``mlemu`` marker: ``@pytest.mark.mlemu(seed=7, user_name="a@b.c")``
(any :class:`mlemu.Workspace` argument, plus ``hermetic``, ``allow_hosts``, ``set_mlflow_uris``,
``registry_uri`` (``"databricks"`` points mlflow at the workspace model registry instead of
Unity Catalog), ``feature_engineering="0.6"`` (the databricks-feature-engineering release the
clean-room clients follow; default the newest), ``uc_model_storage="s3"`` (UC model files on
an emulated S3, the route of mlflow < 2.13; picked for such an mlflow by default) and ``virtual_time``: ``time.sleep`` returns at once and advances the workspace
clock; ``infer_requirements="mlflow"``: mlflow's own (subprocess) model-requirement inference
instead of mlemu's in-process one (:mod:`mlemu.toolkit.requirements`); ``faults=[{"operation": ..., "status": 429, ...}]``: fault rules, see
:mod:`mlemu.server.core.faults`; ``seed_from="seed.yaml"``: a seeding file, relative to the test
module; ``keep_failed=DIR``: as ``--mlemu-keep-failed``). In hermetic mode (the default)
every outbound connection but to the emulated workspace, mlemu's own loopback servers and ``allow_hosts=["name", "name:port"]`` is refused.

``spark`` (opt-in, ``mlemu[spark]`` and Java 17+; skipped otherwise): one local SparkSession
per test session, bridged to the ``mlemu`` workspace's Unity Catalog tables (:mod:`mlemu.standins.spark`).
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

_EMULATE_KEYS = ("hermetic", "set_mlflow_uris", "allow_hosts", "virtual_time", "registry_uri",
                 "infer_requirements", "feature_engineering", "uc_model_storage")
#: Options of the ``mlemu_server`` fixture (``ui=True`` also serves the MLflow web UI).
_SERVER_KEYS = ("ui",)
#: Marker options the fixture applies itself (not Workspace arguments).
_FIXTURE_KEYS = ("faults", "keep_failed", "seed_from", "bundle", "bundle_target", "bundle_variables")
_REPORT_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlemu")
    group.addoption("--mlemu-keep-failed", metavar="DIR", default=None,
                    help="export the workspace of every failed test using the mlemu fixture to "
                         "DIR/<test id>.zip (open it with mlemu.Workspace.load or `mlemu ui`)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    report = outcome.get_result()
    item.stash.setdefault(_REPORT_KEY, {})[report.when] = report


def _failed(node: pytest.Item) -> bool:
    reports = node.stash.get(_REPORT_KEY, {})
    return any(r.failed for r in reports.values())


def keep_path(directory: str, nodeid: str) -> str:
    """Where ``--mlemu-keep-failed`` writes a test's workspace: ``DIR/<test id>.zip``, the id
    made a file name (``tests/test_a.py::test_b[x]`` -> ``tests_test_a.py__test_b_x_.zip``)."""
    import os
    import re

    safe = re.sub(r"[^A-Za-z0-9._-]", "_", nodeid.replace("::", "__"))
    return os.path.join(directory, safe + ".zip")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Turn mlflow's usage telemetry off for the test session (``MLFLOW_DISABLE_TELEMETRY``,
    unless the environment sets it), before any conftest can import mlflow.

    Nothing should leave a test machine, and offline mlflow 3's telemetry thread fails to
    fetch its configuration and then deletes ``_MLFLOW_TELEMETRY_SESSION_ID`` from
    ``os.environ`` while the test's own thread may be iterating it (``requests`` does, to find
    proxies): a ``KeyError`` in an unrelated call, now and then."""
    import os
    import sys

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    client = sys.modules.get("mlflow.telemetry.client")
    if client is not None and hasattr(client, "set_telemetry_client"):
        client.set_telemetry_client()  # already imported: re-reads the setting and stops


def pytest_configure(config: pytest.Config) -> None:
    from mlemu.standins.feature_store import shim

    shim.install()
    if hasattr(config, "workerinput"):  # a pytest-xdist worker
        _name_the_xdist_main_module()
    config.addinivalue_line(
        "markers", "mlemu(**options): options for the mlemu fixture's Workspace "
                   "(seed, workspace_id, user_name, token, journal_size, hermetic, allow_hosts, "
                   "set_mlflow_uris, virtual_time, registry_uri, infer_requirements, feature_engineering, "
                   "uc_model_storage, faults=[{...}], "
                   "keep_failed=DIR, seed_from=FILE, bundle=databricks.yml, bundle_target, bundle_variables; "
                   "ui for mlemu_server)")


def _name_the_xdist_main_module() -> None:
    """An xdist worker's ``__main__`` (execnet's) has neither ``__spec__`` nor ``__file__``,
    which pyspark takes for a doctest run: importing ``pyspark.sql.connect`` then calls
    ``sys.exit(0)``. mlflow imports it whenever it infers a signature and pyspark is installed,
    so every model saved in a worker would end the test with ``SystemExit``. Give ``__main__``
    a file name (the worker's own entry point)."""
    import sys

    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None and not hasattr(main, "__file__"):
        main.__file__ = sys.argv[0] if sys.argv and sys.argv[0] else "<pytest-xdist worker>"


def _options(request: pytest.FixtureRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    ws_kwargs: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("mlemu"))):
        ws_kwargs.update(marker.kwargs)
    emu_kwargs = {k: ws_kwargs.pop(k) for k in _EMULATE_KEYS + _FIXTURE_KEYS if k in ws_kwargs}
    for k in _SERVER_KEYS:
        ws_kwargs.pop(k, None)
    return ws_kwargs, emu_kwargs


@pytest.fixture
def mlemu(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh emulated Databricks workspace, answering in-process for this test."""
    from mlemu.workspace import Workspace
    from mlemu.toolkit.emulation import emulate

    ws_kwargs, emu_kwargs = _options(request)
    faults = emu_kwargs.pop("faults", ())
    keep = emu_kwargs.pop("keep_failed", None) or request.config.getoption("--mlemu-keep-failed", None)
    seed_from = emu_kwargs.pop("seed_from", None)
    bundle = emu_kwargs.pop("bundle", None)
    bundle_target = emu_kwargs.pop("bundle_target", None)
    bundle_variables = emu_kwargs.pop("bundle_variables", None)
    ws = Workspace(**ws_kwargs)
    for fault in faults:
        ws.faults.add(**fault)
    with emulate(ws, **emu_kwargs):
        if seed_from is not None:
            from mlemu.toolkit.builders import Builders
            builders = ws.__dict__["_builders"] = Builders(ws)
            builders.seed(request.path.parent / seed_from if isinstance(seed_from, str) else seed_from)
        if bundle is not None:  # a Databricks Asset Bundle's jobs, as a deploy makes them
            from mlemu.toolkit import bundles
            bundles.load(request.path.parent / bundle, bundle_target, variables=bundle_variables, workspace=ws)
        yield ws
        if keep and _failed(request.node):
            ws.faults.clear()
            path = ws.export(keep_path(str(keep), request.node.nodeid))
            request.node.add_report_section("teardown", "mlemu", f"workspace kept at {path}")
    if ws.internal_errors:
        pytest.fail("mlemu hit an internal error while answering a request:\n" + ws.internal_errors[0],
                    pytrace=False)


@pytest.fixture
def mlemu_server(mlemu: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The ``mlemu`` workspace behind a loopback HTTP server; ``DATABRICKS_HOST`` points at it.
    With ``@pytest.mark.mlemu(ui=True)`` it also serves the MLflow UI (``server.login_url``).
    On a socket the workspace takes a random token (``mlemu.token``, also exported as
    ``DATABRICKS_TOKEN``), in-process too from then on: clients made before this fixture
    started still hold the seeded one."""
    import os

    from mlemu.server.ui.server import serve

    marker = request.node.get_closest_marker("mlemu")
    server = serve(mlemu, ui=bool(marker and marker.kwargs.get("ui")))
    previous = os.environ["DATABRICKS_HOST"]
    os.environ["DATABRICKS_HOST"] = server.url
    os.environ["DATABRICKS_TOKEN"] = mlemu.token  # random now (WorkspaceState.expose)
    try:
        yield server
    finally:
        os.environ["DATABRICKS_HOST"] = previous
        server.stop()


@pytest.fixture(scope="session")
def mlemu_session_server() -> Iterator[Any]:
    """One workspace behind a loopback server for the whole session (per xdist worker), for
    suites that start subprocesses: ``server.url``, ``server.workspace.token`` (random),
    ``server.env`` (``DATABRICKS_HOST`` / ``DATABRICKS_TOKEN`` to hand a child process).
    Its state is shared by every test: ``server.workspace.reset()`` between tests if needed."""
    from mlemu.server.transport.server import serve
    from mlemu.workspace import Workspace

    ws = Workspace()
    server = serve(ws)
    ws.host = server.url
    try:
        yield server
    finally:
        server.stop()


def _builders(ws: Any) -> Any:
    from mlemu.toolkit.builders import Builders

    if "_builders" not in ws.__dict__:
        ws.__dict__["_builders"] = Builders(ws)
    return ws.__dict__["_builders"]


@pytest.fixture
def make_experiment(mlemu: Any) -> Any:
    """``make_experiment(name=None, tags=None)``: mlflow's ``Experiment`` (:mod:`mlemu.toolkit.builders`)."""
    return _builders(mlemu).make_experiment


@pytest.fixture
def make_run(mlemu: Any) -> Any:
    """``make_run(experiment=None, name=None, params=, metrics=, tags=, artifacts=)``: mlflow's ``Run``."""
    return _builders(mlemu).make_run


@pytest.fixture
def make_registered_model(mlemu: Any) -> Any:
    """``make_registered_model(name=None, model=None, versions=1, aliases=, tags=)``: a UC model."""
    return _builders(mlemu).make_registered_model


@pytest.fixture
def make_catalog(mlemu: Any) -> Any:
    """``make_catalog(name=None, **options)``: the SDK's ``CatalogInfo``."""
    return _builders(mlemu).make_catalog


@pytest.fixture
def make_schema(mlemu: Any) -> Any:
    """``make_schema(catalog=None, name=None)``: the SDK's ``SchemaInfo``."""
    return _builders(mlemu).make_schema


@pytest.fixture
def make_table(mlemu: Any) -> Any:
    """``make_table(full_name=None, rows=None, primary_keys=None)``: the SDK's ``TableInfo``."""
    return _builders(mlemu).make_table


@pytest.fixture
def make_serving_endpoint(mlemu: Any) -> Any:
    """``make_serving_endpoint(name=None, model=None, version=None)``: a READY endpoint."""
    return _builders(mlemu).make_serving_endpoint


@pytest.fixture(scope="session")
def mlemu_trained_model() -> Any:
    """``(model, X, y)``: a scikit-learn ``LogisticRegression`` fitted on 60 seeded rows of three
    features (``feature1..3``), for examples that need a real trained model (skips without
    scikit-learn). Without scikit-learn, ``make_registered_model()`` uses a built-in model."""
    pytest.importorskip("sklearn")
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["feature1", "feature2", "feature3"])
    y = (X["feature1"] + X["feature2"] > 0).astype(int).to_numpy()
    return LogisticRegression().fit(X, y), X, y


@pytest.fixture
def mlemu_seed(mlemu: Any) -> Any:
    """``mlemu_seed("seed.yaml")`` (or a dict): create what the file describes (:mod:`mlemu.toolkit.builders`)."""
    return _builders(mlemu).seed


@pytest.fixture
def make_feature_table(mlemu: Any) -> Any:
    """``make_feature_table("main.default.t", df, primary_keys="id", timestamp_key="ts")``:
    a feature table of the ``mlemu`` workspace (see :func:`mlemu.standins.feature_store.make_feature_table`)."""
    import functools

    from mlemu.standins.feature_store.fixtures import make_feature_table as make

    return functools.partial(make, mlemu)


@pytest.fixture(scope="session")
def mlemu_spark_session() -> Iterator[Any]:
    """One local SparkSession for the whole test session (started on first use, ~5-15 s);
    skipped with the reason when pyspark or Java is missing. See :mod:`mlemu.standins.spark`."""
    import os
    import shutil

    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'mlemu[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java 17+ (no java on PATH, JAVA_HOME unset)")
    from mlemu.standins import spark as mlemu_spark

    session = mlemu_spark.session()
    yield session
    session.stop()


@pytest.fixture
def spark(mlemu: Any, mlemu_spark_session: Any) -> Iterator[Any]:
    """The session's SparkSession, active, bridged to the ``mlemu`` workspace's Unity Catalog:
    ``spark.table("c.s.t")``, three-part names in ``spark.sql``, ``saveAsTable``/``writeTo``."""
    from mlemu.standins import spark as mlemu_spark

    with mlemu_spark.active(mlemu_spark_session), mlemu_spark.bridge():
        yield mlemu_spark_session
