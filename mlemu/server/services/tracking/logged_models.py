"""Logged models (mlflow 3): the part of :class:`~.state.Tracking` that owns them.

A logged model belongs to an experiment and usually to a source run. Its ``artifact_uri`` is
chosen here: ``dbfs:/databricks/mlflow-tracking/<exp>/logged_models/<id>/artifacts`` for
experiments in the default location, ``<artifact_location>/models/<id>/artifacts`` for
custom ones. Metrics logged to a run with a ``model_id`` are attached to the model too.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from mlemu.server.core.errors import invalid, not_found
from mlemu.server.services.tracking import search as srch
from mlemu.server.services.tracking import validation as v
from mlemu.server.services.tracking.entities import (
    ACTIVE, DELETED, MODEL_STATUSES, LoggedModel, LoggedModelInfo, Metric,
)
from mlemu.server.services.tracking.names import generate_name
from mlemu.server.core.paging import Page

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState
    from mlemu.server.services.tracking.entities import Experiment

_STATUS_ALIASES = {"PENDING": "LOGGED_MODEL_PENDING", "READY": "LOGGED_MODEL_READY",
                   "FAILED": "LOGGED_MODEL_UPLOAD_FAILED", "UPLOAD_FAILED": "LOGGED_MODEL_UPLOAD_FAILED"}


class LoggedModels:
    """Mixin of :class:`~.state.Tracking`: logged-model state and rules."""

    _ws: "WorkspaceState"

    def __init__(self) -> None:
        self._models: dict[str, LoggedModel] = {}

    # -- provided by Tracking --------------------------------------------------------------
    def _active_experiment(self, experiment_id: str) -> "Experiment":  # pragma: no cover
        raise NotImplementedError

    # -- API -------------------------------------------------------------------------------
    def create_logged_model(self, experiment_id: str, name: str | None = None,
                            source_run_id: str | None = None, model_type: str | None = None,
                            params: v.Pairs | None = None,
                            tags: v.Pairs | None = None) -> LoggedModel:
        """A new LOGGED_MODEL_PENDING model in an active experiment (a name is generated if absent)."""
        exp = self._active_experiment(experiment_id)
        v.check_logged_model_name(name)
        param_pairs = [v.check_param(k, val, f"params[{i}]") for i, (k, val) in enumerate(v.as_pairs(params))]
        tag_pairs = [v.check_tag(k, val, f"tags[{i}]") for i, (k, val) in enumerate(v.as_pairs(tags))]
        model_id = self._ws.ids.logged_model_id()
        while model_id in self._models:
            model_id = self._ws.ids.logged_model_id()
        name = name or generate_name(self._ws.ids)
        default_root = f"dbfs:/databricks/mlflow-tracking/{exp.experiment_id}"
        if exp.artifact_location == default_root:
            artifact_uri = f"{default_root}/logged_models/{model_id}/artifacts"
        else:
            artifact_uri = f"{exp.artifact_location}/models/{model_id}/artifacts"
        now = self._ws.clock.now_ms()
        model = LoggedModel(LoggedModelInfo(
            model_id=model_id, experiment_id=exp.experiment_id, name=name, artifact_uri=artifact_uri,
            creation_timestamp_ms=now, last_updated_timestamp_ms=now, creator_id=int(self._ws.user.id),
            model_type=model_type or None, source_run_id=source_run_id or None, tags=dict(tag_pairs)))
        model.data.params.update(param_pairs)
        self._models[model_id] = model
        return model

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The logged model with this id (RESOURCE_DOES_NOT_EXIST if unknown or deleted)."""
        model = self._models.get(model_id) if model_id else None
        if model is None or (model.info.lifecycle_stage == DELETED and not allow_deleted):
            if not model_id:
                raise invalid("Missing value for required parameter 'model_id'.")
            raise not_found(f"Logged model with ID '{model_id}' not found.")
        return model

    def finalize_logged_model(self, model_id: str, status: str) -> LoggedModel:
        model = self.get_logged_model(model_id)
        if status not in MODEL_STATUSES:
            raise invalid(v.invalid_value("status", status))
        model.info.status = status
        model.info.last_updated_timestamp_ms = self._ws.clock.now_ms()
        return model

    def set_logged_model_tags(self, model_id: str,
                              tags: v.Pairs) -> None:
        model = self.get_logged_model(model_id)
        pairs = [v.check_tag(k, val, f"tags[{i}]") for i, (k, val) in enumerate(v.as_pairs(tags))]
        model.info.tags.update(pairs)
        model.info.last_updated_timestamp_ms = self._ws.clock.now_ms()

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        model = self.get_logged_model(model_id)
        if key not in model.info.tags:
            raise not_found(f"No tag with key {key!r} found for model with ID {model_id!r}.")
        del model.info.tags[key]

    def log_logged_model_params(self, model_id: str,
                                params: v.Pairs) -> None:
        """Add params; like run params they can't change once logged (same value is fine)."""
        model = self.get_logged_model(model_id)
        pairs = [v.check_param(k, val, f"params[{i}]") for i, (k, val) in enumerate(v.as_pairs(params))]
        v.check_params_unchanged(model.data.params, pairs, f"logged model ID='{model_id}'")
        model.data.params.update(pairs)

    def delete_logged_model(self, model_id: str) -> None:
        model = self.get_logged_model(model_id)
        model.info.lifecycle_stage = DELETED
        model.info.last_updated_timestamp_ms = self._ws.clock.now_ms()

    def search_logged_models(self, experiment_ids: Sequence[str], filter: str | None = None,
                             order_by: Sequence[Mapping[str, Any]] = (), max_results: int | None = None,
                             page_token: str | None = None,
                             datasets: Sequence[Mapping[str, Any]] = ()) -> Page[LoggedModel]:
        """One page of active logged models of ``experiment_ids`` matching ``filter``.

        ``max_results`` defaults to, and is capped at, 50 (Databricks' limit)."""
        if max_results is not None and max_results <= 0:
            raise invalid(f"Invalid value {max_results} for parameter 'max_results' supplied. "
                          "It must be a positive integer")
        max_results = min(max_results or v.SEARCH_LOGGED_MODELS_MAX, v.SEARCH_LOGGED_MODELS_MAX)
        ds = []
        for d in datasets or ():
            if not d.get("dataset_name"):
                raise invalid("`dataset_name` in the `datasets` clause must be specified.")
            ds.append((d["dataset_name"], d.get("dataset_digest") or None))
        clauses = [_normalize_status(c) for c in srch.parse_filter(filter, srch.LOGGED_MODELS)]
        keys = [_model_order_key(o) for o in order_by or ()]
        if not any(k[0].key == "creation_timestamp" for k in keys):
            keys.append((srch.OrderKey(srch.ATTRIBUTE, "creation_timestamp", False), None))
        if not any(k[0].key == "model_id" for k in keys):
            keys.append((srch.OrderKey(srch.ATTRIBUTE, "model_id", True), None))
        exp_ids = {str(e) for e in experiment_ids or ()}
        found = [m for m in self._models.values()
                 if m.info.lifecycle_stage == ACTIVE and m.info.experiment_id in exp_ids
                 and all(c.test(_model_value(m, c.kind, c.key, ds)) for c in clauses)]
        if ds and not any(c.kind == srch.METRIC for c in clauses):
            found = [m for m in found if any(
                x.dataset_name == n and (dg is None or x.dataset_digest == dg)
                for x in m.data.metrics for n, dg in ds)]
        order = [k for k, _ in keys]
        by_key = {id(k): d for k, d in keys}
        found = srch.apply_order(found, order, lambda m, k: _model_value(m, k.kind, k.key, by_key.get(id(k))))
        query = srch.fingerprint("logged-models", sorted(exp_ids), filter, [dict(o) for o in order_by or ()], ds)
        return srch.paginate(found, page_token, max_results, query)

    def logged_model_of_run(self, run_id: str, name: str) -> LoggedModel | None:
        """The newest active logged model called ``name`` that run ``run_id`` produced: what
        mlflow 3 reads ``runs:/<run_id>/<name>`` as when the run has no such artifact."""
        found = [m for m in self._models.values()
                 if m.info.source_run_id == run_id and m.info.name == name and m.info.lifecycle_stage == ACTIVE]
        return max(found, key=lambda m: (m.info.creation_timestamp_ms, m.info.model_id), default=None)

    # -- helpers ---------------------------------------------------------------------------
    def _attach_model_metric(self, run_id: str, metric: Metric) -> None:
        model = self._models.get(metric.model_id or "")
        if model is not None:
            model.data.metrics.append(replace(metric, run_id=run_id))


