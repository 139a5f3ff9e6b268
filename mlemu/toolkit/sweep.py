"""The coverage sweep: every public method of the real clients, called against a prepared
emulated workspace, and what mlemu did with it.

Each method runs in a fresh workspace (so a delete cannot spoil the next call) holding one
of everything: an experiment with a run (metric, param, tag, artifact), a logged model, a
Unity Catalog schema with a model version and alias, a table, a volume file, a DBFS file, a
workspace folder and a workspace-registry model in Production with a comment. Arguments are
picked by parameter name (:data:`VALUES`, then per-target and per-method overrides); what
the journal recorded decides the outcome:

* ``answered``     - every request was answered 2xx and the client returned;
* ``refused``      - mlemu answered with a Databricks error (4xx) the client raised;
* ``not emulated`` - a request reached an endpoint mlemu does not serve (ENDPOINT_NOT_FOUND);
* ``client-side``  - the client made no request (local helper, or it refused the call itself);
* ``broken``       - answered 2xx but the client failed on the answer, or mlemu failed (5xx).

Adding an SDK service to the sweep is one name in :data:`SDK_SERVICES` (plus values for its
own parameter names when the defaults do not fit). Needs mlflow and databricks-sdk.
"""
from __future__ import annotations

import inspect
import itertools
import os
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from mlemu.toolkit.emulation import emulate
from mlemu.workspace import Workspace

#: ``WorkspaceClient`` attributes the sweep walks; later services are added here.
SDK_SERVICES = ("experiments", "registered_models", "model_versions", "catalogs", "schemas", "tables",
                "files", "dbfs", "workspace", "current_user", "model_registry", "serving_endpoints",
                "permissions", "warehouses", "statement_execution", "quality_monitors", "jobs")

ANSWERED, REFUSED, NOT_EMULATED, CLIENT_SIDE, BROKEN = (
    "answered", "refused", "not emulated", "client-side", "broken")
OUTCOMES = (ANSWERED, REFUSED, NOT_EMULATED, CLIENT_SIDE, BROKEN)

CALL_TIMEOUT_S = 60

EXPERIMENT = "/Shared/sweep"
UC_MODEL = "main.sweep.model"
WS_MODEL = "ws_model"
VOLUME_FILE = "/Volumes/main/sweep/vol/f.txt"
DBFS_FILE = "/tmp/sweep/f.txt"
FOLDER = "/Shared/sweep-folder"
SERVED_MODEL = "main.sweep.served"
ENDPOINT = "sweep-ep"


@dataclass
class Prepared:
    """The ids of what :func:`prepare` put in the workspace."""

    experiment_id: str = ""
    run_id: str = ""
    run_artifact_uri: str = ""
    model_id: str = ""
    comment_id: str = ""
    endpoint_id: str = ""
    trace_id: str = ""
    warehouse_id: str = ""
    statement_id: str = ""
    refresh_id: int = 0
    job_id: int = 0
    job_run_id: int = 0
    task_run_id: int = 0
    tmp: str = ""


@dataclass(frozen=True)
class Target:
    """One client surface to sweep: ``label`` (``w.experiments``, ``MlflowClient``)."""

    label: str
    make: Callable[[], Any]
    registry_uri: str = "databricks-uc"
    include: Callable[[str], bool] = lambda name: True
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    target: str
    method: str
    outcome: str
    detail: str  # the requests made, or why the call did not reach mlemu


# -- argument values, by parameter name ------------------------------------------------------

