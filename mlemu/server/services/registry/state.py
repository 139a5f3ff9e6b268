"""The Unity Catalog model registry: registered models, model versions, aliases, tags.

One state behind two surfaces: mlflow's ``/api/2.0/mlflow/unity-catalog/*`` and the SDK's
``/api/2.1/unity-catalog/models*`` (``w.registered_models`` / ``w.model_versions``).

Databricks rules kept here:

* names are three-level and validated by :mod:`mlemu.server.services.unity_catalog.names`; the
  catalog and the schema must exist (RESOURCE_DOES_NOT_EXIST) and models count as schema
  contents (a schema holding models is not empty; ``force`` deletes them);
* a version number increments per model and is never reused, even after deletion;
* a version is created ``PENDING_REGISTRATION``; its files are uploaded under
  ``/Models/<catalog>/<schema>/<model>/<version>/`` (Files API namespace ``files``) and
  ``finalize`` makes it ``READY`` only if an ``MLmodel`` with a signature (inputs and
  outputs) is there. Otherwise the version becomes ``FAILED_REGISTRATION`` (number
  consumed), its files are removed, and finalize answers INVALID_PARAMETER_VALUE;
* an alias names one version; setting it elsewhere moves it; deleting a version deletes
  its aliases and its files (``models:/c.s.m/N`` then fails, as on Databricks);
* tags follow the UC tag limits (key <= 255, value <= 1000 characters, no ``. , - = / :``
  in keys, no leading/trailing spaces, at most 50 per securable).

Choices where Databricks' exact behaviour is not observable from the clients [emu]:
``source`` is recorded, not resolved (the files arrive through the upload); aliases are
lower-cased like every UC identifier; READ_WRITE temporary credentials are only issued
for a PENDING_REGISTRATION version.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from mlemu.server.core.errors import ApiError, already_exists, invalid, not_found
from mlemu.server.services.jobs import deployment
from mlemu.server.services.registry import mlmodel, s3_storage, search
from mlemu.server.services.unity_catalog import names
from mlemu.server.services.unity_catalog.names import FullName
from mlemu.server.services.unity_catalog.state import Audit

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState
    from mlemu.server.services.unity_catalog.state import UnityCatalog

PENDING = "PENDING_REGISTRATION"
FAILED = "FAILED_REGISTRATION"
READY = "READY"

MAX_TAGS = 50
MAX_TAG_KEY = 255
MAX_TAG_VALUE = 1000
MAX_COMMENT = 65536
MAX_ALIAS = 255
_TAG_KEY_FORBIDDEN = frozenset(".,-=/:")
_ALIAS_RE = re.compile(r"^[\w\-]+$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")

MODELS_ROOT = "/Models"
TEMP_CREDENTIAL_TTL_MS = 3600 * 1000


@dataclass(repr=False)
class RegisteredModel:
    catalog: str
    schema: str
    name: str
    id: str
    owner: str
    audit: Audit
    storage_location: str
    description: str = ""
    deployment_job_id: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)   # alias -> version number
    versions: dict[int, "ModelVersion"] = field(default_factory=dict)
    last_version: int = 0                                    # never decreases

    @property
    def full_name(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.name}"

    def __repr__(self) -> str:
        return (f"<RegisteredModel {self.full_name} versions={sorted(self.versions)} "
                f"aliases={dict(self.sorted_aliases())}>")

    def sorted_aliases(self) -> list[tuple[str, int]]:
        return sorted(self.aliases.items())


@dataclass(repr=False)
class ModelVersion:
    model: RegisteredModel
    version: int
    id: str
    source: str
    status: str
    audit: Audit
    storage_location: str
    run_id: str = ""
    run_experiment_id: str = ""
    run_tracking_server_id: str = ""
    model_id: str = ""
    description: str = ""
    status_message: str = ""
    feature_deps: str = ""
    dependencies: list[dict[str, Any]] = field(default_factory=list)
    lineage: Any = None              # decoded x-databricks-lineage-identifier, if sent
    tags: dict[str, str] = field(default_factory=dict)
    deployment_job_id: str = ""      # the model's deployment job when this version was made READY
    deployment_run_id: int = 0       # the run it started (0: none could start)

    @property
    def full_name(self) -> str:
        return self.model.full_name

    def __repr__(self) -> str:
        return f"<ModelVersion {self.full_name} version={self.version} status={self.status}>"

    @property
    def aliases(self) -> list[str]:
        return sorted(a for a, v in self.model.aliases.items() if v == self.version)

    @property
    def files_path(self) -> str:
        m = self.model
        return f"{MODELS_ROOT}/{m.catalog}/{m.schema}/{m.name}/{self.version}"


class Registry:
    """Registered models of the workspace's metastore (a :class:`SchemaContents` provider)."""

    kind = "registered model(s)"

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._models: dict[tuple[str, str, str], RegisteredModel] = {}
        #: Answer of ``is-databricks-sdk-models-artifact-repository-enabled``. True: mlflow
        #: moves files through the Files API; False: through temporary credentials and
        #: DEFAULT_STORAGE presigned URLs (``fs/create-upload-url``).
        self.sdk_models_artifact_repository_enabled = True
        #: Set by :meth:`use_s3_storage`: model files also on S3 (mlflow < 2.13's route).
        self.s3: s3_storage.S3ModelStorage | None = None
        self.uc.register_contents(self)

    @property
    def uc(self) -> "UnityCatalog":
        return self._ws.unity_catalog

    # == registered models ==================================================================
    def get_model(self, full_name: str) -> RegisteredModel:
        fn = self._schema_checked(full_name)
        model = self._models.get(tuple(fn))
        if model is None:
            raise not_found(f"Routine or Model '{fn}' does not exist.")
        return model

    def has_model(self, full_name: str) -> bool:
        return tuple(names.three_level(full_name)) in self._models

    def create_model(self, full_name: str, *, description: str | None = None,
                     tags: Iterable[tuple[str, str]] | dict[str, str] | None = None,
                     deployment_job_id: str | None = None) -> RegisteredModel:
        fn = names.three_level(full_name)
        self.uc.require_writable_schema(fn.catalog, fn.schema, "registered models")
        if tuple(fn) in self._models:
            raise already_exists(f"Registered model '{fn}' already exists.")
        tag_map = _tag_map(tags)
        _check_tags({}, tag_map)
        _check_comment(description)
        model_id = self._ws.ids.uuid()
        model = RegisteredModel(fn.catalog, fn.schema, fn.name, model_id, self._ws.user.user_name, Audit.new(self._ws),
                                f"{self.uc.storage_root}/models/{model_id}",
                                description=description or "", tags=tag_map,
                                deployment_job_id=deployment_job_id or "")
        self._models[tuple(fn)] = model
        return model

    def update_model(self, full_name: str, *, description: str | None = None,
                     new_name: str | None = None, owner: str | None = None,
                     deployment_job_id: str | None = None) -> RegisteredModel:
        model = self.get_model(full_name)
        target = self._rename_target(model, new_name) if new_name else None
        _check_comment(description)
        if target is not None and tuple(target) != (model.catalog, model.schema, model.name):
            self._move_model(model, target)
        if description is not None:
            model.description = description
        if owner is not None:
            model.owner = owner
        if deployment_job_id is not None:
            model.deployment_job_id = deployment_job_id
        self._touch(model)
        return model

    def delete_model(self, full_name: str) -> None:
        """Delete the model with all its versions, aliases and files."""
        model = self.get_model(full_name)
        del self._models[(model.catalog, model.schema, model.name)]
        self._delete_files([model.catalog, model.schema, model.name])

    def list_models(self, catalog: str | None = None, schema: str | None = None) -> list[RegisteredModel]:
        """Models sorted by full name, all of them or those of one schema."""
        if catalog is not None or schema is not None:
            if not catalog or not schema:
                raise invalid("catalog_name and schema_name must be specified together.")
            s = self.uc.require_schema(catalog, schema)
            keys = [k for k in self._models if k[:2] == (s.catalog, s.name)]
        else:
            keys = list(self._models)
        return [self._models[k] for k in sorted(keys)]

    def set_model_tag(self, full_name: str, key: str, value: str | None) -> None:
        model = self.get_model(full_name)
        _check_tags(model.tags, {key: value or ""})
        model.tags[key] = value or ""
        self._touch(model)

    def delete_model_tag(self, full_name: str, key: str) -> None:
        model = self.get_model(full_name)
        if key not in model.tags:
            raise not_found(f"Tag '{key}' does not exist on registered model '{model.full_name}'.")
        del model.tags[key]
        self._touch(model)

    # == model versions =====================================================================
    def create_version(self, full_name: str, source: str, *, run_id: str | None = None,
                       run_tracking_server_id: str | None = None, description: str | None = None,
                       tags: Iterable[tuple[str, str]] | dict[str, str] | None = None,
                       model_id: str | None = None, feature_deps: str | None = None,
                       dependencies: list[dict[str, Any]] | None = None,
                       lineage: Any = None) -> ModelVersion:
        """A new PENDING_REGISTRATION version with the next number of the model."""
        model = self.get_model(full_name)
        if not source:
            raise invalid("Missing value for required parameter 'source'.")
        tag_map = _tag_map(tags)
        _check_tags({}, tag_map)
        _check_comment(description)
        number = model.last_version + 1
        version_id = self._ws.ids.uuid()
        mv = ModelVersion(model, number, version_id, source, PENDING, Audit.new(self._ws),
                          f"{model.storage_location}/versions/{version_id}",
                          run_id=run_id or "", run_tracking_server_id=run_tracking_server_id or "",
                          run_experiment_id=self._run_experiment(run_id, run_tracking_server_id),
                          model_id=model_id or "", description=description or "",
                          feature_deps=feature_deps or "", dependencies=list(dependencies or []),
                          lineage=lineage, tags=tag_map)
        model.last_version = number
        model.versions[number] = mv
        # A new version's directory starts empty: nothing left from a deleted model of the
        # same name may leak into it.
        self._delete_files([model.catalog, model.schema, model.name, str(number)])
        self._touch(model)
        return mv

    def finalize_version(self, full_name: str, version: object) -> ModelVersion:
        """PENDING_REGISTRATION -> READY once a signed MLmodel was uploaded; else FAILED."""
        mv = self.get_version(full_name, version)
        if mv.status == READY:
            return mv
        if mv.status == FAILED:
            raise invalid(f"Model version {mv.version} of '{mv.full_name}' failed registration "
                          f"and cannot be finalized: {mv.status_message}")
        if self.s3 is not None:
            self._pull_from_s3(mv)
        problem = self._files_problem(mv)
        if problem is not None:
            mv.status, mv.status_message = FAILED, problem
            mv.audit.touch(self._ws)
            self._delete_files(self._parts(mv))
            raise invalid(problem)
        mv.status, mv.status_message = READY, ""
        mv.audit.touch(self._ws)
        if mv.model.deployment_job_id:  # MLflow 3 deployment jobs: a new version runs the job
            mv.deployment_job_id = mv.model.deployment_job_id
            mv.deployment_run_id = deployment.start(self._ws, mv.deployment_job_id, mv.full_name, mv.version)
        return mv

    def get_version(self, full_name: str, version: object) -> ModelVersion:
        model = self.get_model(full_name)
        number = parse_version(version)
        mv = model.versions.get(number)
        if mv is None:
            raise not_found(f"Model version '{model.full_name}' version '{number}' does not exist.")
        return mv

    def update_version(self, full_name: str, version: object, *, description: str | None) -> ModelVersion:
        mv = self.get_version(full_name, version)
        _check_comment(description)
        if description is not None:
            mv.description = description
        mv.audit.touch(self._ws)
        return mv

    def delete_version(self, full_name: str, version: object) -> None:
        """Remove the version, the aliases naming it and its files; the number stays used."""
        mv = self.get_version(full_name, version)
        model = mv.model
        for alias in mv.aliases:
            del model.aliases[alias]
        del model.versions[mv.version]
        self._delete_files(self._parts(mv))
        self._touch(model)

    def list_versions(self, full_name: str) -> list[ModelVersion]:
        """Versions of one model, newest first."""
        model = self.get_model(full_name)
        return [model.versions[n] for n in sorted(model.versions, reverse=True)]

    def search_versions(self, filter_string: str | None) -> list[ModelVersion]:
        """Versions matching the UC filter grammar, by model name then newest first."""
        match = search.predicate(filter_string)
        out = []
        for key in sorted(self._models):
            model = self._models[key]
            out.extend(model.versions[n] for n in sorted(model.versions, reverse=True)
                       if match(model.versions[n]))
        return out

    def set_version_tag(self, full_name: str, version: object, key: str, value: str | None) -> None:
        mv = self.get_version(full_name, version)
        _check_tags(mv.tags, {key: value or ""})
        mv.tags[key] = value or ""
        mv.audit.touch(self._ws)

    def delete_version_tag(self, full_name: str, version: object, key: str) -> None:
        mv = self.get_version(full_name, version)
        if key not in mv.tags:
            raise not_found(f"Tag '{key}' does not exist on model version {mv.version} of "
                            f"'{mv.full_name}'.")
        del mv.tags[key]
        mv.audit.touch(self._ws)

    # == aliases ============================================================================
    def set_alias(self, full_name: str, alias: str, version: object) -> ModelVersion:
        """Point ``alias`` at ``version`` (taking it off any other version)."""
        model = self.get_model(full_name)
        name = check_alias(alias)
        mv = self.get_version(model.full_name, version)
        model.aliases[name] = mv.version
        self._touch(model)
        return mv

    def delete_alias(self, full_name: str, alias: str) -> None:
        model = self.get_model(full_name)
        name = (alias or "").lower()
        if name not in model.aliases:
            raise not_found(f"Alias '{alias}' does not exist for model '{model.full_name}'.")
        del model.aliases[name]
        self._touch(model)

    def get_version_by_alias(self, full_name: str, alias: str) -> ModelVersion:
        model = self.get_model(full_name)
        number = model.aliases.get((alias or "").lower())
        if number is None:
            raise not_found(f"Alias '{alias}' does not exist for model '{model.full_name}'.")
        return model.versions[number]

    # == artifacts, credentials, lineage ====================================================
    def temporary_credentials(self, full_name: str, version: object, operation: str) -> dict[str, Any]:
        """DEFAULT_STORAGE credentials: mlflow then moves files through presigned Files API
        URLs under the version's ``/Models/...`` directory."""
        mv = self.get_version(full_name, version)
        if operation == "MODEL_VERSION_OPERATION_READ_WRITE":
            if mv.status != PENDING:
                raise invalid(f"Model version {mv.version} of '{mv.full_name}' is in status "
                              f"{mv.status}; its files can only be written while it is "
                              f"{PENDING}.")
        elif operation != "MODEL_VERSION_OPERATION_READ":
            raise invalid(f"Invalid operation '{operation}': expected MODEL_VERSION_OPERATION_READ "
                          "or MODEL_VERSION_OPERATION_READ_WRITE.")
        expires = self._ws.clock.now_ms() + TEMP_CREDENTIAL_TTL_MS
        if self.s3 is None:
            return {"storage_mode": "DEFAULT_STORAGE", "expiration_time": expires}
        self.s3.ensure_bucket()
        if operation == "MODEL_VERSION_OPERATION_READ":
            self.s3.push(s3_storage.split(mv.storage_location)[1], self._version_files(mv))
        return {"aws_temp_credentials": dict(s3_storage.CREDENTIALS), "expiration_time": expires}

    # == S3 model storage (mlflow < 2.13) ===================================================
    def use_s3_storage(self) -> s3_storage.S3ModelStorage:
        """Issue AWS temporary credentials to the metastore's S3 bucket (moto's S3 server, see
        :mod:`mlemu.server.services.registry.s3_storage`) instead of default-storage ones."""
        if self.s3 is None:
            store = s3_storage.S3ModelStorage(s3_storage.split(self.uc.storage_root)[0])
            store.start()
            self.s3 = store
        return self.s3

    def stop_s3_storage(self) -> None:
        if self.s3 is not None:
            store, self.s3 = self.s3, None
            store.stop()

    def _version_files(self, mv: ModelVersion) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        for d in self._matching_dirs(self._parts(mv)):
            for info in self._ws.storage.walk_files("files", d):
                files[posixpath.relpath(info.path, d)] = self._ws.storage.read("files", info.path)
        return files

    def _pull_from_s3(self, mv: ModelVersion) -> None:
        """Copy what an S3 client uploaded for ``mv`` into the workspace's storage."""
        assert self.s3 is not None
        self.s3.ensure_bucket()
        for rel, data in self.s3.pull(s3_storage.split(mv.storage_location)[1]).items():
            self._ws.storage.write("files", posixpath.join(mv.files_path, rel), data)

    def emit_lineage(self, full_name: str, version: object) -> ModelVersion:
        """Best effort on Databricks; here it only checks the version exists."""
        return self.get_version(full_name, version)

    def download_uri(self, full_name: str, version: object) -> str:
        return self.get_version(full_name, version).storage_location

    def check_files_access(self, path: str, write: bool) -> None:
        """For the Files API: may ``path`` under ``/Models`` be read / written?

        Writes need an existing version in PENDING_REGISTRATION (finalized versions are
        immutable); reads need an existing model (and version, when the path names one).
        Paths outside ``/Models`` are not this service's business.
        """
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] != MODELS_ROOT.strip("/"):
            return
        rest = parts[1:]
        if len(rest) < 4:
            if write:
                raise ApiError("PERMISSION_DENIED",
                               f"Files can only be written inside a model version directory "
                               f"{MODELS_ROOT}/<catalog>/<schema>/<model>/<version>/: {path}", 403)
            return
        try:
            mv = self.get_version(".".join(rest[:3]), rest[3])
        except ApiError:
            raise ApiError("NOT_FOUND", f"The file being accessed is not found. path={path}", 404) from None
        if write and mv.status != PENDING:
            raise ApiError("PERMISSION_DENIED",
                           f"Model version {mv.version} of '{mv.full_name}' is {mv.status}; its "
                           "files are immutable.", 403)

    # == fixture helpers (no HTTP) ==========================================================
    def approve_deployment(self, full_name: str, version: object) -> Any:
        """The model version page's Approve button: tag the version for the deployment job's
        approval task and repair the job's run (:mod:`mlemu.server.services.jobs.deployment`)."""
        return deployment.approve(self._ws, full_name, version)

    def deployment_state(self, mv: "ModelVersion") -> dict[str, Any] | None:
        """The version's ``deployment_job_state`` (None when its model had no deployment job)."""
        return deployment.version_state(self._ws, mv.deployment_job_id, mv.deployment_run_id)

    def deployment_connection(self, model: RegisteredModel) -> str | None:
        """The model's ``deployment_job_state`` (None when it has no deployment job)."""
        return deployment.connection_state(self._ws, model.deployment_job_id) if model.deployment_job_id else None

    def register_files(self, full_name: str, files: dict[str, bytes], *, source: str | None = None,
                       run_id: str | None = None, description: str | None = None,
                       tags: dict[str, str] | None = None, aliases: Iterable[str] = (),
                       create_model: bool = True) -> ModelVersion:
        """Create a READY version from in-memory files (``{"MLmodel": b"...", ...}``).

        Goes through the same create -> upload -> finalize path as mlflow, so the same
        rules apply (signature required). The catalog and schema must exist; the model is
        created when missing unless ``create_model=False``.
        """
        with self._ws.lock:  # a loopback server may be answering requests meanwhile
            if create_model and not self.has_model(full_name):
                self.create_model(full_name)
            fn = names.three_level(full_name)
            mv = self.create_version(str(fn), source or f"mlemu://fixtures/{fn}", run_id=run_id,
                                     description=description, tags=tags)
            for rel, data in sorted(files.items()):
                self._ws.storage.write("files", posixpath.join(mv.files_path, rel.lstrip("/")), data)
            self.finalize_version(str(fn), mv.version)
            for alias in aliases:
                self.set_alias(str(fn), alias, mv.version)
            return mv

    def register_local_model(self, full_name: str, local_dir: str, **kwargs: Any) -> ModelVersion:
        """Create a READY version from a saved MLflow model directory (``mlflow.*.save_model``)."""
        import os

        files: dict[str, bytes] = {}
        for root, _, fnames in os.walk(local_dir):
            for f in fnames:
                full = os.path.join(root, f)
                with open(full, "rb") as fh:
                    files[os.path.relpath(full, local_dir).replace(os.sep, "/")] = fh.read()
        kwargs.setdefault("source", local_dir)
        return self.register_files(full_name, files, **kwargs)

    def seed_model_version(self, full_name: str, model: Any, **kwargs: Any) -> ModelVersion:
        """Register an in-memory model (sklearn estimator, ``PythonModel``) or a saved model
        directory as a READY version; see :func:`mlemu.server.services.registry.fixtures.seed_model_version`."""
        from mlemu.server.services.registry.fixtures import seed_model_version

        return seed_model_version(self._ws, full_name, model, **kwargs)

    # == SchemaContents =====================================================================
    def names_in_schema(self, catalog: str, schema: str) -> list[str]:
        return sorted(k[2] for k in self._models if k[:2] == (catalog, schema))

    def drop_schema(self, catalog: str, schema: str) -> None:
        for key in [k for k in self._models if k[:2] == (catalog, schema)]:
            del self._models[key]
        self._delete_files([catalog, schema])

    def rename_schema(self, old: tuple[str, str], new: tuple[str, str]) -> None:
        for key in sorted(k for k in self._models if k[:2] == old):
            model = self._models.pop(key)
            model.catalog, model.schema = new
            self._models[(*new, model.name)] = model
        self._move_files(list(old), list(new))

    # == helpers ============================================================================
    def _schema_checked(self, full_name: str) -> FullName:
        fn = names.three_level(full_name)
        self.uc.require_schema(fn.catalog, fn.schema)
        return fn

    def _rename_target(self, model: RegisteredModel, new_name: str) -> FullName:
        """``new_name`` may be the model name alone or a full name in the same schema."""
        if "." in new_name:
            target = names.three_level(new_name)
            if (target.catalog, target.schema) != (model.catalog, model.schema):
                raise invalid(f"Cannot rename registered model '{model.full_name}' to '{new_name}': "
                              "a model cannot be moved to another catalog or schema.")
        else:
            target = FullName(model.catalog, model.schema, names.identifier(new_name, "registered model"))
        if tuple(target) in self._models and tuple(target) != (model.catalog, model.schema, model.name):
            raise already_exists(f"Registered model '{target}' already exists.")
        return target

    def _move_model(self, model: RegisteredModel, target: FullName) -> None:
        old = [model.catalog, model.schema, model.name]
        del self._models[(model.catalog, model.schema, model.name)]
        model.name = target.name
        self._models[tuple(target)] = model
        self._move_files(old, list(target))

    def _run_experiment(self, run_id: str | None, server_id: str | None) -> str:
        """The source run's experiment, when the run lives in this workspace."""
        if not run_id or (server_id and server_id != self._ws.workspace_id):
            return ""
        try:
            return str(self._ws.tracking.get_run(run_id).info.experiment_id)
        except (ApiError, AttributeError):  # no such run, or no tracking service
            return ""

    def _files_problem(self, mv: ModelVersion) -> str | None:
        """Why the uploaded files cannot make a READY version (None: they can)."""
        data = None
        for d in self._matching_dirs(self._parts(mv)):
            st = self._ws.storage.stat("files", f"{d}/MLmodel")
            if st is not None and not st.is_dir:
                data = self._ws.storage.read("files", f"{d}/MLmodel")
                break
        if data is None:
            return (f"Unable to finalize model version {mv.version} of '{mv.full_name}': no MLmodel "
                    f"file was uploaded to {mv.files_path}/. Upload the model files before "
                    "finalizing the version.")
        return mlmodel.signature_problem(mlmodel.parse(data))

    @staticmethod
    def _parts(mv: ModelVersion) -> list[str]:
        m = mv.model
        return [m.catalog, m.schema, m.name, str(mv.version)]

    def _matching_dirs(self, parts: list[str]) -> list[str]:
        """Directories ``/Models/<parts...>`` whatever the case the client wrote them in
        (mlflow builds the path from the name the user typed; UC names are case-insensitive)."""
        storage = self._ws.storage
        paths = [MODELS_ROOT]
        for part in parts:
            nxt = []
            for p in paths:
                for e in storage.list("files", p) or []:
                    if e.is_dir and e.name.lower() == part.lower():
                        nxt.append(e.path)
            paths = sorted(nxt)
        return paths

    def _delete_files(self, parts: list[str]) -> None:
        for d in self._matching_dirs(parts):
            self._ws.storage.delete("files", d, recursive=True)

    def _move_files(self, old: list[str], new: list[str]) -> None:
        storage = self._ws.storage
        target = "/".join([MODELS_ROOT, *new])
        for d in self._matching_dirs(old):
            for f in storage.walk_files("files", d):
                storage.write("files", target + f.path[len(d):], storage.read("files", f.path))
            storage.delete("files", d, recursive=True)

    def _touch(self, model: RegisteredModel) -> None:
        model.audit.touch(self._ws)