def _normalize_status(clause: srch.Clause) -> srch.Clause:
    """``status = 'READY'`` and ``status = 'LOGGED_MODEL_READY'`` mean the same."""
    if clause.kind != srch.ATTRIBUTE or clause.key != "status" or clause.value is None:
        return clause
    fix = (lambda s: _STATUS_ALIASES.get(s.upper(), s))
    value = tuple(fix(x) for x in clause.value) if isinstance(clause.value, tuple) else fix(clause.value)
    if clause.comparator in ("LIKE", "ILIKE"):
        value = clause.value
    return srch.Clause(clause.kind, clause.key, clause.comparator, value,
                       srch.make_test(clause.comparator, value))


def _model_order_key(order: Mapping[str, Any]) -> tuple[srch.OrderKey, list[tuple[str, str | None]] | None]:
    field_name = (order.get("field_name") or "").strip()
    if not field_name:
        raise invalid("`field_name` in the `order_by` clause must be specified.")
    ascending = order.get("ascending", True)
    if ascending is None:
        ascending = True
    if ascending not in (True, False):
        raise invalid("Value of `ascending` in the `order_by` clause must be a boolean, got "
                      f"{type(ascending)} for field {field_name}.")
    if order.get("dataset_digest") and not order.get("dataset_name"):
        raise invalid("`dataset_digest` can only be specified if `dataset_name` is also specified.")
    if "." in field_name:
        entity, key = field_name.split(".", 1)
        if entity != "metrics":
            raise invalid(f"Invalid order by field name: {entity}, only `metrics.<name>` is allowed.")
        ds = [(order["dataset_name"], order.get("dataset_digest") or None)] if order.get("dataset_name") else None
        return srch.OrderKey(srch.METRIC, key, bool(ascending)), ds
    key = srch.LOGGED_MODELS.aliases.get(field_name, field_name)
    if key not in srch.LOGGED_MODELS.order_attributes:
        raise invalid(f"Invalid order by field name: {field_name}.")
    return srch.OrderKey(srch.ATTRIBUTE, key, bool(ascending)), None


def _model_value(model: LoggedModel, kind: str, key: str,
                 datasets: list[tuple[str, str | None]] | None = None) -> Any:
    info = model.info
    if kind == srch.METRIC:
        return model.latest_metric(key, datasets)
    if kind == srch.PARAM:
        return model.data.params.get(key)
    if kind == srch.TAG:
        return info.tags.get(key)
    if key == "creation_timestamp":
        return info.creation_timestamp_ms
    if key == "last_updated_timestamp":
        return info.last_updated_timestamp_ms
    return getattr(info, key)
