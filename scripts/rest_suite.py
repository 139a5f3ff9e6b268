"""Run mlflow's own REST test files against a real ``mlflow server`` and against mlemu.

Why: issue 20 measures fidelity with mlflow's REST suite (tracking, model registry, tracing and
UI-handler tests): the tests that pass against ``mlflow server`` should pass against mlemu too,
except where Databricks itself differs from OSS (docs/limitations.md lists those).

mlflow's tests are never copied into this project: give the directory of an mlflow checkout
(its ``tests/`` package and ``pyproject.toml``; the closest to the installed mlflow you have)::

    python scripts/rest_suite.py /path/to/mlflow-checkout            # both targets, compared
    python scripts/rest_suite.py /path/to/mlflow-checkout --target mlemu -k experiment

Run it from the mlemu checkout with the mlflow 3 venv's python, so this mlemu is imported.
Target ``mlflow`` runs the files unchanged (the in-process OSS server thread mlflow's fixtures
start; only the sqlite store, the ``[sqlalchemy]`` ids). Target ``mlemu`` replaces mlflow's
``ServerThread`` and ``_init_server`` with a fresh in-memory mlemu workspace on a loopback port,
served as ``mlemu serve --ui`` serves it (the UI-handler tests call ``/ajax-api/`` paths), gives
the client the workspace's host and token (``MLFLOW_TRACKING_TOKEN``, ``DATABRICKS_HOST``,
``DATABRICKS_TOKEN``, as a Databricks user has them) and maps experiment names: a relative name
``X`` is stored as ``/Users/user@company.com/rest-suite/X`` (Databricks wants absolute paths) and
answers strip that prefix again. Each target runs in one pytest process, one after the other; the
script prints per-family counts and the tests that pass on ``mlflow`` but fail on ``mlemu``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

FILES = ("tests/tracking/test_rest_tracking.py", "tests/tracking/test_model_registry.py")
PREFIX = "/Users/user@company.com/rest-suite/"  # under the default workspace user's home
NAME_FIELDS = {"name", "new_name", "experiment_name"}
EXPERIMENT_PATHS = ("/experiments/create", "/experiments/update", "/experiments/get-by-name",
                    "/experiments/rename")

# Families: by test name; the OSS-only ones are features a Databricks workspace does not have.
OSS_ONLY = {
    "workspace-mode": ("workspace",),  # mlflow's multi-tenant OSS server mode
    "server-artifacts": ("artifact", "upload", "download", "mpu", "multipart", "proxy"),
    "server-internals": ("sqlalchemy", "sqlite", "cli", "gateway", "webhook", "jobs",
                         "prometheus", "otel", "scorer", "secret", "health", "version_endpoint",
                         "server_info", "fastapi", "static"),
    # the tracking server's own evaluation-dataset store (/api/3.0/mlflow/datasets/...); on
    # Databricks, mlflow.genai.datasets keeps them in Unity Catalog through databricks-agents
    "evaluation-datasets": ("evaluation_dataset", "dataset_to_experiments",
                            "dataset_from_experiments", "dataset_experiment_association",
                            "add_multiple_experiments", "idempotent_add_experiments",
                            "idempotent_remove_experiments", "add_remove_experiments"),
}
FAMILIES = {
    "tracing": ("trace", "span", "assessment"),
    "ui-handlers": ("ajax", "get_metric_history_bulk", "graphql", "search_dataset", "bulk_interval"),
    "logged-models": ("logged_model",),
    "registry": ("registered_model", "model_version", "registry", "alias"),
}


def _has_word(name: str, word: str) -> bool:
    """``word`` as whole ``_``-separated words of a test's name (a plural too): ``cli`` is in
    ``test_rename_experiment_cli``, not in ``test_client_api_...``."""
    import re
    return re.search(rf"(?:^|_){re.escape(word)}(?:e?s)?(?:_|$)", name) is not None


def family(test_id: str) -> str:
    """The family a test belongs to (by its file and name); ``oss:...`` for OSS-only ones."""
    name = test_id.split("::")[-1].split("[")[0].lower()
    for fam, words in OSS_ONLY.items():
        if any(_has_word(name, w) for w in words):
            return f"oss:{fam}"
    if "test_model_registry" in test_id:
        return "registry"
    for fam, words in FAMILIES.items():
        if any(_has_word(name, w) for w in words):
            return fam
    return "tracking"


# ---- the pytest plugin side (loaded with -p rest_suite inside the pytest process) ------------

def _rename_in(obj: Any, add: bool) -> Any:
    """Add the prefix to relative experiment names in a request, or strip it from an answer."""
    if isinstance(obj, dict):
        return {k: (PREFIX + v if add and k in NAME_FIELDS and isinstance(v, str)
                    and not v.startswith("/") else _rename_in(v, add)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rename_in(v, add) for v in obj]
    if not add and isinstance(obj, str) and obj.startswith(PREFIX):
        return obj[len(PREFIX):]
    return obj


PROMPT_CLAUSE = "tag.`mlflow.prompt.is_prompt` != 'true'"


def _drop_prompt_clause(filter_string: str) -> str:
    """mlflow adds this clause for an OSS registry URI only (``is_prompt_supported_registry``):
    with the ``databricks`` registry URI a Databricks user has, the client never sends it."""
    return filter_string.replace(f" AND {PROMPT_CLAUSE}", "").replace(PROMPT_CLAUSE, "")


def _wrap(workspace: Any) -> None:
    """Map experiment names around ``workspace.handle`` (the loopback server's entry point)."""
    import urllib.parse
    inner = workspace.handle
    inner("POST", "/api/2.0/workspace/mkdirs", "", {"authorization": f"Bearer {workspace.token}"},
          json.dumps({"path": PREFIX.rstrip("/")}).encode())

    def handle(method: str, path: str, query_string: str = "", headers: Any = None,
               body: bytes = b"", *args: Any, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
        if path.endswith(EXPERIMENT_PATHS):
            if body:
                try:
                    body = json.dumps(_rename_in(json.loads(body), True)).encode()
                except ValueError:
                    pass
            if query_string:
                q = urllib.parse.parse_qsl(query_string, keep_blank_values=True)
                query_string = urllib.parse.urlencode(
                    [(k, PREFIX + v if k == "experiment_name" and not v.startswith("/") else v)
                     for k, v in q])
        if path.endswith(("/registered-models/search", "/model-versions/search")) and query_string:
            q = urllib.parse.parse_qsl(query_string, keep_blank_values=True)
            query_string = urllib.parse.urlencode([(k, _drop_prompt_clause(v) if k == "filter"
                                                    else v) for k, v in q])
        status, out_headers, out = inner(method, path, query_string, headers, body, *args, **kwargs)
        ctype = {k.lower(): v for k, v in out_headers.items()}.get("content-type", "")
        if "json" in ctype and PREFIX.encode() in out:
            try:
                out = json.dumps(_rename_in(json.loads(out), False)).encode()
                out_headers = {k: v for k, v in out_headers.items() if k.lower() != "content-length"}
                out_headers["Content-Length"] = str(len(out))
            except ValueError:
                pass
        return status, out_headers, out

    workspace.handle = handle


class MlemuServer:
    """Stands in for mlflow's ``ServerThread``: a fresh mlemu workspace on a loopback port."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        from mlemu import Workspace
        from mlemu.server.ui.bundle import UiUnavailable, build_dir
        from mlemu.server.ui.server import UiServer
        workspace = self.workspace = Workspace()
        _wrap(workspace)
        try:  # as ``mlemu serve --ui``: the UI-handler tests call the UI's /ajax-api/ paths
            build_dir()
            self.server = UiServer(workspace)
        except UiUnavailable:
            from mlemu.server.transport.server import LoopbackServer
            self.server = LoopbackServer(workspace)
        self.url = self.server.url

    def __enter__(self) -> str:
        self.server.start()
        # the tests talk to the URL; a Databricks user's client also has the workspace's host and
        # token (it reads them to fetch traces and artifacts from dbfs:/ locations)
        self.env = {"MLFLOW_TRACKING_TOKEN": self.workspace.token,
                    "DATABRICKS_HOST": self.url, "DATABRICKS_TOKEN": self.workspace.token}
        self.saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        return self.url

    def __exit__(self, *exc: Any) -> None:
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self.server.stop()


def _shim_harness() -> None:
    """The checkout's conftest may call workspace helpers another mlflow names differently:
    harness-only aliases (no test logic), the same on both targets."""
    from mlflow.utils import workspace_context, workspace_utils
    if not hasattr(workspace_context, "clear_workspace"):
        workspace_context.clear_workspace = workspace_context.clear_server_request_workspace
    if not hasattr(workspace_utils, "set_workspace_store_uri"):
        workspace_utils.set_workspace_store_uri = lambda _uri: None


def pytest_configure(config: Any) -> None:
    _shim_harness()
    if os.environ.get("REST_SUITE_TARGET") == "mlemu":
        import contextlib
        import tests.tracking.integration_test_utils as utils

        @contextlib.contextmanager
        def init_server(*_args: Any, **_kwargs: Any) -> Any:
            with MlemuServer() as url:
                yield url

        utils.ServerThread = MlemuServer
        utils._init_server = init_server
        _add_token_to_raw_requests()


def _add_token_to_raw_requests() -> None:
    """mlflow's tests also call the server with plain ``requests``: give those the token too."""
    import requests.sessions
    plain = requests.sessions.Session.request

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        headers = dict(kwargs.pop("headers", None) or {})
        if token and url.startswith("http://127.0.0.1") and not kwargs.get("auth") \
                and not any(k.lower() == "authorization" for k in headers):
            headers["Authorization"] = f"Bearer {token}"
        return plain(self, method, url, *args, headers=headers, **kwargs)

    requests.sessions.Session.request = request


def pytest_collection_modifyitems(config: Any, items: list) -> None:
    """Only the sqlite-store ids (a file store is an OSS server option)."""
    keep = [i for i in items if "[file" not in i.nodeid and "-file" not in i.nodeid
            and "file]" not in i.nodeid]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep


_RESULTS: dict[str, str] = {}
TEST_TIMEOUT_S = int(os.environ.get("REST_SUITE_TIMEOUT", "60"))


class TestTimeout(Exception):
    """A test that hangs (e.g. a client retrying forever) fails instead of stopping the run."""


def _alarm(_signum: int, _frame: Any) -> None:
    raise TestTimeout(f"no answer within {TEST_TIMEOUT_S} s")


import pytest  # noqa: E402  (the plugin side runs inside pytest)


def _timed() -> Any:
    import signal
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TEST_TIMEOUT_S)
    try:
        yield
    finally:
        signal.alarm(0)


# Setup, body and teardown are timed, each on its own (a fixture's teardown can hang too, e.g.
# flushing traces to a server that is gone); never pytest's own reporting, where an alarm would
# stop the run with INTERNALERROR.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: Any) -> Any:
    yield from _timed()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: Any) -> Any:
    yield from _timed()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: Any, nextitem: Any) -> Any:
    yield from _timed()