def _values(p: Prepared) -> dict[str, Any]:
    import time

    now = int(time.time() * 1000)
    local_file = os.path.join(p.tmp, "local.txt")
    return {
        "experiment_id": p.experiment_id, "experiment_ids": [p.experiment_id],
        "run_id": p.run_id, "model_id": p.model_id, "key": "t", "value": "v", "tag_key": "t",
        "metric_key": "m", "timestamp": now, "min_timestamp_millis": 0,
        "max_timestamp_millis": now + 1, "status": "FINISHED", "name": UC_MODEL,
        "experiment_name": EXPERIMENT, "new_name": "sweep_renamed", "version": "1",
        "alias": "champion", "full_name": UC_MODEL, "version_num": 1, "catalog_name": "main",
        "schema_name": "sweep", "path": FOLDER, "file_path": VOLUME_FILE,
        "directory_path": "/Volumes/main/sweep/vol", "contents": _BytesFactory(),
        "content": "ZGF0YQ==", "src": f"dbfs:{DBFS_FILE}", "dst": "dbfs:/tmp/sweep/copy.txt",
        "source_path": DBFS_FILE, "destination_path": "/tmp/sweep/moved.txt",
        "destination": os.path.join(p.tmp, "download"), "data": "ZGF0YQ==", "handle": 1,
        "stage": "Production", "archive_existing_versions": False, "comment": "c",
        "creator": "user@company.com", "id": p.comment_id, "source": f"runs:/{p.run_id}/model",
        "local_path": local_file, "local_dir": p.tmp, "dst_path": os.path.join(p.tmp, "dst"),
        "artifact_file": "sweep.txt", "text": "hello", "dictionary": {"a": 1},
        "params": {"p2": "v"}, "tags": {"t2": "v"}, "models": [], "metrics": [],
        "src_model_uri": f"models:/{UC_MODEL}/1", "dst_name": "main.sweep.copied",
        "workspace_object_type": "directories", "workspace_object_id": "1",
        "registered_model_id": "1", "request_object_type": "experiments",
        "request_object_id": p.experiment_id, "update_mask": "description",
        "data_source_format": "DELTA", "table_type": "MANAGED", "storage_location": "s3://sweep",
        "url": "https://example.invalid/hook", "events": ["MODEL_VERSION_CREATED"],
        "webhook_id": "1", "trace_id": p.trace_id, "trace_ids": [p.trace_id], "dataset_id": "d-1",
        "locations": [p.experiment_id], "request_id": p.trace_id, "request_ids": [p.trace_id],
        "prompt_uri": "prompts:/main.sweep.prompt/1", "template": "Hi {{name}}",
        "name_or_uri": "prompts:/main.sweep.prompt/1", "uri": "prompts:/p/1",
        "server_name": "s", "endpoint_id": "e", "server_json": "{}",
        "serving_endpoint_id": p.endpoint_id,
        "warehouse_id": p.warehouse_id, "statement_id": p.statement_id, "statement": "SELECT 1",
        "chunk_index": 0, "table_name": "main.sweep.t", "output_schema_name": "main.sweep",
        "assets_dir": "/Workspace/Shared/sweep-monitor", "refresh_id": p.refresh_id,
    }


class _RunModelDir:
    """The prepared run's ``model`` artifact directory, as a ``dbfs:`` URI."""


RUN_MODEL_DIR = _RunModelDir()


class FromPrepared:
    """A value taken from :class:`Prepared` when the call is made (ids made by :func:`prepare`)."""

    def __init__(self, attr: str) -> None:
        self.attr = attr


class _BytesFactory:
    """A fresh readable body per use (upload methods consume it)."""


