"""Monitors on the wire, in the two APIs' vocabularies.

* ``quality_monitors`` (``MonitorInfo``, ``MonitorRefreshInfo``): the state's own field names.
* ``data_quality`` (``Monitor`` with ``data_profiling_config``, ``Refresh``): ``*_column``
  instead of ``*_col``, ids instead of names, and prefixed enums
  (``AGGREGATION_GRANULARITY_1_DAY``, ``INFERENCE_PROBLEM_TYPE_*``, ``DATA_PROFILING_STATUS_*``,
  ``MONITOR_REFRESH_STATE_*``). :func:`dq_to_config` maps a request to the first vocabulary.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs
from mlemu.server.core.errors import invalid

if TYPE_CHECKING:
    from mlemu.server.services.monitors.state import Monitor, Monitors, Refresh


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class MonitorConfig(_Args):
    """``quality_monitors.create`` / ``update`` body."""

    output_schema_name: Optional[str] = None
    assets_dir: Optional[str] = None
    baseline_table_name: Optional[str] = None
    custom_metrics: Optional[list[dict[str, Any]]] = None
    data_classification_config: Optional[dict[str, Any]] = None
    inference_log: Optional[dict[str, Any]] = None
    time_series: Optional[dict[str, Any]] = None
    snapshot: Optional[dict[str, Any]] = None
    notifications: Optional[dict[str, Any]] = None
    schedule: Optional[dict[str, Any]] = None
    skip_builtin_dashboard: Optional[bool] = None
    slicing_exprs: Optional[list[str]] = None
    warehouse_id: Optional[str] = None
    dashboard_id: Optional[str] = None


class RegenerateDashboard(_Args):
    warehouse_id: Optional[str] = None


class DqMonitor(_Args):
    object_type: Optional[str] = None
    object_id: Optional[str] = None
    data_profiling_config: Optional[dict[str, Any]] = None
    anomaly_detection_config: Optional[dict[str, Any]] = None
    update_mask: Optional[str] = None  # query string of update_monitor


class DqPage(_Args):
    page_size: Optional[int] = None
    page_token: Optional[str] = None


def _opt(out: dict[str, Any], **fields: Any) -> dict[str, Any]:
    out.update({k: v for k, v in fields.items() if v not in (None, [], {})})
    return out


# -- quality_monitors ----------------------------------------------------------------------

def monitor_info(m: "Monitor") -> dict[str, Any]:
    out = {"table_name": m.table_name, "output_schema_name": m.output_schema_name, "status": m.status,
           "profile_metrics_table_name": m.profile_metrics_table_name,
           "drift_metrics_table_name": m.drift_metrics_table_name, "monitor_version": m.monitor_version,
           m.kind: dict(m.profile)}
    return _opt(out, assets_dir=m.assets_dir, baseline_table_name=m.baseline_table_name,
                custom_metrics=m.custom_metrics, dashboard_id=m.dashboard_id,
                data_classification_config=m.data_classification_config,
                latest_monitor_failure_msg=m.latest_monitor_failure_msg, notifications=m.notifications,
                schedule=_schedule(m.schedule), slicing_exprs=m.slicing_exprs)


def _schedule(schedule: dict[str, Any] | None) -> dict[str, Any] | None:
    if not schedule:
        return None
    return {"pause_status": "UNPAUSED", **schedule}


def refresh_info(r: "Refresh") -> dict[str, Any]:
    return _opt({"refresh_id": r.refresh_id, "state": r.state, "start_time_ms": r.start_time_ms,
                 "trigger": r.trigger}, end_time_ms=r.end_time_ms, message=r.message)


# -- data_quality --------------------------------------------------------------------------

_PROFILE_FIELDS = {"timestamp_col": "timestamp_column", "prediction_col": "prediction_column",
                   "model_id_col": "model_id_column", "label_col": "label_column",
                   "prediction_proba_col": "prediction_probability_column"}


def _granularity_enum(g: str) -> str:
    return "AGGREGATION_GRANULARITY_" + g.upper().replace(" ", "_")


def _granularity_text(enum: str) -> str:
    if not isinstance(enum, str) or not enum.startswith("AGGREGATION_GRANULARITY_"):
        raise invalid(f"Invalid granularity '{enum}'.")
    return enum[len("AGGREGATION_GRANULARITY_"):].lower().replace("_", " ")


def _dq_profile(kind: str, profile: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in profile.items():
        if key == "granularities":
            out[key] = [_granularity_enum(g) for g in value]
        elif key == "problem_type":
            out[key] = "INFERENCE_" + value
        else:
            out[_PROFILE_FIELDS.get(key, key)] = value
    return out


def _legacy_profile(profile: dict[str, Any]) -> dict[str, Any]:
    back = {v: k for k, v in _PROFILE_FIELDS.items()}
    out: dict[str, Any] = {}
    for key, value in profile.items():
        if key == "granularities":
            out[key] = [_granularity_text(g) for g in value]
        elif key == "problem_type":
            out[key] = value[len("INFERENCE_"):] if str(value).startswith("INFERENCE_") else value
        else:
            out[back.get(key, key)] = value
    return out


def _metric_type(t: str, to_dq: bool) -> str:
    suffix = t.rsplit("_TYPE_", 1)[-1]
    return ("DATA_PROFILING_CUSTOM_METRIC_TYPE_" if to_dq else "CUSTOM_METRIC_TYPE_") + suffix


def dq_monitor(m: "Monitor") -> dict[str, Any]:
    cfg = {"output_schema_id": m.output_schema_id, "monitored_table_name": m.table_name,
           "profile_metrics_table_name": m.profile_metrics_table_name,
           "drift_metrics_table_name": m.drift_metrics_table_name, "monitor_version": m.monitor_version,
           "status": m.status.replace("MONITOR_STATUS_", "DATA_PROFILING_STATUS_"),
           m.kind: _dq_profile(m.kind, m.profile)}
    metrics = [{**c, "type": _metric_type(c["type"], True)} if "type" in c else c for c in m.custom_metrics]
    _opt(cfg, assets_dir=m.assets_dir, baseline_table_name=m.baseline_table_name, custom_metrics=metrics,
         dashboard_id=m.dashboard_id, latest_monitor_failure_message=m.latest_monitor_failure_msg,
         notification_settings=m.notifications, schedule=m.schedule, slicing_exprs=m.slicing_exprs,
         warehouse_id=m.warehouse_id, effective_warehouse_id=m.warehouse_id)
    if m.skip_builtin_dashboard:
        cfg["skip_builtin_dashboard"] = True
    return {"object_type": "table", "object_id": m.table_id, "data_profiling_config": cfg}


def dq_refresh(m: "Monitor", r: "Refresh") -> dict[str, Any]:
    return _opt({"object_type": "table", "object_id": m.table_id, "refresh_id": r.refresh_id,
                 "state": "MONITOR_REFRESH_STATE_" + r.state, "start_time_ms": r.start_time_ms,
                 "trigger": "MONITOR_REFRESH_TRIGGER_" + r.trigger}, end_time_ms=r.end_time_ms, message=r.message)


def dq_to_config(cfg: dict[str, Any], monitors: "Monitors") -> dict[str, Any]:
    """A ``data_profiling_config`` as a ``quality_monitors`` body."""
    out: dict[str, Any] = {}
    for key, value in cfg.items():
        if value is None:
            continue
        if key == "output_schema_id":
            out["output_schema_name"] = monitors.schema_name_of(value)
        elif key in ("inference_log", "time_series", "snapshot"):
            out[key] = _legacy_profile(value)
        elif key == "notification_settings":
            out["notifications"] = value
        elif key == "custom_metrics":
            out[key] = [{**c, "type": _metric_type(c["type"], False)} if "type" in c else c for c in value]
        elif key in ("assets_dir", "baseline_table_name", "schedule", "skip_builtin_dashboard",
                     "slicing_exprs", "warehouse_id", "dashboard_id"):
            out[key] = value
    return out