def _write_results() -> None:
    out = os.environ.get("REST_SUITE_OUT")
    if out:
        Path(out).write_text(json.dumps(_RESULTS, indent=1, sort_keys=True))


def pytest_runtest_logreport(report: Any) -> None:
    """A test's outcome: its call's, or the first setup/teardown that did not pass. Written at
    once, so a run that is stopped still counts what it ran."""
    if report.when == "call" or report.outcome != "passed":
        if _RESULTS.get(report.nodeid) in (None, "passed"):
            _RESULTS[report.nodeid] = report.outcome
            _write_results()


def pytest_sessionfinish(session: Any) -> None:
    _write_results()


# ---- the command-line side -----------------------------------------------------------------

def run(target: str, checkout: Path, extra: list[str]) -> dict[str, str]:
    """One pytest process for one target; its per-test outcomes."""
    out = Path(tempfile.mkstemp(suffix=f"-{target}.json")[1])
    here = Path(__file__).resolve()
    env = {**os.environ, "REST_SUITE_TARGET": target, "REST_SUITE_OUT": str(out),
           # the same on both targets: traces are written while the test's server is up (the
           # asynchronous queue retried against a stopped server for minutes at teardown), and
           # a refused connection is not retried for minutes
           "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
           "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
           "PYTHONPATH": os.pathsep.join([str(here.parent.parent), str(here.parent), str(checkout)])}
    cmd = [sys.executable, "-m", "pytest", "-p", "rest_suite", "-p", "no:xdist", "-p", "no:cacheprovider",
           "-q", "--no-header", "-o", "addopts=", "-W", "ignore", *FILES, *extra]
    subprocess.run(cmd, cwd=checkout, env=env, stdout=subprocess.DEVNULL if not extra else None)
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="an mlflow checkout (its tests/ directory)")
    parser.add_argument("--target", choices=("both", "mlflow", "mlemu"), default="both")
    parser.add_argument("--json", type=Path, help="write both targets' outcomes here")
    args, extra = parser.parse_known_args(argv)
    targets = ("mlflow", "mlemu") if args.target == "both" else (args.target,)
    results = {t: run(t, args.checkout.resolve(), extra) for t in targets}
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True))
    for t, res in results.items():
        print(t, Counter(res.values()))
    if len(results) == 2:
        ref, emu = results["mlflow"], results["mlemu"]
        base = Counter(family(t) for t, o in ref.items() if o == "passed")
        ok = Counter(family(t) for t, o in ref.items() if o == "passed" and emu.get(t) == "passed")
        for fam in sorted(base):
            print(f"{fam:28} {ok[fam]:4} / {base[fam]:4}")
        inside = [f for f in base if not f.startswith("oss:")]
        num, den = sum(ok[f] for f in inside), sum(base[f] for f in inside)
        print(f"outside OSS-only families: {num} / {den} = {100 * num / max(den, 1):.1f} %")
        for t in sorted(ref):
            if ref[t] == "passed" and emu.get(t) != "passed":
                print(f"FAIL {family(t):22} {t}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
