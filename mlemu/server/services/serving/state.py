"""Model serving endpoints of one workspace: their configs, the update state machine,
traffic routing, invocations and what they record (inference tables, health metrics).

The state machine, as Databricks moves it:

* ``create`` and ``update_config`` put the new config in ``pending_config`` with
  ``state.config_update = IN_PROGRESS`` (a new endpoint is also ``ready = NOT_READY``);
* the update settles on a later ``GET``: by default the next one (so the SDK's
  ``create_and_wait`` returns without sleeping); ``update_polls`` GETs answer
  ``IN_PROGRESS`` first. Settling promotes ``pending_config`` to ``config`` with
  ``config_version`` + 1, entities ``DEPLOYMENT_READY``, ``ready = READY``. Settling loads
  each new entity's model, as the serving container would: one that cannot be loaded fails
  the update like :meth:`fail_next_update` does, with the load error as its message;
* :meth:`fail_next_update` makes the next update end ``UPDATE_FAILED`` with the new served
  entities ``DEPLOYMENT_FAILED`` (and the message) in ``pending_config``; the previous config
  keeps serving, as on Databricks, and a new ``update_config`` (the rollback) is accepted;
* another config update while one is ``IN_PROGRESS`` is refused (409 ``RESOURCE_CONFLICT``).

Invocations pick a served entity by the traffic routes with a per-endpoint PRNG seeded from
the endpoint's (seeded) id, so the same test routes the same requests the same way.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlemu.server.core.errors import ApiError, invalid, not_found
from mlemu.server.services.serving import inference_tables, predictor
from mlemu.server.services.serving.config import (
    CREATING, FAILED, READY, AutoCapture, EndpointConfig, ServedEntity, check_endpoint_name,
    check_entity_names, check_routes, default_entity_name)
from mlemu.server.services.unity_catalog import names

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

NOT_UPDATING = "NOT_UPDATING"
IN_PROGRESS = "IN_PROGRESS"
UPDATE_FAILED = "UPDATE_FAILED"


@dataclass
class Endpoint:
    name: str
    id: str
    creator: str
    creation_timestamp: int
    last_updated_timestamp: int
    config: EndpointConfig | None = None
    pending: EndpointConfig | None = None
    config_update: str = IN_PROGRESS
    polls_left: int = 0
    failure: str | None = None                 # message for the pending update, if it must fail
    tags: dict[str, str] = field(default_factory=dict)
    ai_gateway: dict[str, Any] | None = None
    rate_limits: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)   # description, route_optimized... as sent
    samples: list[tuple[str | None, int, int]] = field(default_factory=list)  # entity, status, ms
    router: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def ready(self) -> str:
        return "READY" if self.config is not None else "NOT_READY"

    @property
    def gateway_table(self) -> str | None:
        itc = (self.ai_gateway or {}).get("inference_table_config") or {}
        if not itc.get("enabled"):
            return None
        prefix = itc.get("table_name_prefix") or self.name
        return f"{itc['catalog_name']}.{itc['schema_name']}.{prefix}_payload"


@dataclass(frozen=True)
class ServedVersion:
    """What serving needs of a registered model version, from either registry."""

    id: str
    name: str
    status: str
    namespace: str     # storage namespace of its files ("files" for UC, "dbfs" for the workspace registry)
    files_path: str


#: Models loaded ahead of a GET: digest -> the model, or the exception loading raised.
Loaded = dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """An invocation's HTTP answer."""

    status: int
    body: bytes
    served_entity: str | None