class Lazy:
    """A value made when the call is prepared (SDK enums need the SDK imported)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def _sdk_enum(module: str, name: str, member: str) -> Lazy:
    import importlib
    return Lazy(lambda: getattr(getattr(importlib.import_module(module), name), member))


def _resolve(value: Any) -> Any:
    import io

    if isinstance(value, Lazy):
        return value.make()
    return io.BytesIO(b"sweep bytes") if isinstance(value, _BytesFactory) else value


#: Method-specific arguments where the by-name value would not be valid.
OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("w.experiments", "create_experiment"): {"name": "/Shared/sweep-new"},
    ("w.experiments", "create_logged_model"): {"name": "lm"},
    ("w.experiments", "get_by_name"): {"experiment_name": EXPERIMENT},
    ("w.experiments", "log_metric"): {"key": "m2", "value": 1.0},
    ("w.experiments", "delete_runs"): {"max_timestamp_millis": 2 ** 62},
    ("w.experiments", "finalize_logged_model"): {
        "status": _sdk_enum("databricks.sdk.service.ml", "LoggedModelStatus", "LOGGED_MODEL_READY")},
    ("w.experiments", "update_run"): {
        "status": _sdk_enum("databricks.sdk.service.ml", "UpdateRunStatus", "FINISHED")},
    ("w.registered_models", "create"): {"name": "new_model", "catalog_name": "main",
                                        "schema_name": "sweep"},
    ("w.catalogs", "create"): {"name": "sweep_new"},
    ("w.catalogs", "get"): {"name": "main"}, ("w.catalogs", "update"): {"name": "main"},
    ("w.catalogs", "delete"): {"name": "main", "force": True},
    ("w.schemas", "create"): {"name": "sweep_new"},
    ("w.schemas", "get"): {"full_name": "main.sweep"}, ("w.schemas", "update"): {"full_name": "main.sweep"},
    ("w.schemas", "delete"): {"full_name": "main.sweep", "force": True},
    ("w.tables", "create"): {"name": "t_new"},
    ("w.tables", "get"): {"full_name": "main.sweep.t"}, ("w.tables", "exists"): {"full_name": "main.sweep.t"},
    ("w.tables", "delete"): {"full_name": "main.sweep.t"}, ("w.tables", "update"): {"full_name": "main.sweep.t"},
    ("w.files", "upload"): {"file_path": "/Volumes/main/sweep/vol/new.txt"},
    ("w.files", "upload_from"): {"file_path": "/Volumes/main/sweep/vol/new.txt"},
    ("w.files", "create_directory"): {"directory_path": "/Volumes/main/sweep/vol/d"},
    ("w.files", "download_to"): {"destination": "__tmpfile__"},
    ("w.files", "delete_directory"): {"directory_path": "/Volumes/main/sweep/vol/empty"},
    ("w.dbfs", "create"): {"path": "/tmp/sweep/new.txt"}, ("w.dbfs", "put"): {"path": "/tmp/sweep/put.txt"},
    ("w.dbfs", "mkdirs"): {"path": "/tmp/sweep/d"}, ("w.dbfs", "upload"): {"path": "/tmp/sweep/up.txt"},
    ("w.dbfs", "add_block"): {"data": "ZGF0YQ=="},
    ("w.dbfs", "upload"): {"src": _BytesFactory()},
    ("w.files", "upload_from"): {"file_path": "/Volumes/main/sweep/vol/new.txt", "source_path": "__local__"},
    ("w.workspace", "mkdirs"): {"path": "/Shared/sweep-new"},
    ("w.workspace", "upload"): {"path": "/Shared/sweep-nb", "content": _BytesFactory()},
    ("w.workspace", "import_"): {"path": "/Shared/sweep-nb"},
    ("w.workspace", "export"): {"path": FOLDER},
    ("w.model_registry", "create_model"): {"name": "ws_new"},
    ("w.model_registry", "approve_transition_request"): {"stage": "Staging"},
    ("w.model_registry", "reject_transition_request"): {"stage": "Staging"},
    ("w.model_registry", "delete_transition_request"): {"stage": "Staging"},
    ("w.model_registry", "rename_model"): {"new_name": "ws_renamed"},
    ("w.serving_endpoints", "create"): {"name": "sweep-new", "config": Lazy(lambda: _endpoint_config())},
    ("w.serving_endpoints", "create_and_wait"): {"name": "sweep-new", "config": Lazy(lambda: _endpoint_config())},
    ("w.serving_endpoints", "update_config"): {
        "served_entities": Lazy(lambda: _endpoint_config().served_entities)},
    ("w.serving_endpoints", "update_config_and_wait"): {
        "served_entities": Lazy(lambda: _endpoint_config().served_entities)},
    ("w.serving_endpoints", "query"): {"dataframe_records": [{"x": 1.0}]},
    ("w.warehouses", "create"): {"name": "sweep-new", "cluster_size": "2X-Small"},
    ("w.warehouses", "create_and_wait"): {"name": "sweep-new", "cluster_size": "2X-Small"},
    ("w.quality_monitors", "create"): {
        "table_name": "main.sweep.t2",
        "snapshot": Lazy(lambda: __import__("databricks.sdk.service.catalog", fromlist=["x"]).MonitorSnapshot())},
    ("w.jobs", "create"): {"tasks": Lazy(lambda: _job_tasks())},
    ("w.jobs", "submit"): {"tasks": Lazy(lambda: _job_tasks(submit=True))},
    ("w.jobs", "submit_and_wait"): {"tasks": Lazy(lambda: _job_tasks(submit=True))},
    ("w.jobs", "get_run_output"): {"run_id": FromPrepared("task_run_id")},
    ("w.jobs", "export_run"): {"run_id": FromPrepared("task_run_id")},
    ("w.jobs", "cancel_all_runs"): {"job_id": FromPrepared("job_id")},
    ("w.jobs", "repair_run"): {"rerun_tasks": ["c"]},
    ("w.jobs", "repair_run_and_wait"): {"rerun_tasks": ["c"]},
    ("MlflowClient", "create_experiment"): {"name": "/Shared/sweep-new"},
    ("MlflowClient", "get_experiment_by_name"): {"name": EXPERIMENT},
    ("MlflowClient", "create_registered_model"): {"name": "main.sweep.new_model"},
    ("MlflowClient", "rename_registered_model"): {"new_name": "main.sweep.renamed"},
    ("MlflowClient", "rename_experiment"): {"new_name": "/Shared/sweep-renamed"},
    ("MlflowClient", "log_metric"): {"key": "m2", "value": 1.0},
    ("MlflowClient", "log_param"): {"key": "p2"},
    ("MlflowClient", "download_artifacts"): {"path": "a.txt"},
    ("MlflowClient", "finalize_logged_model"): {"status": "READY"},
    ("MlflowClient", "set_model_version_tag"): {"version": "1", "key": "t", "value": "v"},
    ("MlflowClient", "delete_model_version_tag"): {"version": "1", "key": "t"},
    ("MlflowClient[databricks registry]", "create_registered_model"): {"name": "ws_new"},
    ("MlflowClient[databricks registry]", "rename_registered_model"): {"new_name": "ws_renamed"},
    ("MlflowClient[databricks registry]", "set_model_version_tag"): {"version": "1", "key": "t",
                                                                      "value": "v"},
    ("MlflowClient[databricks registry]", "delete_model_version_tag"): {"version": "1", "key": "t"},
    ("MlflowClient[databricks registry]", "copy_model_version"): {
        "src_model_uri": f"models:/{WS_MODEL}/1", "dst_name": "ws_copy"},
}

#: Optional parameters passed whenever a method has them (the SDK makes most ids optional).
ALWAYS_PASSED = frozenset({"experiment_id", "run_id", "model_id", "timestamp", "locations"})


#: Methods not called: local helpers, or tracing calls that start background exporters.
SKIP: dict[str, str] = {
    "parse_prompt_uri": "local helper", "get_workspace_store_uri": "local helper",
    "start_trace": "tracing (background export)", "start_span": "tracing (background export)",
    "end_trace": "tracing (background export)", "end_span": "tracing (background export)",
    "log_figure": "needs matplotlib", "log_image": "needs an image library",
    "open": "returns a local handle", "close": "needs an open DBFS handle",
    "wait_get_warehouse_stopped": "waits for a state the prepared (running) warehouse is not in",
}

_REGISTRY_METHODS = ("registered_model", "model_version", "latest_versions", "copy_model")

#: Values of one SDK service's own parameter names, where they differ from :func:`_values`.
SDK_SERVICE_VALUES: dict[str, dict[str, Any]] = {
    "model_registry": {"name": WS_MODEL},
    "files": {"path": VOLUME_FILE},
    "dbfs": {"path": DBFS_FILE},
    "serving_endpoints": {"name": ENDPOINT, "served_model_name": "served-1"},
    "warehouses": {"id": FromPrepared("warehouse_id"), "name": "sweep-warehouse"},
    "jobs": {"job_id": FromPrepared("job_id"), "run_id": FromPrepared("job_run_id"), "name": "sweep-job",
             "new_settings": Lazy(lambda: _job_settings())},
}


def _job_settings() -> Any:
    from databricks.sdk.service.jobs import JobSettings
    return JobSettings(name="sweep-reset", tasks=_job_tasks())


def _job_tasks(submit: bool = False) -> list[Any]:
    """One condition task: a job that runs without client code."""
    from databricks.sdk.service import jobs
    kind = jobs.SubmitTask if submit else jobs.Task
    return [kind(task_key="c", condition_task=jobs.ConditionTask(op=jobs.ConditionTaskOp.EQUAL_TO, left="1", right="1"))]


def _endpoint_config() -> Any:
    from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput
    return EndpointCoreConfigInput(name="sweep-new", served_entities=[
        ServedEntityInput(entity_name=SERVED_MODEL, entity_version="1", workload_size="Small",
                          scale_to_zero_enabled=True)])


_served_model_dir: list[str] = []
_served_model_files: list[tempfile.TemporaryDirectory] = []


def _served_model() -> str:
    """A tiny pyfunc model saved once per process (the sweep serves it)."""
    if not _served_model_dir:
        import mlflow
        import pandas as pd
        from mlflow.models import infer_signature

        class Echo(mlflow.pyfunc.PythonModel):  # pickled by value: loads without mlemu
            def predict(self, context: Any, model_input: Any, params: Any = None) -> list[float]:
                return [float(x) for x in model_input["x"]]

        directory = tempfile.TemporaryDirectory(prefix="mlemu-sweep-model-")  # removed at exit
        _served_model_files.append(directory)
        path = os.path.join(directory.name, "model")
        mlflow.pyfunc.save_model(path, python_model=Echo(), pip_requirements=["mlflow"],
                                 signature=infer_signature(pd.DataFrame({"x": [1.0]}), [1.0]))
        _served_model_dir.append(path)
    return _served_model_dir[0]


def targets() -> list[Target]:
    """What the sweep walks: each SDK service of :data:`SDK_SERVICES` and ``MlflowClient``
    (Unity Catalog registry), plus ``MlflowClient``'s registry methods on the workspace registry."""
    def sdk(name: str) -> Callable[[], Any]:
        def make() -> Any:
            from databricks.sdk import WorkspaceClient
            return getattr(WorkspaceClient(), name)
        return make

    def mlflow_client() -> Any:
        from mlflow import MlflowClient
        return MlflowClient()

    out = [Target(f"w.{s}", sdk(s), values=SDK_SERVICE_VALUES.get(s, {})) for s in SDK_SERVICES]
    out.append(Target("MlflowClient", mlflow_client))
    out.append(Target("MlflowClient[databricks registry]", mlflow_client, registry_uri="databricks",
                      include=lambda n: any(k in n for k in _REGISTRY_METHODS),
                      values={"name": WS_MODEL, "source": RUN_MODEL_DIR, "model_id": None}))
    return out