# -- validation helpers ------------------------------------------------------------------

def parse_version(version: object) -> int:
    """A version number from the wire ("3" or 3); anything else is INVALID_PARAMETER_VALUE."""
    if isinstance(version, bool):
        raise invalid(f"Invalid model version '{version}': must be a positive integer.")
    if isinstance(version, int):
        number = version
    else:
        text = str(version if version is not None else "").strip()
        if not text:
            raise invalid("Missing value for required parameter 'version'.")
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
            raise invalid(f"Invalid model version '{version}': must be a positive integer.")
        number = int(text)
    if number < 1:
        raise invalid(f"Invalid model version '{version}': must be a positive integer.")
    return number


def check_alias(alias: str | None) -> str:
    """Validate an alias name and return it lower-cased (UC identifiers are case-insensitive)."""
    if not alias:
        raise invalid("Missing value for required parameter 'alias'.")
    if len(alias) > MAX_ALIAS:
        raise invalid(f"Invalid alias '{alias[:40]}...': at most {MAX_ALIAS} characters.")
    if not _ALIAS_RE.match(alias):
        raise invalid(f"Invalid alias '{alias}': names may only contain alphanumerics, "
                      "underscores (_), and dashes (-).")
    if alias.lower() == "latest":
        raise invalid("'latest' alias name (case insensitive) is reserved.")
    if _VERSION_ALIAS_RE.match(alias):
        raise invalid(f"Version alias name '{alias}' is reserved.")
    return alias.lower()


