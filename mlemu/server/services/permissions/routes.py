"""Routes of the permissions API: get, set (PUT), update (PATCH) and permission levels."""
from __future__ import annotations

from mlemu.server.services.permissions import wire
from mlemu.server.services.permissions.state import Permissions
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.wire.service import Service

routes = RouteTable("permissions")
P = "/api/2.0/permissions/<object_type>/<object_id>"

_KINDS = ("w.experiments", "w.model_registry", "w.serving_endpoints", "w.warehouses", "w.workspace", "w.jobs")


def _calls(verb: str) -> tuple[str, ...]:
    return tuple(f"{k}.{verb}" for k in _KINDS) + (f"w.permissions.{verb.removesuffix('_permissions') or verb}",)


@routes.get(P, "get", client_calls=_calls("get_permissions"))
def get_permissions(req: Request, object_type: str, object_id: str) -> dict:
    perms: Permissions = req.ws.permissions
    return wire.permissions_out(perms.object_type(object_type), object_id, perms.grants(object_type, object_id))


@routes.put(P, "set", body=wire.AccessControlArgs, client_calls=_calls("set_permissions"))
def set_permissions(req: Request, object_type: str, object_id: str) -> dict:
    perms: Permissions = req.ws.permissions
    grants = perms.set(object_type, object_id, req.args.access_control_list)
    return wire.permissions_out(perms.object_type(object_type), object_id, grants)


@routes.patch(P, "update", body=wire.AccessControlArgs, client_calls=_calls("update_permissions"))
def update_permissions(req: Request, object_type: str, object_id: str) -> dict:
    perms: Permissions = req.ws.permissions
    grants = perms.update(object_type, object_id, req.args.access_control_list)
    return wire.permissions_out(perms.object_type(object_type), object_id, grants)


@routes.get(f"{P}/permissionLevels", "get_levels", client_calls=_calls("get_permission_levels"))
def get_permission_levels(req: Request, object_type: str, object_id: str) -> dict:
    perms: Permissions = req.ws.permissions
    return wire.levels_out(perms.existing(object_type, object_id))


SERVICE = Service("permissions", routes, state=Permissions,
                  description="Object permissions: experiments, registered models, serving endpoints, folders")