# -- preparing a workspace ------------------------------------------------------------------

def prepare(ws: Workspace, tmp: str) -> Prepared:
    """One of everything, made through the state and the real clients."""
    from databricks.sdk import WorkspaceClient
    from mlflow import MlflowClient

    p = Prepared(tmp=tmp)
    with open(os.path.join(tmp, "local.txt"), "w") as fh:
        fh.write("local")
    client = MlflowClient()
    p.experiment_id = client.create_experiment(EXPERIMENT)
    run = client.create_run(p.experiment_id)
    p.run_id = run.info.run_id
    p.run_artifact_uri = run.info.artifact_uri
    client.log_metric(p.run_id, "m", 1.0)
    client.log_param(p.run_id, "p", "v")
    client.set_tag(p.run_id, "t", "v")
    client.log_text(p.run_id, "artifact", "a.txt")
    client.log_text(p.run_id, "flavors: {}\n", "model/MLmodel")
    w = WorkspaceClient()
    p.model_id = w.experiments.create_logged_model(p.experiment_id, name="lm").model.info.model_id
    mlmodel = (b"flavors: {}\nsignature:\n  inputs: '[{\"type\": \"double\", \"name\": \"x\"}]'\n"
               b"  outputs: '[{\"type\": \"long\"}]'\n")
    ws.unity_catalog.ensure_schema("main.sweep")
    ws.registry.register_files(UC_MODEL, {"MLmodel": mlmodel}, aliases=["champion"])
    import pandas as pd
    ws.unity_catalog.put_table("main.sweep.t", pd.DataFrame({"a": [1]}))
    ws.storage.write("files", VOLUME_FILE, b"volume file")
    ws.storage.mkdirs("files", "/Volumes/main/sweep/vol/empty")
    ws.storage.write("dbfs", DBFS_FILE, b"dbfs file")
    w.workspace.mkdirs(FOLDER)
    reg = ws.workspace_registry
    reg.register_files(WS_MODEL, {"MLmodel": b"flavors: {}\n"}, stage="Production")
    reg.request_transition(WS_MODEL, 1, "Staging", "please")
    p.comment_id = reg.create_comment(WS_MODEL, 1, "first").id
    ws.registry.register_local_model(SERVED_MODEL, _served_model())
    p.endpoint_id = ws.serving.seed_endpoint(ENDPOINT, SERVED_MODEL).id
    from mlemu.server.services.tracing.state import Trace
    trace = ws.tracing.start_trace_v3(Trace("tr-" + ws.ids.hex(32), p.experiment_id, ws.clock.now_ms(),
                                            1, "OK", {"mlflow.sourceRun": p.run_id}))
    ws.storage.write(*ws.tracing.data_location(trace), b'{"spans": []}')
    p.trace_id = trace.trace_id
    for prompt in (UC_MODEL, "main.sweep.prompt"):  # "name" is the UC model's name for prompts too
        ws.prompts.create(prompt)
        ws.prompts.create_version(prompt, '"Hi {{name}}"')
        ws.prompts.set_alias(prompt, "champion", 1)
    _prepare_sql_and_monitor(ws, w, p)
    p.job_id = w.jobs.create(name="sweep-job", tasks=_job_tasks()).job_id
    run = w.jobs.run_now(p.job_id).result()
    p.job_run_id, p.task_run_id = run.run_id, run.tasks[0].run_id
    ws.calls.clear()
    return p


