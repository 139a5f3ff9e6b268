"""Lakehouse monitors (data profiling) of one workspace: one monitor per UC table, its
refreshes, and the metric tables each refresh writes.

Both APIs act on the same monitors: ``quality_monitors`` (``/api/2.1/unity-catalog/tables/
{name}/monitor``, names and ``*_col`` fields) and ``data_quality`` (``/api/data-quality/v1/
monitors/table/{table_id}``, ids and ``*_column`` fields); :mod:`.wire` translates.

A refresh reads the monitored table (and the baseline table), computes the metrics
(:mod:`.compute`) and replaces ``<output_schema>.<table>_profile_metrics`` and
``<table>_drift_metrics``. Refreshes run synchronously by default: the metric tables are
written before ``run_refresh`` answers, which reports the refresh as the API does when it
queues one (``PENDING``); ``get_refresh`` then reports ``SUCCESS`` or ``FAILED``. With
``ws.monitors.synchronous = False`` a refresh stays ``PENDING`` until polled, ``RUNNING`` on
the first poll, and computed on the next one, for code that waits on the state machine.
Creating a monitor queues its first refresh, as Databricks does.

Fixture helpers (no HTTP): ``ws.monitors.get(table)``, ``ws.monitors.refresh(table)``,
``ws.monitors.render_report(table, directory)`` (PNG + HTML, needs matplotlib).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlemu.server.core import extras
from mlemu.server.core.errors import ApiError, already_exists, invalid, not_found
from mlemu.server.services.monitors import slicing, types, windows
from mlemu.server.services.unity_catalog import names

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState
    from mlemu.server.services.monitors import compute
    from mlemu.server.services.unity_catalog.state import Table

PROFILE_KINDS = ("inference_log", "time_series", "snapshot")
PROBLEM_TYPES = ("PROBLEM_TYPE_CLASSIFICATION", "PROBLEM_TYPE_REGRESSION")
TERMINAL = ("SUCCESS", "FAILED", "CANCELED")


@dataclass
class Refresh:
    refresh_id: int
    state: str
    start_time_ms: int
    trigger: str = "MANUAL"
    end_time_ms: int | None = None
    message: str | None = None


@dataclass
class Monitor:
    """A monitor's configuration in the ``quality_monitors`` field names."""

    table_name: str
    table_id: str
    output_schema_name: str
    output_schema_id: str
    assets_dir: str | None
    kind: str
    profile: dict[str, Any]          # the inference_log / time_series / snapshot object
    monitor_version: int = 0
    status: str = "MONITOR_STATUS_ACTIVE"
    baseline_table_name: str | None = None
    slicing_exprs: list[str] = field(default_factory=list)
    custom_metrics: list[dict[str, Any]] = field(default_factory=list)
    schedule: dict[str, Any] | None = None
    notifications: dict[str, Any] | None = None
    data_classification_config: dict[str, Any] | None = None
    skip_builtin_dashboard: bool = False
    warehouse_id: str | None = None
    dashboard_id: str | None = None
    latest_monitor_failure_msg: str | None = None
    refreshes: list[Refresh] = field(default_factory=list)
    last_refresh_id: int = 0  # ids stay unique after delete_refresh

    @property
    def profile_metrics_table_name(self) -> str:
        return f"{self.output_schema_name}.{self.table_name.rsplit('.', 1)[1]}_profile_metrics"

    @property
    def drift_metrics_table_name(self) -> str:
        return f"{self.output_schema_name}.{self.table_name.rsplit('.', 1)[1]}_drift_metrics"

    def spec(self) -> "compute.Spec":
        from mlemu.server.services.monitors import compute  # numpy: imported at the first refresh
        p = self.profile
        return compute.Spec(self.kind, p.get("timestamp_col"), tuple(p.get("granularities") or ()),
                            p.get("model_id_col"), p.get("prediction_col"), p.get("label_col"),
                            p.get("problem_type"), tuple(self.slicing_exprs))