def _tag_map(tags: Iterable[tuple[str, str]] | dict[str, str] | None) -> dict[str, str]:
    if not tags:
        return {}
    pairs = tags.items() if isinstance(tags, dict) else tags
    return {k: ("" if v is None else str(v)) for k, v in pairs}


def _check_tags(existing: dict[str, str], new: dict[str, str]) -> None:
    for key, value in new.items():
        if not key:
            raise invalid("Missing value for required parameter 'key'.")
        if len(key) > MAX_TAG_KEY:
            raise invalid(f"Invalid tag key '{key[:40]}...': at most {MAX_TAG_KEY} characters.")
        if len(value) > MAX_TAG_VALUE:
            raise invalid(f"Invalid value for tag '{key}': at most {MAX_TAG_VALUE} characters "
                          f"(got {len(value)}).")
        bad = sorted({c for c in key if c in _TAG_KEY_FORBIDDEN})
        if bad:
            raise invalid(f"Invalid tag key '{key}': tag keys cannot contain "
                          f"{' '.join(bad)} (not allowed: . , - = / :).")
        if key != key.strip() or value != value.strip():
            raise invalid(f"Invalid tag '{key}': leading and trailing spaces are not allowed.")
    if len(set(existing) | set(new)) > MAX_TAGS:
        raise invalid(f"Too many tags: a securable can have at most {MAX_TAGS} tags.")


def _check_comment(comment: str | None) -> None:
    if comment is not None and len(comment) > MAX_COMMENT:
        raise invalid(f"Invalid comment: at most {MAX_COMMENT} characters (got {len(comment)}).")
