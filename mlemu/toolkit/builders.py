"""Builders: one-line set-up of a workspace's entities for tests, in the shape of
databrickslabs/pytester's ``make_*`` fixtures, and declarative seeding from a YAML or JSON
file. Each builder returns what the real client returns (an ``mlflow.entities.Experiment``,
a ``databricks.sdk`` ``CatalogInfo``...), and every name it makes up is unique within the
workspace. There is nothing to clean up: each test's workspace is its own.

Builders go through the real clients where an API exists (so the journal shows the calls and
the state is exactly what a client would have made), and through the workspace's state where
Databricks has no client call for the set-up (a table's rows, a READY model version).
They need an active emulation (the ``mlemu`` fixture or ``mlemu.emulate()``).

Seeding file (``seed(path_or_dict)``)::

    catalogs:
      - name: main
        schemas: [{name: default}]
    tables:
      - name: main.default.customers
        rows: [{id: 1, city: Paris}]
        primary_keys: [id]
    experiments:
      - name: /Shared/churn
        runs:
          - name: baseline
            params: {lr: 0.1}
            metrics: {rmse: 0.5}
            tags: {team: ml}
            artifacts: {notes.txt: "hello"}
    models:
      - name: main.default.churn     # versions of the built-in tiny model
        versions: 2
        aliases: {champion: 2}
    endpoints:
      - name: churn
        model: main.default.churn
        version: 2
"""
from __future__ import annotations

import itertools
import json
import os
import tempfile
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from mlemu.workspace import Workspace


