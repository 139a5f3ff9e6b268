"""Wire shapes of the permissions API: the access-control request and the ``*Permissions`` answer
every object type shares."""
from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs
from mlemu.server.services.permissions.state import Grant, ObjectType


class AccessControlArgs(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    access_control_list: list[dict[str, Any]] = []


def permissions_out(t: ObjectType, object_id: str, grants: list[Grant]) -> dict[str, Any]:
    """``{object_id, object_type, access_control_list}``: direct grants, then the ``admins``
    group's inherited ``CAN_MANAGE`` (from the root of the object type)."""
    acl: list[dict[str, Any]] = []
    for g in grants:
        entry: dict[str, Any] = {g.kind: g.name}
        if g.kind == "user_name":
            entry["display_name"] = g.name.split("@")[0]
        entry["all_permissions"] = [{"permission_level": g.level, "inherited": False}]
        acl.append(entry)
    acl.append({"group_name": "admins", "all_permissions": [
        {"permission_level": "CAN_MANAGE", "inherited": True,
         "inherited_from_object": [f"/{t.segment}/"]}]})
    return {"object_id": f"/{t.segment}/{object_id}", "object_type": t.wire_type,
            "access_control_list": acl}


def levels_out(t: ObjectType) -> dict[str, Any]:
    return {"permission_levels": [{"permission_level": level, "description": text}
                                  for level, text in t.levels.items()]}
