"""Routes of the Unity Catalog prompt registry (``/api/2.0/mlflow/unity-catalog/prompts``,
``.../prompt-versions/links-to-*``), which mlflow 3 calls with the registry URI ``databricks-uc``."""
from __future__ import annotations

from mlemu.server.services.prompts import wire
from mlemu.server.services.prompts.state import Prompts
from mlemu.server.wire.paging import page_body
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.wire.service import Service
from mlemu.server.services.prompts import persist

routes = RouteTable("prompts")

P = "/api/2.0/mlflow/unity-catalog/prompts"
L = "/api/2.0/mlflow/unity-catalog/prompt-versions"


def _svc(req: Request) -> Prompts:
    return req.ws.prompts


@routes.post(P, "create", body=wire.CreatePrompt,
             client_calls=("mlflow.genai.register_prompt (ALREADY_EXISTS for later versions)",))
def create_prompt(req: Request) -> dict:
    a = req.args
    return wire.prompt(_svc(req).create(a.name or a.prompt.name or "", a.prompt.description,
                                        wire.tags(a.prompt.tags)))


@routes.get(f"{P}/<name>", "get", body=wire.Empty,
            client_calls=("mlflow.genai.set_prompt_alias", "mlflow.genai.search_prompts"))
def get_prompt(req: Request, name: str) -> dict:
    return wire.prompt(_svc(req).get(name))


@routes.patch(f"{P}/<name>", "update", body=wire.UpdatePrompt,
              client_calls=("MlflowClient.update_prompt",))
def update_prompt(req: Request, name: str) -> dict:
    return wire.prompt(_svc(req).update(name, req.args.prompt.description))


@routes.delete(f"{P}/<name>", "delete", body=wire.Empty,
               client_calls=("mlflow.genai.delete_prompt",))
def delete_prompt(req: Request, name: str) -> dict:
    _svc(req).delete(name)
    return {}


@routes.post(f"{P}/search", "search", body=wire.SearchPrompts,
             client_calls=("mlflow.genai.search_prompts(filter_string=\"catalog = ... AND schema = ...\")",))
def search_prompts(req: Request) -> dict:
    a = req.args
    found, token = _svc(req).search(a.catalog_schema.catalog_name or "", a.catalog_schema.schema_name or "",
                                    a.filter, a.max_results, a.page_token)
    return page_body("prompts", [wire.prompt(p) for p in found], token)


@routes.post(f"{P}/<name>/tags", "set-tag", body=wire.SetTag,
             client_calls=("MlflowClient.set_prompt_tag", "mlflow.genai.register_prompt (experiment link tag)"))
def set_prompt_tag(req: Request, name: str) -> dict:
    _svc(req).set_tag(name, req.args.key, req.args.value or "")
    return {}


@routes.delete(f"{P}/<name>/tags/<key>", "delete-tag", body=wire.Empty,
               client_calls=("MlflowClient.delete_prompt_tag",))
def delete_prompt_tag(req: Request, name: str, key: str) -> dict:
    _svc(req).delete_tag(name, key)
    return {}


# -- versions ------------------------------------------------------------------------------

@routes.post(f"{P}/<name>/versions", "versions.create", body=wire.CreateVersion,
             client_calls=("mlflow.genai.register_prompt",))
def create_version(req: Request, name: str) -> dict:
    pv = req.args.prompt_version
    return wire.prompt_version(*_svc(req).create_version(name, pv.template or "", pv.description,
                                                         wire.tags(pv.tags)))


@routes.get(f"{P}/<name>/versions/<version>", "versions.get", body=wire.Empty,
            client_calls=("mlflow.genai.load_prompt(\"prompts:/<name>/<version>\")",
                          "mlflow.genai.register_prompt", "mlflow.genai.set_prompt_alias"))
def get_version(req: Request, name: str, version: str) -> dict:
    return wire.prompt_version(*_svc(req).get_version(name, version))