def _prepare_sql_and_monitor(ws: Workspace, w: Any, p: Prepared) -> None:
    """The starter warehouse, one finished statement, a second table and a refreshed monitor.
    Statements need mlemu[sql] and refreshes numpy/scipy: without them the ids stay empty and
    the sweep records those calls as refused."""
    import pandas as pd
    from databricks.sdk.service.catalog import MonitorSnapshot

    p.warehouse_id = next(iter(w.warehouses.list())).id
    ws.unity_catalog.put_table("main.sweep.t2", pd.DataFrame({"a": [1]}))
    try:
        p.statement_id = w.statement_execution.execute_statement(
            warehouse_id=p.warehouse_id, statement="SELECT 1").statement_id
    except Exception:  # noqa: BLE001 - no SQL engine installed
        pass
    w.quality_monitors.create("main.sweep.t", output_schema_name="main.sweep",
                              assets_dir="/Workspace/Shared/sweep-monitor", snapshot=MonitorSnapshot())
    refreshes = w.quality_monitors.list_refreshes("main.sweep.t").refreshes or []
    p.refresh_id = refreshes[0].refresh_id if refreshes else 0


# -- running ---------------------------------------------------------------------------------

def public_methods(obj: Any) -> list[str]:
    return sorted(n for n, f in inspect.getmembers(type(obj), inspect.isfunction)
                  if not n.startswith("_"))


