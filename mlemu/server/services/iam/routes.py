"""Routes of identity and discovery. The SDK probes ``/.well-known/databricks-config``
before nearly every mlflow call (no auth), so it is a static route answering pre-encoded bytes."""
from __future__ import annotations

import functools

from mlemu.server.core.workspace import WorkspaceState
from mlemu.server.wire.jsonenc import dumps
from mlemu.server.wire.service import Service
from mlemu.server.wire.request import Reply, Request
from mlemu.server.wire.routing import RouteTable

routes = RouteTable("iam")


def _host_metadata_answer(ws: WorkspaceState, base_url: str) -> bytes:
    return _host_metadata_body(ws.workspace_id, base_url)


@functools.lru_cache(maxsize=64)
def _host_metadata_body(workspace_id: str, base_url: str) -> bytes:
    return dumps({"workspace_id": workspace_id, "cloud": "aws", "oidc_endpoint": f"{base_url}/oidc"})


@routes.get("/.well-known/databricks-config", "host-metadata", auth=False, locked=False,
            fixed=_host_metadata_answer,
            client_calls=("databricks.sdk.Config() (host metadata probe)",))
def host_metadata(req: Request) -> Reply:
    # Every SDK Config() asks (half of all requests from mlflow); no SDK version caches the
    # answer whatever its headers, so it is encoded once per workspace and host, and a plain
    # probe is answered without a Request (Route.fixed).
    return Reply.json(_host_metadata_answer(req.ws, req.base_url))


@routes.get("/api/2.0/preview/scim/v2/Me", "current-user.me",
            client_calls=("WorkspaceClient.current_user.me",))
def me(req: Request) -> dict:
    u = req.ws.user
    return {
        "id": u.id, "userName": u.user_name, "displayName": u.display_name, "active": True,
        "emails": [{"value": u.user_name, "primary": True, "type": "work"}],
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:workspace:2.0:User"],
    }


SERVICE = Service("iam", routes, description="Host metadata and the current user")
