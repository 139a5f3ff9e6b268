"""Routes of Model Serving: the endpoints API (``/api/2.0/serving-endpoints``, databricks-sdk
``w.serving_endpoints``, mlflow's ``databricks`` deployments client), the data plane
(``/serving-endpoints/{name}/invocations``). Endpoint permissions are the permissions service's."""
from __future__ import annotations

import json
import posixpath

from mlemu.server.core.errors import ApiError
from mlemu.server.core.journal import LazyJson
from mlemu.server.services.registry import mlmodel
from mlemu.server.services.serving import metrics, openapi, wire
from mlemu.server.services.serving.state import Serving
from mlemu.server.wire.request import Reply, Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.wire.service import Service
from mlemu.server.services.serving import persist

routes = RouteTable("serving")

API = "/api/2.0/serving-endpoints"
SDK = "WorkspaceClient.serving_endpoints"
DEPLOY = "mlflow.deployments.DatabricksDeploymentClient"


def _serving(req: Request) -> Serving:
    return req.ws.serving


@routes.post(API, "endpoints.create", body=wire.CreateEndpoint,
             client_calls=(f"{SDK}.create", f"{SDK}.create_and_wait", f"{DEPLOY}.create_endpoint"))
def create(req: Request) -> dict:
    a = req.args
    ep = _serving(req).create(a.name, a.config, tags=a.tags, ai_gateway=a.ai_gateway,
                              rate_limits=a.rate_limits, route_optimized=a.route_optimized,
                              description=a.description, budget_policy_id=a.budget_policy_id,
                              email_notifications=a.email_notifications)
    return wire.endpoint_detailed(ep)


@routes.get(API, "endpoints.list", client_calls=(f"{SDK}.list", f"{DEPLOY}.list_endpoints"))
def list_endpoints(req: Request) -> dict:
    return {"endpoints": [wire.endpoint_summary(ep) for ep in _serving(req).list()]}


@routes.get(f"{API}/<name>", "endpoints.get", locked=False,
            client_calls=(f"{SDK}.get", f"{SDK}.wait_get_serving_endpoint_not_updating",
                          f"{DEPLOY}.get_endpoint"))
def get(req: Request, name: str) -> dict:
    # The GET that finishes a deployment loads its models: outside the lock (issue 17, defect 10).
    loaded = _serving(req).preload(name)
    with req.ws.lock:
        return wire.endpoint_detailed(_serving(req).get(name, loaded=loaded))


@routes.delete(f"{API}/<name>", "endpoints.delete",
               client_calls=(f"{SDK}.delete", f"{DEPLOY}.delete_endpoint"))
def delete(req: Request, name: str) -> dict:
    _serving(req).delete(name)
    return {}


@routes.put(f"{API}/<name>/config", "endpoints.update_config", body=wire.UpdateConfig,
            client_calls=(f"{SDK}.update_config", f"{SDK}.update_config_and_wait",
                          f"{DEPLOY}.update_endpoint", f"{DEPLOY}.update_endpoint_config"))
def update_config(req: Request, name: str) -> dict:
    body = req.args.model_dump(exclude_none=True)
    return wire.endpoint_detailed(_serving(req).update_config(name, body))


@routes.patch(f"{API}/<name>/tags", "endpoints.patch_tags", body=wire.PatchTags,
              client_calls=(f"{SDK}.patch", f"{DEPLOY}.update_endpoint_tags"))
def patch_tags(req: Request, name: str) -> dict:
    ep = _serving(req).patch_tags(name, req.args.add_tags, req.args.delete_tags)
    return {"tags": [{"key": k, "value": v} for k, v in sorted(ep.tags.items())]}


@routes.put(f"{API}/<name>/ai-gateway", "endpoints.put_ai_gateway", body=wire.PutAiGateway,
            client_calls=(f"{SDK}.put_ai_gateway", f"{DEPLOY}.update_endpoint_ai_gateway"))