class Monitors:
    """The workspace's monitors, keyed by the monitored table's full name."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._monitors: dict[str, Monitor] = {}
        #: False: refreshes wait in PENDING/RUNNING until polled (see the module docstring).
        self.synchronous = True

    # -- lookup --------------------------------------------------------------------------
    def get(self, table_name: str) -> Monitor:
        fn = str(names.three_level(table_name, "table"))
        self._ws.unity_catalog.get_table(fn)
        monitor = self._monitors.get(fn)
        if monitor is None:
            raise not_found(f"Monitor for table '{fn}' does not exist.")
        self._advance(monitor)
        return monitor

    def by_table_id(self, table_id: str) -> Monitor:
        for m in self._monitors.values():
            if m.table_id == table_id:
                self._advance(m)
                return m
        table = self._table_by_id(table_id)
        raise not_found(f"Monitor for table '{table.full_name}' does not exist.")

    def list(self) -> list[Monitor]:
        return [self._monitors[k] for k in sorted(self._monitors)]

    def table_name_of(self, table_id: str) -> str:
        return self._table_by_id(table_id).full_name

    def _table_by_id(self, table_id: str) -> "Table":
        uc = self._ws.unity_catalog
        for catalog in uc.list_catalogs():
            for schema in uc.list_schemas(catalog.name):
                for t in uc.list_tables(catalog.name, schema.name):
                    if t.id == table_id:
                        return t
        raise not_found(f"Table with id '{table_id}' does not exist.")

    def schema_name_of(self, schema_id: str) -> str:
        uc = self._ws.unity_catalog
        for catalog in uc.list_catalogs():
            for schema in uc.list_schemas(catalog.name):
                if schema.id == schema_id:
                    return schema.full_name
        raise not_found(f"Schema with id '{schema_id}' does not exist.")

    # -- create / update / delete --------------------------------------------------------
    def create(self, table_name: str, config: dict[str, Any]) -> Monitor:
        """``config``: the ``quality_monitors.create`` body (field names of that API)."""
        table = self._ws.unity_catalog.get_table(table_name)
        if table.full_name in self._monitors:
            raise already_exists(f"Monitor already exists for table '{table.full_name}'.")
        monitor = self._validated(table, None, config)
        if not monitor.skip_builtin_dashboard:
            monitor.dashboard_id = self._ws.ids.hex(32)
        self._monitors[table.full_name] = monitor
        self._start_refresh(monitor)
        return monitor

    def update(self, table_name: str, config: dict[str, Any]) -> Monitor:
        """Replace the given fields; the output schema cannot move [emu: refused]."""
        monitor = self.get(table_name)
        table = self._ws.unity_catalog.get_table(monitor.table_name)
        updated = self._validated(table, monitor, config)
        if updated.output_schema_name != monitor.output_schema_name:
            raise invalid("The output schema of a monitor cannot be updated.")
        updated.monitor_version = monitor.monitor_version + 1
        self._monitors[monitor.table_name] = updated
        return updated

    def delete(self, table_name: str) -> None:
        """Delete the monitor; its metric tables stay, as Databricks leaves them."""
        monitor = self.get(table_name)
        del self._monitors[monitor.table_name]

    def _validated(self, table: "Table", current: Monitor | None, config: dict[str, Any]) -> Monitor:
        c = {k: v for k, v in config.items() if v is not None}
        given = [k for k in PROFILE_KINDS if k in c]
        if current is None and len(given) != 1 or len(given) > 1:
            raise invalid("Exactly one of inference_log, time_series or snapshot must be specified.")
        kind = given[0] if given else current.kind  # type: ignore[union-attr]
        profile = dict(c.get(kind) or {}) if given else dict(current.profile)  # type: ignore[union-attr]
        out_name = c.get("output_schema_name") or (current.output_schema_name if current else None)
        if not out_name:
            raise invalid("Missing value for required parameter 'output_schema_name'.")
        out_schema = self._ws.unity_catalog.get_schema(out_name)
        columns = {col.name: col for col in table.columns}
        if kind != "snapshot":
            self._check_profile(kind, profile, columns)
        baseline = c.get("baseline_table_name", current.baseline_table_name if current else None)
        if baseline:
            baseline = self._ws.unity_catalog.get_table(baseline).full_name
        base = current if current is not None else None
        monitor = Monitor(
            table_name=table.full_name, table_id=table.id, output_schema_name=out_schema.full_name,
            output_schema_id=out_schema.id,
            assets_dir=c.get("assets_dir", base.assets_dir if base else None), kind=kind, profile=profile,
            monitor_version=base.monitor_version if base else 0,
            baseline_table_name=baseline,
            slicing_exprs=list(c.get("slicing_exprs", base.slicing_exprs if base else [])),
            custom_metrics=list(c.get("custom_metrics", base.custom_metrics if base else [])),
            schedule=c.get("schedule", base.schedule if base else None),
            notifications=c.get("notifications", base.notifications if base else None),
            data_classification_config=c.get("data_classification_config",
                                             base.data_classification_config if base else None),
            skip_builtin_dashboard=bool(c.get("skip_builtin_dashboard", base.skip_builtin_dashboard if base else False)),
            warehouse_id=c.get("warehouse_id", base.warehouse_id if base else None),
            dashboard_id=c.get("dashboard_id", base.dashboard_id if base else None),
            latest_monitor_failure_msg=base.latest_monitor_failure_msg if base else None,
            refreshes=base.refreshes if base else [], last_refresh_id=base.last_refresh_id if base else 0)
        for expr in monitor.slicing_exprs:
            slicing.check(expr)
        return monitor

    @staticmethod
    def _check_profile(kind: str, profile: dict[str, Any], columns: dict[str, Any]) -> None:
        required = ["timestamp_col", "granularities"]
        if kind == "inference_log":
            required += ["problem_type", "prediction_col", "model_id_col"]
        for name in required:
            if not profile.get(name):
                raise invalid(f"Missing value for required parameter '{kind}.{name}'.")
        for g in profile["granularities"]:
            if g not in windows.GRANULARITIES:
                raise invalid(f"Invalid granularity '{g}'. Supported granularities are: "
                              f"{', '.join(windows.GRANULARITIES)}.")
        if kind == "inference_log" and profile["problem_type"] not in PROBLEM_TYPES:
            raise invalid(f"Invalid problem_type '{profile['problem_type']}'. Supported problem types are: "
                          f"{', '.join(PROBLEM_TYPES)}.")
        for key in ("timestamp_col", "prediction_col", "model_id_col", "label_col", "prediction_proba_col"):
            col = profile.get(key)
            if col and col not in columns:
                raise invalid(f"Column '{col}' ({key}) does not exist in the monitored table.")
        ts = columns[profile["timestamp_col"]]
        if ts.type_name not in ("TIMESTAMP", "TIMESTAMP_NTZ", "DATE", "LONG", "INT", "DOUBLE"):
            raise invalid(f"Column '{ts.name}' (timestamp_col) has type {ts.type_text}, which cannot be "
                          "converted to a timestamp.")

    # -- refreshes -----------------------------------------------------------------------
    def run_refresh(self, table_name: str) -> Refresh:
        """Queue a refresh (computed at once when synchronous); answers its queued state."""
        monitor = self.get(table_name)
        if any(r.state not in TERMINAL for r in monitor.refreshes):
            raise ApiError("RESOURCE_CONFLICT",
                           f"A refresh is already pending or running for table '{monitor.table_name}'.")
        return self._start_refresh(monitor)

    def refresh(self, table_name: str) -> Refresh:
        """Fixture helper: run a refresh to completion now (whatever :attr:`synchronous` is)."""
        monitor = self.get(table_name)
        r = Refresh(self._next_id(monitor), "PENDING", self._ws.clock.now_ms())
        monitor.refreshes.append(r)
        self._execute(monitor, r)
        return r

    def list_refreshes(self, table_name: str) -> list[Refresh]:
        return list(reversed(self.get(table_name).refreshes))

    def get_refresh(self, table_name: str, refresh_id: int) -> Refresh:
        monitor = self.get(table_name)
        return self._refresh(monitor, refresh_id)

    def cancel_refresh(self, table_name: str, refresh_id: int) -> Refresh:
        monitor = self.get(table_name)
        r = self._refresh(monitor, refresh_id)
        if r.state in TERMINAL:
            raise invalid(f"Refresh {refresh_id} is already in a terminal state ({r.state}).")
        r.state, r.end_time_ms, r.message = "CANCELED", self._ws.clock.now_ms(), "Refresh canceled by user."
        return r

    def delete_refresh(self, table_name: str, refresh_id: int) -> None:
        """Forget a finished refresh (its metrics stay in the tables); a running one is refused."""
        monitor = self.get(table_name)
        r = self._refresh(monitor, refresh_id)
        if r.state not in TERMINAL:
            raise invalid(f"Refresh {refresh_id} is {r.state}; cancel it before deleting it.")
        monitor.refreshes.remove(r)

    @staticmethod
    def _refresh(monitor: Monitor, refresh_id: int) -> Refresh:
        for r in monitor.refreshes:
            if r.refresh_id == int(refresh_id):
                return r
        raise not_found(f"Refresh {refresh_id} of the monitor on table '{monitor.table_name}' does not exist.")

    @staticmethod
    def _next_id(monitor: Monitor) -> int:
        monitor.last_refresh_id += 1
        return monitor.last_refresh_id

    def _start_refresh(self, monitor: Monitor) -> Refresh:
        r = Refresh(self._next_id(monitor), "PENDING", self._ws.clock.now_ms())
        monitor.refreshes.append(r)
        queued = copy.copy(r)
        if self.synchronous:
            self._execute(monitor, r)
        return queued

    def _advance(self, monitor: Monitor) -> None:
        """Asynchronous mode: each read moves an unfinished refresh one state on."""
        for r in monitor.refreshes:
            if r.state == "PENDING" and not self.synchronous:
                r.state = "RUNNING"
            elif r.state == "RUNNING":
                self._execute(monitor, r)

    def _execute(self, monitor: Monitor, r: Refresh) -> None:
        """Compute and write the metric tables; the refresh ends SUCCESS or FAILED."""
        import pandas as pd

        from mlemu.server.services.monitors import compute

        uc = self._ws.unity_catalog
        try:
            table = uc.get_table(monitor.table_name)
            baseline = uc.read_table(monitor.baseline_table_name) if monitor.baseline_table_name else None
            spec = monitor.spec()
            col_types = {c.name: c.type_text for c in table.columns}
            now = pd.Timestamp(self._ws.clock.now_ms(), unit="ms")
            result = compute.refresh(table.frame, col_types, spec, baseline=baseline,
                                     monitor_version=monitor.monitor_version,
                                     commit_version=len(table.versions), now=now)
            model_type = col_types.get(spec.model_id_col or "", "string")
            self._write(monitor.profile_metrics_table_name, result.profile,
                        compute.profile_schema(spec, model_type))
            self._write(monitor.drift_metrics_table_name, result.drift, compute.drift_schema(spec, model_type))
        except ApiError as e:
            r.state, r.message = "FAILED", e.message
        except ImportError:
            error = extras.missing("monitors", "Computing monitor metrics")
            r.state, r.message = "FAILED", str(error or "Computing monitor metrics needs numpy and scipy: "
                                                         "pip install 'mlemu[monitors]'")
        except (ValueError, KeyError, TypeError) as e:
            r.state, r.message = "FAILED", f"Monitor refresh failed: {e}"
        else:
            r.state = "SUCCESS"
        r.end_time_ms = self._ws.clock.now_ms()
        monitor.latest_monitor_failure_msg = r.message if r.state == "FAILED" else None
        monitor.status = "MONITOR_STATUS_ERROR" if r.state == "FAILED" else "MONITOR_STATUS_ACTIVE"

    # -- report --------------------------------------------------------------------------
    def render_report(self, table_name: str, directory: str) -> dict[str, str]:
        """The monitor's latest metrics as ``<table>_report.png`` and ``.html`` in
        ``directory`` (needs matplotlib); returns ``{"png": path, "html": path}``."""
        extras.require("monitors-report", "A monitor report (ws.monitors.render_report)")
        from mlemu.server.services.monitors import report

        monitor = self.get(table_name)
        uc = self._ws.unity_catalog
        return report.render(monitor.table_name, uc.read_table(monitor.profile_metrics_table_name),
                             uc.read_table(monitor.drift_metrics_table_name), directory)

    def _write(self, full_name: str, rows: list[dict[str, Any]], schema: list[tuple[str, str]]) -> None:
        import pandas as pd

        names_ = [n for n, _ in schema]
        frame = pd.DataFrame([{k: row.get(k) for k in names_} for row in rows], columns=names_)
        self._ws.unity_catalog.put_table(full_name, frame, mode="overwrite", columns=types.columns(schema))
