"""The pytest plugin (entry point ``pytest11``): the ``mlemu`` fixture.

    def test_training(mlemu):
        mlflow.set_experiment("/Shared/exp")       # real client, emulated workspace
        ...
        mlemu.calls.assert_called("tracking.experiments.create")

``make_feature_table(name, df, primary_keys=..., timestamp_key=...)`` seeds a feature table
of that workspace in one line. At ``pytest_configure`` the plugin makes the import paths
``databricks.feature_engineering`` / ``databricks.feature_store`` resolve to mlemu's
clean-room clients (before test modules are collected), see :mod:`mlemu.feature_store.shim`.

Options come from the ``mlemu`` marker: ``@pytest.mark.mlemu(seed=7, user_name="a@b.c")``
(any :class:`mlemu.Workspace` argument, plus ``hermetic``, ``allow_hosts``, ``set_mlflow_uris``,
``registry_uri`` (``"databricks"`` points mlflow at the workspace model registry instead of
Unity Catalog) and ``virtual_time``: ``time.sleep`` returns at once and advances the workspace
clock; ``faults=[{"operation": ..., "status": 429, ...}]``: fault rules, see
:mod:`mlemu.core.faults`). In hermetic mode (the default) every outbound connection but to the emulated workspace,
mlemu's own loopback servers and ``allow_hosts=["name", "name:port"]`` is refused.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

_EMULATE_KEYS = ("hermetic", "set_mlflow_uris", "allow_hosts", "virtual_time", "registry_uri")
#: Marker options the fixture applies itself (not Workspace arguments).
_FIXTURE_KEYS = ("faults", "keep_failed")


def pytest_configure(config: pytest.Config) -> None:
    from mlemu.feature_store import shim

    shim.install()
    config.addinivalue_line(
        "markers", "mlemu(**options): options for the mlemu fixture's Workspace "
                   "(seed, workspace_id, user_name, token, journal_size, hermetic, allow_hosts, "
                   "set_mlflow_uris, virtual_time, registry_uri, faults=[{...}], keep_failed=DIR)")


def _options(request: pytest.FixtureRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    ws_kwargs: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("mlemu"))):
        ws_kwargs.update(marker.kwargs)
    emu_kwargs = {k: ws_kwargs.pop(k) for k in _EMULATE_KEYS + _FIXTURE_KEYS if k in ws_kwargs}
    return ws_kwargs, emu_kwargs


@pytest.fixture
def mlemu(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh emulated Databricks workspace, answering in-process for this test."""
    from mlemu.workspace import Workspace
    from mlemu.emulation import emulate

    ws_kwargs, emu_kwargs = _options(request)
    faults = emu_kwargs.pop("faults", ())
    emu_kwargs.pop("keep_failed", None)
    ws = Workspace(**ws_kwargs)
    for fault in faults:
        ws.faults.add(**fault)
    with emulate(ws, **emu_kwargs):
        yield ws
    if ws.internal_errors:
        pytest.fail("mlemu hit an internal error while answering a request:\n" + ws.internal_errors[0],
                    pytrace=False)


@pytest.fixture
def mlemu_server(mlemu: Any) -> Iterator[Any]:
    """The ``mlemu`` workspace behind a loopback HTTP server; ``DATABRICKS_HOST`` points at it."""
    import os

    from mlemu.transport.server import serve

    server = serve(mlemu)
    previous = os.environ["DATABRICKS_HOST"]
    os.environ["DATABRICKS_HOST"] = server.url
    try:
        yield server
    finally:
        os.environ["DATABRICKS_HOST"] = previous
        server.stop()


@pytest.fixture
def make_feature_table(mlemu: Any) -> Any:
    """``make_feature_table("main.default.t", df, primary_keys="id", timestamp_key="ts")``:
    a feature table of the ``mlemu`` workspace (see :func:`mlemu.feature_store.make_feature_table`)."""
    import functools

    from mlemu.feature_store.fixtures import make_feature_table as make

    return functools.partial(make, mlemu)