def run(selected: list[Target] | None = None) -> list[Result]:
    """Sweep every target. Each method meets the same freshly prepared workspace, entered
    afresh (so the clients' caches start empty): it is prepared once per target and put back
    from a snapshot before each call (ids, clock and files included), which answers as a new
    workspace would at a fraction of the cost."""
    results: list[Result] = []
    for target in selected or targets():
        with emulate(registry_uri=target.registry_uri):
            names = [n for n in public_methods(target.make()) if target.include(n)]
        ws = Workspace(seed=7)
        prepared: Prepared | None = None
        snap = None
        with tempfile.TemporaryDirectory(prefix="mlemu-sweep-") as tmp:
            for name in names:
                if name in SKIP:
                    results.append(Result(target.label, name, CLIENT_SIDE, f"not called: {SKIP[name]}"))
                    continue
                if snap is not None:
                    ws.restore(snap)
                    ws.calls.clear()
                with emulate(ws, registry_uri=target.registry_uri):
                    if prepared is None:
                        prepared = prepare(ws, tmp)
                        snap = ws.snapshot()
                    results.append(_sweep_one(ws, target, name, prepared))
    return results


def _sweep_one(ws: Workspace, target: Target, method: str, p: Prepared) -> Result:
    obj = target.make()
    fn = getattr(obj, method)
    kwargs = _arguments(target, method, fn, p)
    error = _call_with_timeout(fn, kwargs)
    calls = list(ws.calls)
    internal = bool(ws.internal_errors)
    ws.internal_errors.clear()  # reported as "broken", not raised by the fixture
    return Result(target.label, method, *_classify(error, calls, internal))