class Builders:
    """The ``make_*`` factories of one workspace (the fixtures hand out its methods)."""

    def __init__(self, ws: "Workspace") -> None:
        self.ws = ws
        self._counter = itertools.count(1)

    def _unique(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter)}"

    @staticmethod
    def _mlflow() -> Any:
        from mlflow.tracking import MlflowClient
        return MlflowClient(tracking_uri="databricks", registry_uri="databricks-uc")

    @staticmethod
    def _sdk() -> Any:
        from databricks.sdk import WorkspaceClient
        return WorkspaceClient()

    # -- tracking ----------------------------------------------------------------------------
    def make_experiment(self, name: str | None = None, *, tags: Mapping[str, str] | None = None,
                        artifact_location: str | None = None) -> Any:
        """An experiment (default name ``/Shared/mlemu-experiment-N``); mlflow's ``Experiment``."""
        client = self._mlflow()
        name = name or f"/Shared/mlemu-{self._unique('experiment-')}"
        parent = name.rsplit("/", 1)[0]
        if parent and not self.ws.workspace_files.exists(parent):  # set-up, not the code under test
            self.ws.workspace_files.mkdirs(parent)
        experiment_id = client.create_experiment(name, artifact_location=artifact_location,
                                                 tags=dict(tags or {}))
        return client.get_experiment(experiment_id)

    def make_run(self, experiment: Any = None, *, name: str | None = None,
                 params: Mapping[str, Any] | None = None,
                 metrics: Mapping[str, float | list[float]] | None = None,
                 tags: Mapping[str, str] | None = None,
                 artifacts: Mapping[str, str | bytes] | None = None,
                 status: str = "FINISHED") -> Any:
        """A run with ``params``, ``metrics`` (a value, or a list: one point per step) and
        ``artifacts`` (``{"path/in/run.txt": text or bytes}``), ended with ``status`` (``None``
        leaves it RUNNING). ``experiment`` is an ``Experiment``, an id, or None (a new one).
        Returns mlflow's ``Run`` as ``get_run`` answers it."""
        from mlflow.entities import Metric, Param, RunTag

        client = self._mlflow()
        if experiment is None:
            experiment = self.make_experiment()
        experiment_id = getattr(experiment, "experiment_id", experiment)
        run = client.create_run(str(experiment_id), run_name=name, tags=dict(tags or {}))
        run_id = run.info.run_id
        now = self.ws.clock.now_ms()
        points = []
        for key, value in (metrics or {}).items():
            values = value if isinstance(value, (list, tuple)) else [value]
            points += [Metric(key, float(v), now, step) for step, v in enumerate(values)]
        client.log_batch(run_id, metrics=points,
                         params=[Param(k, str(v)) for k, v in (params or {}).items()],
                         tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()])
        for path, content in (artifacts or {}).items():
            with tempfile.TemporaryDirectory(prefix="mlemu-artifact-") as tmp:
                local = os.path.join(tmp, os.path.basename(path))
                with open(local, "wb") as fh:
                    fh.write(content.encode() if isinstance(content, str) else content)
                folder = os.path.dirname(path) or None
                client.log_artifact(run_id, local, artifact_path=folder)
        if status is not None:
            client.set_terminated(run_id, status=status)
        return client.get_run(run_id)

    # -- Unity Catalog -------------------------------------------------------------------------
    def make_catalog(self, name: str | None = None, **options: Any) -> Any:
        """A catalog (the SDK's ``CatalogInfo``); ``options`` go to ``w.catalogs.create``."""
        return self._sdk().catalogs.create(name=name or self._unique("mlemu_catalog_"), **options)

    def make_schema(self, catalog: Any = None, name: str | None = None, **options: Any) -> Any:
        """A schema in ``catalog`` (a ``CatalogInfo``, a name, or None: a new catalog)."""
        if catalog is None:
            catalog = self.make_catalog()
        catalog_name = getattr(catalog, "name", catalog)
        return self._sdk().schemas.create(name=name or self._unique("mlemu_schema_"),
                                          catalog_name=catalog_name, **options)

    def make_table(self, full_name: str | None = None, rows: Any = None, *,
                   primary_keys: list[str] | None = None, timestamp_key: str | None = None) -> Any:
        """A Delta table with ``rows`` (a pandas DataFrame or a list of dicts; default: one
        ``id`` column), its schema created when missing; the SDK's ``TableInfo``."""
        import pandas as pd

        if full_name is None:
            schema = self.make_schema()
            full_name = f"{schema.full_name}.{self._unique('mlemu_table_')}"
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows if rows is not None
                                                                        else [{"id": 1}])
        uc = self.ws.unity_catalog
        with self.ws.lock:
            uc.ensure_schema(full_name.rsplit(".", 1)[0])
            uc.put_table(full_name, frame)
            if primary_keys:
                uc.set_primary_key(full_name, list(primary_keys) + ([timestamp_key] if timestamp_key else []),
                                   timeseries=[timestamp_key] if timestamp_key else None)
        return self._sdk().tables.get(full_name)

    # -- models and serving ----------------------------------------------------------------------
    def make_registered_model(self, name: str | None = None, *, model: Any = None, versions: int = 1,
                              aliases: Mapping[str, int] | None = None,
                              tags: Mapping[str, str] | None = None,
                              input_example: Any = None) -> Any:
        """A Unity Catalog registered model with ``versions`` READY versions of ``model`` (a
        fitted scikit-learn estimator, a ``PythonModel``, a saved model directory; default:
        :class:`mlemu.toolkit.tiny_model.TinyModel`), ``aliases`` (``{"champion": 2}``) and ``tags``.
        Returns mlflow's ``RegisteredModel`` (``databricks-uc``)."""
        if name is None:
            name = f"main.default.{self._unique('mlemu_model_')}"
        if model is None:
            from mlemu.toolkit.tiny_model import TinyModel, example_input
            model = TinyModel()
            input_example = example_input() if input_example is None else input_example
        for _ in range(versions):
            self.ws.registry.seed_model_version(name, model, input_example=input_example)
        client = self._mlflow()
        for key, value in (tags or {}).items():
            client.set_registered_model_tag(name, key, value)
        for alias, version in (aliases or {}).items():
            client.set_registered_model_alias(name, alias, str(version))
        return client.get_registered_model(name)

    def make_serving_endpoint(self, name: str | None = None, model: Any = None, version: Any = None,
                              **entity: Any) -> Any:
        """A READY serving endpoint serving ``version`` (default: the latest) of ``model`` (a
        name or ``RegisteredModel``; default: a new tiny model), through the SDK's
        ``create_and_wait``. Returns its ``ServingEndpointDetailed``."""
        from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput

        if model is None:
            model = self.make_registered_model()
        model_name = getattr(model, "name", model)
        if version is None:
            version = max(int(v.version) for v in self._mlflow().search_model_versions(f"name='{model_name}'"))
        name = name or self._unique("mlemu-endpoint-")
        entity.setdefault("workload_size", "Small")
        entity.setdefault("scale_to_zero_enabled", True)
        served = ServedEntityInput(entity_name=model_name, entity_version=str(version), **entity)
        return self._sdk().serving_endpoints.create_and_wait(
            name=name, config=EndpointCoreConfigInput(name=name, served_entities=[served]))

    # -- declarative seeding ---------------------------------------------------------------------
    def seed(self, spec: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, list[Any]]:
        """Create what a YAML/JSON file (or a dict) describes (see the module docstring), in the
        order catalogs, tables, experiments, models, endpoints. Returns the entities made, by kind."""
        if not isinstance(spec, Mapping):
            spec = load_spec(spec)
        unknown = sorted(set(spec) - {"catalogs", "tables", "experiments", "models", "endpoints"})
        if unknown:
            raise ValueError(f"unknown sections in the seed file: {unknown}")
        made: dict[str, list[Any]] = {k: [] for k in ("catalogs", "schemas", "tables", "experiments",
                                                      "runs", "models", "endpoints")}
        w = self._sdk()

        def exists(get: Any, name: str) -> bool:
            try:
                get(name)
                return True
            except Exception:  # RESOURCE_DOES_NOT_EXIST
                return False

        uc = self.ws.unity_catalog
        for cat in spec.get("catalogs", []):  # ones that exist (``main``) are used as they are
            made["catalogs"].append(w.catalogs.get(cat["name"]) if exists(uc.get_catalog, cat["name"])
                                    else self.make_catalog(cat["name"], **_without(cat, "name", "schemas")))
            for sch in cat.get("schemas", []):
                full = f"{cat['name']}.{sch['name']}"
                made["schemas"].append(w.schemas.get(full) if exists(uc.get_schema, full)
                                       else self.make_schema(cat["name"], sch["name"], **_without(sch, "name")))
        for tbl in spec.get("tables", []):
            made["tables"].append(self.make_table(tbl["name"], tbl.get("rows"),
                                                  primary_keys=tbl.get("primary_keys"),
                                                  timestamp_key=tbl.get("timestamp_key")))
        for exp in spec.get("experiments", []):
            experiment = self.make_experiment(exp["name"], tags=exp.get("tags"))
            made["experiments"].append(experiment)
            for run in exp.get("runs", []):
                made["runs"].append(self.make_run(experiment, **_without(run, "experiment")))
        for mod in spec.get("models", []):
            made["models"].append(self.make_registered_model(
                mod["name"], model=mod.get("path"), versions=int(mod.get("versions", 1)),
                aliases=mod.get("aliases"), tags=mod.get("tags")))
        for ep in spec.get("endpoints", []):
            made["endpoints"].append(self.make_serving_endpoint(ep.get("name"), ep["model"], ep.get("version")))
        hooks = getattr(self.ws, "hooks", None)
        if hooks is not None:
            hooks.mlemu_workspace_seeded(workspace=self.ws, spec=dict(spec), entities=made)
        return made


def _without(d: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}


def load_spec(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A seeding file: JSON (``.json``) or YAML (anything else)."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if os.fspath(path).endswith(".json"):
        data = json.loads(text)
    else:
        import yaml
        data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a seed file holds a mapping of sections")
    return data