@routes.patch(f"{P}/<name>/versions/<version>", "versions.update", body=wire.UpdateVersion,
              client_calls=("MlflowClient (UC prompt store) update_prompt_version",))
def update_version(req: Request, name: str, version: str) -> dict:
    return wire.prompt_version(*_svc(req).update_version(name, version, req.args.prompt_version.description))


@routes.delete(f"{P}/<name>/versions/<version>", "versions.delete", body=wire.Empty,
               client_calls=("MlflowClient.delete_prompt_version",))
def delete_version(req: Request, name: str, version: str) -> dict:
    _svc(req).delete_version(name, version)
    return {}


@routes.post(f"{P}/<name>/versions/search", "versions.search", body=wire.SearchVersions,
             client_calls=("MlflowClient.search_prompt_versions",))
def search_versions(req: Request, name: str) -> dict:
    p, found, token = _svc(req).search_versions(name, req.args.max_results, req.args.page_token)
    return page_body("prompt_versions", [wire.prompt_version(p, v) for v in found], token)


@routes.post(f"{P}/<name>/versions/<version>/tags", "versions.set-tag", body=wire.SetTag,
             client_calls=("MlflowClient.set_prompt_version_tag",))
def set_version_tag(req: Request, name: str, version: str) -> dict:
    _svc(req).set_version_tag(name, version, req.args.key, req.args.value or "")
    return {}


@routes.delete(f"{P}/<name>/versions/<version>/tags/<key>", "versions.delete-tag", body=wire.Empty,
               client_calls=("MlflowClient.delete_prompt_version_tag",))
def delete_version_tag(req: Request, name: str, version: str, key: str) -> dict:
    _svc(req).delete_version_tag(name, version, key)
    return {}


# -- aliases -------------------------------------------------------------------------------

@routes.post(f"{P}/<name>/aliases/<alias>", "aliases.set", body=wire.SetAlias,
             client_calls=("mlflow.genai.set_prompt_alias",))
def set_alias(req: Request, name: str, alias: str) -> dict:
    _svc(req).set_alias(name, alias, req.args.version)
    return {}


@routes.delete(f"{P}/<name>/aliases/<alias>", "aliases.delete", body=wire.Empty,
               client_calls=("mlflow.genai.delete_prompt_alias",))
def delete_alias(req: Request, name: str, alias: str) -> dict:
    _svc(req).delete_alias(name, alias)
    return {}


@routes.get(f"{P}/<name>/versions/by-alias/<alias>", "versions.get-by-alias", body=wire.Empty,
            client_calls=("mlflow.genai.load_prompt(\"prompts:/<name>@<alias>\")",))
def get_by_alias(req: Request, name: str, alias: str) -> dict:
    return wire.prompt_version(*_svc(req).get_by_alias(name, alias))


# -- links ---------------------------------------------------------------------------------

@routes.post(f"{L}/links-to-runs", "links-to-runs", body=wire.LinkToRuns,
             client_calls=("mlflow.genai.load_prompt inside a run",))
def link_to_runs(req: Request) -> dict:
    a = req.args
    _svc(req).link_to_runs([(e.name, e.version) for e in a.prompt_versions], a.run_ids)
    return {}


@routes.post(f"{L}/links-to-models", "links-to-models", body=wire.LinkToModels,
             client_calls=("MlflowClient.link_prompt_version_to_model", "a prompt used with an active model"))
def link_to_models(req: Request) -> dict:
    a = req.args
    _svc(req).link_to_models([(e.name, e.version) for e in a.prompt_versions], a.model_ids)
    return {}


@routes.post(f"{L}/links-to-traces", "links-to-traces", body=wire.LinkToTraces,
             client_calls=("a prompt loaded inside a traced function (at trace export)",))
def link_to_traces(req: Request) -> dict:
    a = req.args
    _svc(req).link_to_traces([(e.name, e.version) for e in a.prompt_versions], a.trace_ids)
    return {}


SERVICE = Service("prompts", routes, state=Prompts, persist=persist, description="Prompts registered in Unity Catalog")
