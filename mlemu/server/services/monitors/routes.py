"""Routes of Lakehouse monitoring: ``/api/2.1/unity-catalog/tables/{name}/monitor``
(databricks-sdk ``w.quality_monitors``) and ``/api/data-quality/v1/monitors`` (``w.data_quality``)."""
from __future__ import annotations

from mlemu.server.core.errors import invalid
from mlemu.server.services.monitors import wire
from mlemu.server.services.monitors.state import Monitors
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.wire.service import Service
from mlemu.server.services.monitors import persist

routes = RouteTable("monitors")

QM = "/api/2.1/unity-catalog/tables/<table_name>/monitor"
DQ = "/api/data-quality/v1/monitors"
SDK = "WorkspaceClient.quality_monitors"
DQSDK = "WorkspaceClient.data_quality"


def _monitors(req: Request) -> Monitors:
    return req.ws.monitors


def _config(req: Request) -> dict:
    return req.args.model_dump(exclude_none=True)


# -- quality_monitors ----------------------------------------------------------------------

@routes.post(QM, "quality_monitors.create", body=wire.MonitorConfig, client_calls=(f"{SDK}.create",))
def create(req: Request, table_name: str) -> dict:
    a = req.args
    if not a.assets_dir:
        raise invalid("Missing value for required parameter 'assets_dir'.")
    return wire.monitor_info(_monitors(req).create(table_name, _config(req)))


@routes.get(QM, "quality_monitors.get", client_calls=(f"{SDK}.get",))
def get(req: Request, table_name: str) -> dict:
    return wire.monitor_info(_monitors(req).get(table_name))


@routes.put(QM, "quality_monitors.update", body=wire.MonitorConfig, client_calls=(f"{SDK}.update",))
def update(req: Request, table_name: str) -> dict:
    return wire.monitor_info(_monitors(req).update(table_name, _config(req)))


@routes.delete(QM, "quality_monitors.delete", client_calls=(f"{SDK}.delete",))
def delete(req: Request, table_name: str) -> dict:
    _monitors(req).delete(table_name)
    return {}


@routes.post(f"{QM}/refreshes", "quality_monitors.run_refresh", client_calls=(f"{SDK}.run_refresh",))
def run_refresh(req: Request, table_name: str) -> dict:
    return wire.refresh_info(_monitors(req).run_refresh(table_name))


@routes.get(f"{QM}/refreshes", "quality_monitors.list_refreshes", client_calls=(f"{SDK}.list_refreshes",))
def list_refreshes(req: Request, table_name: str) -> dict:
    return {"refreshes": [wire.refresh_info(r) for r in _monitors(req).list_refreshes(table_name)]}


@routes.get(f"{QM}/refreshes/<int:refresh_id>", "quality_monitors.get_refresh",
            client_calls=(f"{SDK}.get_refresh",))
def get_refresh(req: Request, table_name: str, refresh_id: int) -> dict:
    return wire.refresh_info(_monitors(req).get_refresh(table_name, refresh_id))


@routes.post(f"{QM}/refreshes/<int:refresh_id>/cancel", "quality_monitors.cancel_refresh",
             client_calls=(f"{SDK}.cancel_refresh",))
def cancel_refresh(req: Request, table_name: str, refresh_id: int) -> dict:
    _monitors(req).cancel_refresh(table_name, refresh_id)
    return {}


@routes.post("/api/2.1/quality-monitoring/tables/<table_name>/monitor/dashboard",
             "quality_monitors.regenerate_dashboard", body=wire.RegenerateDashboard,
             client_calls=(f"{SDK}.regenerate_dashboard",))
def regenerate_dashboard(req: Request, table_name: str) -> dict:
    m = _monitors(req).get(table_name)
    m.dashboard_id = req.ws.ids.hex(32)
    return {"dashboard_id": m.dashboard_id, "parent_folder": m.assets_dir or ""}


# -- data_quality --------------------------------------------------------------------------

def _table_id(object_type: str, object_id: str) -> str:
    if object_type != "table":
        raise invalid(f"Object type '{object_type}' is not supported by the emulator: only 'table' "
                      "monitors (data profiling) are.")
    return object_id


@routes.post(DQ, "data_quality.create_monitor", body=wire.DqMonitor, client_calls=(f"{DQSDK}.create_monitor",))
def dq_create(req: Request) -> dict:
    a = req.args
    table_id = _table_id(a.object_type or "", a.object_id or "")
    if not a.data_profiling_config:
        raise invalid("A table monitor needs 'data_profiling_config' [emu: anomaly detection is not emulated].")
    m = _monitors(req)
    return wire.dq_monitor(m.create(m.table_name_of(table_id), wire.dq_to_config(a.data_profiling_config, m)))