class Serving:
    """Serving endpoints (``/api/2.0/serving-endpoints``) and their invocations."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._endpoints: dict[str, Endpoint] = {}
        self._digests: dict[str, str] = {}       # model version id -> digest of its files
        #: GETs that still answer IN_PROGRESS before an update settles (0: the next GET settles).
        self.update_polls = 0

    # == endpoints ==========================================================================
    def create(self, name: str, config: dict[str, Any] | None, *, tags: list[dict[str, Any]] | None = None,
               ai_gateway: dict[str, Any] | None = None, rate_limits: list[dict[str, Any]] | None = None,
               **extra: Any) -> Endpoint:
        check_endpoint_name(name)
        if name in self._endpoints:
            raise ApiError("RESOURCE_ALREADY_EXISTS", f"Endpoint with name '{name}' already exists.", 409)
        now = self._ws.clock.now_ms()
        new_config = self._build_config(name, config or {}, version=1, previous=None)
        if ai_gateway:
            self._check_gateway(ai_gateway)
        endpoint = Endpoint(name, self._ws.ids.hex(32), self._ws.user.user_name, now, now,
                            tags=_tag_map(tags), ai_gateway=_gateway(ai_gateway),
                            rate_limits=list(rate_limits or []),
                            extra={k: v for k, v in extra.items() if v is not None})
        endpoint.router = random.Random(endpoint.id)
        self._start_update(endpoint, new_config)
        if endpoint.gateway_table:
            self._ensure_table(endpoint.gateway_table, "gateway")
        self._endpoints[name] = endpoint
        return endpoint

    def get(self, name: str, *, poll: bool = True, loaded: "Loaded | None" = None) -> Endpoint:
        """The endpoint; a GET (``poll``) moves an update in progress along. ``loaded``: models
        :meth:`preload` loaded for this GET outside the workspace lock."""
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            raise not_found(f"Endpoint with name '{name}' does not exist.")
        if poll and endpoint.config_update == IN_PROGRESS:
            self._ws.note_change()
            if endpoint.polls_left > 0:
                endpoint.polls_left -= 1
            else:
                self.settle(name, loaded)
        return endpoint

    def preload(self, name: str) -> "Loaded":
        """Load, WITHOUT holding the workspace lock, the models the next GET of ``name`` would
        deploy: loading takes seconds for real models and other requests must not wait for it.

        Only the file reads take the lock. Returns model digest -> the model or the exception
        loading raised (a deployment failure, reported by :meth:`settle`)."""
        wanted: list[tuple[str, dict[str, bytes]]] = []
        with self._ws.lock:
            endpoint = self._endpoints.get(name)
            if (endpoint is None or endpoint.config_update != IN_PROGRESS or endpoint.polls_left > 0
                    or endpoint.failure is not None or endpoint.pending is None):
                return {}
            for e in endpoint.pending.entities:
                if e.deployment != READY and e.is_local_model:
                    try:
                        version = self._served_version(e.entity_name or "", e.entity_version or "")
                        files = predictor.model_files(self._ws.storage, version.files_path, version.namespace)
                    except Exception:  # settle reports it, under the lock, as before
                        continue
                    wanted.append((version.id, files))
        loaded: Loaded = {}
        for version_id, files in wanted:
            key = predictor.digest(files)
            try:
                loaded[key] = predictor.load(key, lambda files=files: files)  # type: ignore[misc]
            except Exception as e:  # noqa: BLE001 - any load error fails the deployment
                loaded[key] = e
            with self._ws.lock:
                self._digests.setdefault(version_id, key)
        return loaded

    def list(self) -> list[Endpoint]:
        return [self._endpoints[k] for k in sorted(self._endpoints)]

    def delete(self, name: str) -> None:
        self.get(name, poll=False)
        del self._endpoints[name]

    def update_config(self, name: str, body: dict[str, Any]) -> Endpoint:
        endpoint = self.get(name, poll=False)
        if endpoint.config_update == IN_PROGRESS:
            raise ApiError("RESOURCE_CONFLICT", f"Endpoint {name} is currently updating. Wait for the "
                           "update to complete before updating its configuration.", 409)
        current = endpoint.config
        version = (current.version if current else 0) + 1
        new_config = self._build_config(name, body, version=version, previous=current)
        self._start_update(endpoint, new_config)
        endpoint.last_updated_timestamp = self._ws.clock.now_ms()
        return endpoint

    def patch_tags(self, name: str, add: list[dict[str, Any]] | None, delete: list[str] | None) -> Endpoint:
        endpoint = self.get(name, poll=False)
        added = _tag_map(add)
        for key in delete or []:
            endpoint.tags.pop(key, None)
        endpoint.tags.update(added)
        return endpoint

    def put_ai_gateway(self, name: str, gateway: dict[str, Any]) -> Endpoint:
        endpoint = self.get(name, poll=False)
        self._check_gateway(gateway)
        endpoint.ai_gateway = _gateway(gateway)
        if endpoint.gateway_table:
            self._ensure_table(endpoint.gateway_table, "gateway")
        return endpoint

    def put_rate_limits(self, name: str, rate_limits: list[dict[str, Any]]) -> Endpoint:
        endpoint = self.get(name, poll=False)
        endpoint.rate_limits = list(rate_limits)
        return endpoint

    def entity(self, name: str, entity_name: str) -> ServedEntity:
        endpoint = self.get(name, poll=False)
        for cfg in (endpoint.config, endpoint.pending):
            found = cfg.entity(entity_name) if cfg else None
            if found is not None:
                return found
        raise not_found(f"Served model '{entity_name}' does not exist in endpoint '{name}'.")

    # == fixture helpers (no HTTP) ==========================================================
    def seed_endpoint(self, name: str, model: str, version: object = None, *,
                      inference_table: str | None = None, **create_kwargs: Any) -> Endpoint:
        """Create a READY endpoint serving ``model`` (a UC name; ``version`` defaults to the
        latest READY one), through the same rules as ``create``. ``inference_table``
        ("catalog.schema") turns on an AI Gateway inference table there."""
        with self._ws.lock:
            if version is None:
                ready = [v for v in self._ws.registry.list_versions(model) if v.status == "READY"]
                if not ready:
                    raise not_found(f"Registered model '{model}' has no READY version to serve.")
                version = max(v.version for v in ready)
            config = {"served_entities": [{"entity_name": model, "entity_version": str(version),
                                           "workload_size": "Small", "scale_to_zero_enabled": True}]}
            if inference_table:
                catalog, schema = names.schema_name(inference_table)
                create_kwargs.setdefault("ai_gateway", {"inference_table_config": {
                    "catalog_name": catalog, "schema_name": schema, "enabled": True}})
            self.create(name, config, **create_kwargs)
            return self.settle(name)

    def inference_table(self, name: str) -> Any:
        """The rows of an endpoint's inference table as a pandas frame (AI Gateway table
        if one is configured, else the legacy ``auto_capture_config`` one)."""
        with self._ws.lock:
            endpoint = self.get(name, poll=False)
            capture = endpoint.config.auto_capture if endpoint.config else None
            table = endpoint.gateway_table or (capture.table_name if capture else None)
            if table is None:
                raise invalid(f"Endpoint '{name}' has no inference table.")
            return self._ws.unity_catalog.read_table(table)

    # == the update state machine ===========================================================
    def settle(self, name: str, loaded: "Loaded | None" = None) -> Endpoint:
        """Finish the update in progress now (or fail it, after :meth:`fail_next_update`).
        Models in ``loaded`` (see :meth:`preload`) are not loaded again."""
        endpoint = self.get(name, poll=False)
        pending = endpoint.pending
        if endpoint.config_update != IN_PROGRESS or pending is None:
            return endpoint
        previous = {e.name for e in endpoint.config.entities} if endpoint.config else set()
        if endpoint.failure is None:  # deploying = loading each new model, as the container does
            for e in pending.entities:
                if e.deployment != READY and e.is_local_model:
                    endpoint.failure = self._load_problem(e, loaded)
                    if endpoint.failure is not None:
                        break
        if endpoint.failure is not None:
            for e in pending.entities:
                if e.name not in previous or e.deployment != READY:
                    e.deployment, e.deployment_state_message = FAILED, endpoint.failure
            endpoint.config_update, endpoint.failure = UPDATE_FAILED, None
            return endpoint
        for e in pending.entities:
            e.deployment, e.deployment_state_message = READY, ""
        if pending.auto_capture is not None and pending.auto_capture.enabled:
            self._ensure_table(pending.auto_capture.table_name, "legacy")
        endpoint.config, endpoint.pending = pending, None
        endpoint.config_update = NOT_UPDATING
        return endpoint

    def fail_next_update(self, name: str, message: str = "Model deployment failed: the container "
                         "exited while loading the model.") -> None:
        """Make the endpoint's next (or current) config update end in ``UPDATE_FAILED``."""
        self.get(name, poll=False).failure = message

    def _start_update(self, endpoint: Endpoint, new_config: EndpointConfig) -> None:
        endpoint.pending = new_config
        endpoint.config_update = IN_PROGRESS
        endpoint.polls_left = self.update_polls

    # == invocations ========================================================================
    def route(self, name: str, entity_name: str | None = None) -> tuple[Endpoint, ServedEntity]:
        """The entity that answers a request (by traffic percentages unless named)."""
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            raise not_found("The given endpoint does not exist, please retry after checking the "
                            "specified model and version deployment exists.")
        config = endpoint.config
        if config is None:
            raise ApiError("INVALID_STATE", f"Endpoint '{name}' is not ready to serve requests: its "
                           "first configuration is still being deployed (state.ready is NOT_READY).", 400)
        if entity_name is not None:
            entity = config.entity(entity_name)
            if entity is None:
                raise not_found(f"Served model '{entity_name}' does not exist in endpoint '{name}'.")
            return endpoint, entity
        draw = endpoint.router.random() * 100
        cumulative = 0
        live = [(n, p) for n, p in config.routes if p > 0]
        for entity_name_, pct in live:
            cumulative += pct
            if draw < cumulative:
                return endpoint, config.entity(entity_name_)  # type: ignore[return-value]
        return endpoint, config.entity(live[-1][0])  # type: ignore[return-value]

    def invoke(self, name: str, body: bytes, content_type: str, entity_name: str | None = None) -> Answer:
        """Answer one invocation (what the model server would) and record it.

        Routing and recording run under the workspace lock; the model runs outside it, so
        concurrent requests over the loopback server score in parallel."""
        ws = self._ws
        with ws.lock:
            started = ws.clock.now_ms()
            request_id = ws.ids.uuid()
            endpoint = self._endpoints.get(name)
            try:
                endpoint, entity = self.route(name, entity_name)
            except ApiError as e:
                if endpoint is None:
                    raise
                answer = Answer(e.status, json.dumps(e.to_wire()).encode(), None)
                self.record(endpoint, None, request_id=request_id, client_request_id=None,
                            started_ms=started, execution_ms=0, answer=answer, request=body)
                raise
            _check_payload(entity, body)
            client_request_id, model_body = _split_client_request_id(body)
            key = self._model_key(entity) if entity.is_local_model else None
        if key is not None:
            try:
                model = predictor.load(key, lambda: self._model_files(entity))
            except Exception as e:  # loaded at deployment; only a changed environment gets here
                answer = Answer(400, _error("BAD_REQUEST", f"The model of '{entity.name}' could not "
                                            f"be loaded: {type(e).__name__}: {e}"), entity.name)
            else:
                result = predictor.predict(model, model_body, content_type)
                answer = Answer(result.status, result.body, entity.name)
        else:
            answer = self._invoke_plugin(endpoint, entity, model_body)
        with ws.lock:
            self.record(endpoint, entity, request_id=request_id, client_request_id=client_request_id,
                        started_ms=started, execution_ms=max(0, ws.clock.now_ms() - started),
                        answer=answer, request=body)
        if ws.hooks is not None:
            ws.hooks.mlemu_model_predicted(workspace=ws, endpoint_name=name, entity_name=entity.name,
                                           status=answer.status)
        return answer

    def _served_version(self, entity_name: str, version: str) -> ServedVersion:
        """A registered model version: Unity Catalog (``catalog.schema.model``) or the
        workspace model registry (a flat name)."""
        if entity_name.count(".") == 2:
            mv = self._ws.registry.get_version(entity_name, version)
            return ServedVersion(mv.id, mv.full_name, mv.status, "files", mv.files_path)
        if "." in entity_name:
            raise invalid(f"Invalid entity name '{entity_name}': name a Unity Catalog model "
                          "(catalog.schema.model) or a workspace model registry model.")
        wmv = self._ws.workspace_registry.get_version(entity_name, version)
        return ServedVersion(wmv.id, wmv.name, wmv.status, "dbfs", wmv.files_path)

    def _model_key(self, entity: ServedEntity) -> str:
        version = self._served_version(entity.entity_name or "", entity.entity_version or "")
        key = self._digests.get(version.id)
        if key is None:
            key = self._digests[version.id] = predictor.digest(self._model_files(entity))
        return key

    def _model_files(self, entity: ServedEntity) -> dict[str, bytes]:
        with self._ws.lock:
            version = self._served_version(entity.entity_name or "", entity.entity_version or "")
            return predictor.model_files(self._ws.storage, version.files_path, version.namespace)

    def _load(self, entity: ServedEntity) -> Any:
        return predictor.load(self._model_key(entity), lambda: self._model_files(entity))

    def _load_problem(self, entity: ServedEntity, loaded: "Loaded | None" = None) -> str | None:
        """Why the entity's model cannot be loaded (a deployment failure), or None."""
        try:
            key = self._model_key(entity)
            done = (loaded or {}).get(key)
            if isinstance(done, Exception):
                raise done
            if done is None:
                self._load(entity)
        except Exception as e:  # any load error fails the deployment, as the container would
            message = e.message if isinstance(e, ApiError) else f"{type(e).__name__}: {e}"
            return (f"Failed to load the model of served entity '{entity.name}' "
                    f"({entity.entity_name} version {entity.entity_version}): {message}")
        if self._ws.hooks is not None:
            self._ws.hooks.mlemu_model_loaded(workspace=self._ws, endpoint_name=self._endpoint_of(entity),
                                              entity_name=entity.entity_name,
                                              entity_version=entity.entity_version)
        return None

    def _endpoint_of(self, entity: ServedEntity) -> str | None:
        for endpoint in self._endpoints.values():
            for config in (endpoint.config, endpoint.pending):
                if config is not None and any(e is entity for e in config.entities):
                    return endpoint.name
        return None

    def _invoke_plugin(self, endpoint: Endpoint, entity: ServedEntity, body: bytes) -> Answer:
        """Entities mlemu cannot load (external and foundation models) are answered by a
        plugin's ``mlemu_serving_invoke`` hook, or refused as not emulated."""
        hooks = getattr(self._ws, "hooks", None)
        try:
            request = json.loads(body) if body.strip() else {}
        except ValueError as e:
            return Answer(400, _error("BAD_REQUEST", f"Invalid JSON in the request body: {e}"), entity.name)
        result = None
        if hooks is not None:
            result = hooks.mlemu_serving_invoke(
                workspace=self._ws, endpoint_name=endpoint.name,
                entity={"name": entity.name, "entity_name": entity.entity_name,
                        "entity_version": entity.entity_version, "external_model": entity.external_model},
                request=request)
        if result is None:
            return Answer(501, _error("NOT_IMPLEMENTED", f"mlemu cannot run served entity '{entity.name}' "
                                      f"({entity.entity_name or 'external model'}): only registered model "
                                      "versions run locally. Register a plugin implementing "
                                      "mlemu_serving_invoke (e.g. plugins/mlemu_llm_stub)."), entity.name)
        return Answer(200, json.dumps(result).encode(), entity.name)

    def record(self, endpoint: Endpoint, entity: ServedEntity | None, *, request_id: str,
               client_request_id: str | None, started_ms: int, execution_ms: int, answer: Answer,
               request: bytes) -> None:
        """What one invocation leaves behind: a metrics sample and inference-table rows."""
        status, response = answer.status, answer.body
        endpoint.samples.append((entity.name if entity else None, status, execution_ms))
        model_name = entity.entity_name if entity else None
        inv = inference_tables.Invocation(
            request_id, client_request_id, started_ms, execution_ms, status, request, response,
            endpoint.name, entity.name if entity else None, model_name,
            entity.entity_version if entity else None,
            f"{endpoint.id}:{entity.name}" if entity else None, self._ws.user.user_name)
        config = endpoint.config
        if config is not None and config.auto_capture is not None and config.auto_capture.enabled:
            self._append(config.auto_capture.table_name, "legacy", inv)
        if endpoint.gateway_table:
            self._append(endpoint.gateway_table, "gateway", inv)

    def _append(self, table_name: str, kind: str, inv: inference_tables.Invocation) -> None:
        uc = self._ws.unity_catalog
        if not uc.table_exists(table_name):  # dropped by the user: Databricks stops logging too
            return
        uc.get_table(table_name).append_rows([inference_tables.row(kind, inv)])

    # == config building (validate everything before anything changes) =====================
    def _build_config(self, endpoint_name: str, body: dict[str, Any], *, version: int,
                      previous: EndpointConfig | None) -> EndpointConfig:
        entities_in = body.get("served_entities")
        models_in = body.get("served_models")
        if entities_in and models_in:
            raise invalid("Specify either served_entities or served_models, not both.")
        now, user = self._ws.clock.now_ms(), self._ws.user.user_name
        reused = {e.name: e for e in previous.entities} if previous else {}
        entities = [self._entity(raw, legacy=bool(models_in), now=now, user=user, reused=reused)
                    for raw in (entities_in or models_in or [])]
        check_entity_names(entities)
        raw_routes = ((body.get("traffic_config") or {}).get("routes")) or None
        routes = check_routes(
            [(r.get("served_model_name") or r.get("served_entity_name") or "", r.get("traffic_percentage"))
             for r in raw_routes] if raw_routes else None, entities)
        capture = self._auto_capture(endpoint_name, body.get("auto_capture_config"), previous)
        return EndpointConfig(version, entities, routes, now, capture)

    def _entity(self, raw: dict[str, Any], *, legacy: bool, now: int, user: str,
                reused: dict[str, ServedEntity]) -> ServedEntity:
        name_key, version_key = ("model_name", "model_version") if legacy else ("entity_name", "entity_version")
        entity_name, version = raw.get(name_key), raw.get(version_key)
        external = raw.get("external_model")
        if external is None:
            if not entity_name:
                raise invalid(f"Missing value for required parameter '{name_key}'.")
            if not str(entity_name).startswith("system.ai."):
                if not version:
                    raise invalid(f"Missing value for required parameter '{version_key}' of served "
                                  f"entity '{entity_name}'.")
                self._check_version(str(entity_name), str(version))
        name = raw.get("name") or default_entity_name(entity_name, None if version is None else str(version),
                                                       external)
        settings = {k: v for k, v in raw.items()
                    if k not in (name_key, version_key, "name", "external_model") and v is not None}
        same = reused.get(name)
        unchanged = (same is not None and same.entity_name == entity_name
                     and same.entity_version == (None if version is None else str(version))
                     and same.deployment == READY)
        return ServedEntity(name, entity_name, None if version is None else str(version),
                            same.creator if unchanged else user,
                            same.creation_timestamp if unchanged else now, settings,
                            _without_secrets(external), legacy, READY if unchanged else CREATING)

    def _check_version(self, entity_name: str, version: str) -> None:
        mv = self._served_version(entity_name, version)
        if mv.status != "READY":
            raise invalid(f"Model version {version} of '{mv.name}' is not ready to be served: its "
                          f"status is {mv.status}.")

    def _auto_capture(self, endpoint_name: str, raw: dict[str, Any] | None,
                      previous: EndpointConfig | None) -> AutoCapture | None:
        if raw is None:
            return previous.auto_capture if previous else None
        if previous is not None and previous.auto_capture is not None:
            old = previous.auto_capture
            if (raw.get("catalog_name", old.catalog_name), raw.get("schema_name", old.schema_name),
                    raw.get("table_name_prefix", old.table_name_prefix)) != (
                    old.catalog_name, old.schema_name, old.table_name_prefix):
                raise invalid("The inference table of an endpoint cannot be changed once it is set; "
                              "only 'enabled' can be updated.")
            return AutoCapture(old.catalog_name, old.schema_name, old.table_name_prefix,
                               bool(raw.get("enabled", old.enabled)))
        catalog, schema = raw.get("catalog_name"), raw.get("schema_name")
        if not catalog or not schema:
            raise invalid("auto_capture_config needs catalog_name and schema_name.")
        self._ws.unity_catalog.require_writable_schema(catalog, schema, "tables")
        prefix = raw.get("table_name_prefix") or endpoint_name
        capture = AutoCapture(names.identifier(catalog, "catalog"), names.identifier(schema, "schema"),
                              names.identifier(prefix, "table"), bool(raw.get("enabled", True)))
        return capture

    def _check_gateway(self, gateway: dict[str, Any]) -> None:
        itc = gateway.get("inference_table_config") or {}
        if itc.get("enabled"):
            if not itc.get("catalog_name") or not itc.get("schema_name"):
                raise invalid("inference_table_config needs catalog_name and schema_name when enabled.")
            self._ws.unity_catalog.require_writable_schema(itc["catalog_name"], itc["schema_name"], "tables")

    def _ensure_table(self, full_name: str, kind: str) -> None:
        uc = self._ws.unity_catalog
        if uc.table_exists(full_name):
            return
        uc.put_table(full_name, inference_tables.empty_frame(kind), columns=inference_tables.columns(kind),
                     comment="Inference table of a model serving endpoint (mlemu)")