def put_ai_gateway(req: Request, name: str) -> dict:
    ep = _serving(req).put_ai_gateway(name, req.args.model_dump(exclude_none=True))
    return dict(ep.ai_gateway or {})


@routes.put(f"{API}/<name>/rate-limits", "endpoints.put_rate_limits", body=wire.PutRateLimits,
            client_calls=(f"{SDK}.put", f"{DEPLOY}.update_endpoint_rate_limits"))
def put_rate_limits(req: Request, name: str) -> dict:
    ep = _serving(req).put_rate_limits(name, req.args.rate_limits or [])
    return {"rate_limits": ep.rate_limits}


@routes.get(f"{API}/<name>/metrics", "endpoints.export_metrics", client_calls=(f"{SDK}.export_metrics",))
def export_metrics(req: Request, name: str) -> Reply:
    ep = _serving(req).get(name, poll=False)
    text = metrics.render(ep.samples).encode()
    return Reply(200, text, {"content-type": "text/plain; version=0.0.4; charset=utf-8"})


@routes.get(f"{API}/<name>/openapi", "endpoints.get_open_api", client_calls=(f"{SDK}.get_open_api",))
def get_open_api(req: Request, name: str) -> Reply:
    ws = req.ws
    ep = _serving(req).get(name, poll=False)
    entities = []
    for e in (ep.config.entities if ep.config else []):
        inputs = None
        if e.is_local_model:
            path = posixpath.join(ws.registry.get_version(e.entity_name, e.entity_version).files_path, "MLmodel")
            inputs = openapi.signature_inputs(lambda: mlmodel.parse(ws.storage.read("files", path)))
        entities.append((e.name, inputs))
    return Reply(200, json.dumps(openapi.document(name, entities, req.base_url)).encode(),
                 {"content-type": "application/json"})


@routes.get(f"{API}/<name>/served-models/<served_model>/logs", "endpoints.logs",
            client_calls=(f"{SDK}.logs",))
def logs(req: Request, name: str, served_model: str) -> dict:
    e = _serving(req).entity(name, served_model)
    return {"logs": f"[mlemu] served entity {e.name}: {e.entity_name} version {e.entity_version} "
                    f"runs in-process with the installed mlflow; state {e.deployment}.\n"}


@routes.get(f"{API}/<name>/served-models/<served_model>/build-logs", "endpoints.build_logs",
            client_calls=(f"{SDK}.build_logs",))
def build_logs(req: Request, name: str, served_model: str) -> dict:
    e = _serving(req).entity(name, served_model)
    return {"logs": f"[mlemu] no container is built for {e.name}: the current Python environment "
                    "stands in for the serving container (env_manager='local').\n"}


# -- data plane ----------------------------------------------------------------------------

@routes.post("/serving-endpoints/<name>/invocations", "invocations", locked=False,
             client_calls=(f"{SDK}.query", f"{DEPLOY}.predict", "requests.post(<host>/serving-endpoints/<name>/invocations)"))
def invocations(req: Request, name: str) -> Reply:
    return _invoke(req, name, None)


@routes.post("/serving-endpoints/<name>/served-models/<served_model>/invocations", "served_model_invocations",
             locked=False, client_calls=("requests.post(<host>/serving-endpoints/<name>/served-models/<entity>/invocations)"))
def served_model_invocations(req: Request, name: str, served_model: str) -> Reply:
    return _invoke(req, name, served_model)


def _invoke(req: Request, name: str, entity: str | None) -> Reply:
    answer = _serving(req).invoke(name, req.body, req.headers.get("content-type", "application/json"), entity)
    headers = {"content-type": "application/json"}
    if answer.served_entity:
        headers["served-model-name"] = answer.served_entity
    return Reply(answer.status, answer.body, headers, journal_body=LazyJson(answer.body))


SERVICE = Service("serving", routes, state=Serving, persist=persist,
                  description="Model Serving: endpoints, configs, traffic, invocations, inference tables")