@routes.get(DQ, "data_quality.list_monitor", body=wire.DqPage, client_calls=(f"{DQSDK}.list_monitor",))
def dq_list(req: Request) -> dict:
    return {"monitors": [wire.dq_monitor(m) for m in _monitors(req).list()]}


@routes.get(f"{DQ}/<object_type>/<object_id>", "data_quality.get_monitor",
            client_calls=(f"{DQSDK}.get_monitor",))
def dq_get(req: Request, object_type: str, object_id: str) -> dict:
    return wire.dq_monitor(_monitors(req).by_table_id(_table_id(object_type, object_id)))


@routes.patch(f"{DQ}/<object_type>/<object_id>", "data_quality.update_monitor", body=wire.DqMonitor,
              client_calls=(f"{DQSDK}.update_monitor",))
def dq_update(req: Request, object_type: str, object_id: str) -> dict:
    m = _monitors(req)
    monitor = m.by_table_id(_table_id(object_type, object_id))
    mask = (req.args.update_mask or "").strip()
    if not mask:
        raise invalid("Missing value for required parameter 'update_mask'.")
    config = wire.dq_to_config(req.args.data_profiling_config or {}, m)
    fields = {f.strip().removeprefix("data_profiling_config.") for f in mask.split(",")}
    if not fields & {"*", "data_profiling_config"}:
        renamed = {"output_schema_id": "output_schema_name", "notification_settings": "notifications"}
        wanted = {renamed.get(f, f) for f in fields}
        config = {k: v for k, v in config.items() if k in wanted}
    config.setdefault("output_schema_name", monitor.output_schema_name)
    return wire.dq_monitor(m.update(monitor.table_name, config))


@routes.delete(f"{DQ}/<object_type>/<object_id>", "data_quality.delete_monitor",
               client_calls=(f"{DQSDK}.delete_monitor",))
def dq_delete(req: Request, object_type: str, object_id: str) -> dict:
    m = _monitors(req)
    m.delete(m.by_table_id(_table_id(object_type, object_id)).table_name)
    return {}


@routes.post(f"{DQ}/<object_type>/<object_id>/refreshes", "data_quality.create_refresh",
             client_calls=(f"{DQSDK}.create_refresh",))
def dq_create_refresh(req: Request, object_type: str, object_id: str) -> dict:
    m = _monitors(req)
    monitor = m.by_table_id(_table_id(object_type, object_id))
    return wire.dq_refresh(monitor, m.run_refresh(monitor.table_name))


@routes.get(f"{DQ}/<object_type>/<object_id>/refreshes", "data_quality.list_refresh", body=wire.DqPage,
            client_calls=(f"{DQSDK}.list_refresh",))
def dq_list_refresh(req: Request, object_type: str, object_id: str) -> dict:
    m = _monitors(req)
    monitor = m.by_table_id(_table_id(object_type, object_id))
    return {"refreshes": [wire.dq_refresh(monitor, r) for r in m.list_refreshes(monitor.table_name)]}


@routes.get(f"{DQ}/<object_type>/<object_id>/refreshes/<int:refresh_id>", "data_quality.get_refresh",
            client_calls=(f"{DQSDK}.get_refresh",))
def dq_get_refresh(req: Request, object_type: str, object_id: str, refresh_id: int) -> dict:
    m = _monitors(req)
    monitor = m.by_table_id(_table_id(object_type, object_id))
    return wire.dq_refresh(monitor, m.get_refresh(monitor.table_name, refresh_id))


@routes.delete(f"{DQ}/<object_type>/<object_id>/refreshes/<int:refresh_id>", "data_quality.delete_refresh",
               client_calls=(f"{DQSDK}.delete_refresh",))
def dq_delete_refresh(req: Request, object_type: str, object_id: str, refresh_id: int) -> dict:
    m = _monitors(req)
    monitor = m.by_table_id(_table_id(object_type, object_id))
    m.delete_refresh(monitor.table_name, refresh_id)
    return {}


@routes.post(f"{DQ}/<object_type>/<object_id>/refreshes/<int:refresh_id>/cancel", "data_quality.cancel_refresh",
             client_calls=(f"{DQSDK}.cancel_refresh",))
def dq_cancel_refresh(req: Request, object_type: str, object_id: str, refresh_id: int) -> dict:
    m = _monitors(req)
    monitor = m.by_table_id(_table_id(object_type, object_id))
    return {"refresh": wire.dq_refresh(monitor, m.cancel_refresh(monitor.table_name, refresh_id))}


SERVICE = Service("monitors", routes, state=Monitors, persist=persist,
                  description="Lakehouse monitoring: quality monitors, data profiling, metric tables")