def _check_payload(entity: ServedEntity, body: bytes) -> None:
    """Databricks' documented per-request payload limit: 16 MB, 4 MB for foundation and
    external models; a bigger request is refused before it reaches the model (413)."""
    limit = predictor.MAX_PAYLOAD_BYTES if entity.is_local_model else predictor.MAX_PAYLOAD_BYTES_EXTERNAL
    if len(body) > limit:
        raise ApiError("BAD_REQUEST", f"The request payload of {len(body)} bytes exceeds the Model Serving "
                       f"limit of {limit} bytes ({limit // (1024 * 1024)} MB) for served entity "
                       f"'{entity.name}'.", 413)


def _split_client_request_id(body: bytes) -> tuple[str | None, bytes]:
    """Databricks takes ``client_request_id`` out of the body before the model sees it."""
    if b"client_request_id" not in body:
        return None, body
    try:
        doc = json.loads(body)
    except ValueError:
        return None, body
    if not isinstance(doc, dict) or "client_request_id" not in doc:
        return None, body
    value = doc.pop("client_request_id")
    return (None if value is None else str(value)), json.dumps(doc).encode()


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error_code": code, "message": message}).encode()


def _tag_map(tags: list[dict[str, Any]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in tags or []:
        key = t.get("key")
        if not key:
            raise invalid("Missing value for required parameter 'key' of a tag.")
        out[str(key)] = "" if t.get("value") is None else str(t.get("value"))
    return out


def _gateway(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    return {k: v for k, v in raw.items() if v is not None}


def _without_secrets(external: dict[str, Any] | None) -> dict[str, Any] | None:
    """External-model API keys are stored as secrets and never returned (``*_plaintext``)."""
    if external is None:
        return None
    return json.loads(json.dumps(external), object_hook=lambda d: {
        k: v for k, v in d.items() if not k.endswith("_plaintext")})
