"""Routes of identity and discovery. The SDK probes ``/.well-known/databricks-config``
before nearly every mlflow call (no auth), so it is a static route with a tiny handler."""
from __future__ import annotations

from mlemu.server.wire.service import Service
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable

routes = RouteTable("iam")


@routes.get("/.well-known/databricks-config", "host-metadata", auth=False,
            client_calls=("databricks.sdk.Config() (host metadata probe)",))
def host_metadata(req: Request) -> dict:
    return {"workspace_id": req.ws.workspace_id, "cloud": "aws",
            "oidc_endpoint": f"{req.base_url}/oidc"}


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