def _arguments(target: Target, method: str, fn: Callable[..., Any], p: Prepared) -> dict[str, Any]:
    values = {**_values(p), **target.values, **OVERRIDES.get((target.label, method), {})}
    kwargs: dict[str, Any] = {}
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        required = param.default is inspect.Parameter.empty
        if param.name in OVERRIDES.get((target.label, method), {}) or required or \
                param.name in ALWAYS_PASSED:
            value = values.get(param.name, "sweep")
            if value == "__tmpfile__":
                value = os.path.join(p.tmp, "downloaded.bin")
            elif isinstance(value, _RunModelDir):
                value = f"{p.run_artifact_uri}/model"
            elif isinstance(value, FromPrepared):
                value = getattr(p, value.attr)
            elif value == "__local__":
                value = os.path.join(p.tmp, "local.txt")
            if value is not None or required:
                kwargs[param.name] = _resolve(value if value is not None else values.get(param.name))
    return kwargs


def _call_with_timeout(fn: Callable[..., Any], kwargs: dict[str, Any]) -> BaseException | None:
    box: list[BaseException | None] = [None]

    def call() -> None:
        try:
            _consume(fn(**kwargs))
        except BaseException as e:  # noqa: BLE001 - every failure is a sweep result
            box[0] = e

    t = threading.Thread(target=call, daemon=True)
    t.start()
    t.join(CALL_TIMEOUT_S)
    if t.is_alive():
        return TimeoutError(f"no answer within {CALL_TIMEOUT_S} s")
    return box[0]


def _consume(result: Any) -> None:
    """Lists are lazy iterators and downloads are streams: pull a little of each."""
    from databricks.sdk.service._internal import Wait

    if isinstance(result, Wait):  # a long-running operation's first answer: nothing to pull
        return
    if isinstance(result, Iterator) or inspect.isgenerator(result):
        list(itertools.islice(result, 3))
        return
    contents = getattr(result, "contents", None)
    if contents is not None and hasattr(contents, "read"):
        contents.read()
    elif hasattr(result, "read") and callable(result.read):
        result.read()


def _classify(error: BaseException | None, calls: list[Any], internal: bool) -> tuple[str, str]:
    requests = ", ".join(f"{c.method} {_short(c.path)} → {c.status}" for c in calls[:4])
    requests += " …" if len(calls) > 4 else ""
    if any(c.operation == "unknown" and c.status == 404 for c in calls) or \
            any(_is_endpoint_not_found(c) for c in calls):
        return NOT_EMULATED, requests
    if internal or any(c.status >= 500 for c in calls):
        return BROKEN, requests
    if not calls:
        return CLIENT_SIDE, f"no request ({type(error).__name__})" if error else "no request"
    if error is None:
        return ANSWERED, requests
    if calls[-1].status >= 400:
        return REFUSED, f"{requests} {_error_code(calls[-1], with_message=True)}".strip()
    if type(error).__name__ in _CLIENT_REFUSALS:  # the client's own rule, after reading state
        return CLIENT_SIDE, f"{requests}; client refused: {str(error)[:100]}"
    return BROKEN, f"{requests}; client raised {type(error).__name__}: {str(error)[:80]}"


#: Exceptions a client raises by its own rules (not from parsing an answer).
_CLIENT_REFUSALS = frozenset({"MlflowException", "NotImplementedError"})


def _is_endpoint_not_found(call: Any) -> bool:
    return call.status == 404 and _error_code(call) == "ENDPOINT_NOT_FOUND"


def _error_code(call: Any, with_message: bool = False) -> str:
    body = call.response
    if not isinstance(body, dict):
        return ""
    code = body.get("error_code", "")
    return f"{code}: {str(body.get('message', ''))[:100]}" if with_message else code


def _short(path: str) -> str:
    if path.startswith("/presigned/"):
        return "/presigned/<signed token>"  # the signature covers the expiry time: not stable
    return path if len(path) <= 70 else path[:67] + "..."
