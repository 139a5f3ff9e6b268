"""Access-control lists per workspace object (experiments, workspace-registry models, serving
endpoints, SQL warehouses, jobs, folders, notebooks): who holds which permission level.

The rules are Databricks': each object type has its own levels; ``set`` replaces the direct
grants, ``update`` adds or changes them; the workspace ``admins`` group always holds
``CAN_MANAGE``, inherited. The creator of an object holds ``CAN_MANAGE`` until a ``set``
replaces it. mlemu has one user, so grants are recorded and answered, never enforced.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from mlemu.server.core.errors import invalid, not_found

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

PRINCIPAL_KINDS = ("user_name", "group_name", "service_principal_name")


@dataclass(frozen=True)
class ObjectType:
    """One kind of object the permissions API covers (the path segment names it)."""

    segment: str                 # /api/2.0/permissions/<segment>/<id>
    wire_type: str               # "object_type" in answers
    levels: dict[str, str]       # level -> description, in the order the API lists them
    exists: Callable[["WorkspaceState", str], None]  # raises RESOURCE_DOES_NOT_EXIST


def _experiment(ws: "WorkspaceState", object_id: str) -> None:
    ws.tracking.get_experiment(object_id)


def _registered_model(ws: "WorkspaceState", object_id: str) -> None:
    if not any(m.id == object_id for m in ws.workspace_registry.list_models()):
        raise not_found(f"Registered model with id '{object_id}' does not exist.")


def _serving_endpoint(ws: "WorkspaceState", object_id: str) -> None:
    if not any(ep.id == object_id for ep in ws.serving.list()):
        raise not_found(f"Serving endpoint with id '{object_id}' does not exist.")


def _warehouse(ws: "WorkspaceState", object_id: str) -> None:
    ws.sql.get_warehouse(object_id)


def _job(ws: "WorkspaceState", object_id: str) -> None:
    if not (object_id.isdigit() and int(object_id) in ws.jobs.jobs):
        raise invalid(f"Job {object_id} does not exist.")


def _workspace_object(kind: str) -> Callable[["WorkspaceState", str], None]:
    def exists(ws: "WorkspaceState", object_id: str) -> None:
        obj = ws.workspace_files.by_id(object_id)
        if obj is None or obj.object_type != kind:
            raise not_found(f"{kind.capitalize()} {object_id} does not exist.")
    return exists


_WORKSPACE_LEVELS = {"CAN_MANAGE": "Can manage the object", "CAN_EDIT": "Can edit the object",
                     "CAN_RUN": "Can run the object", "CAN_READ": "Can read the object"}

OBJECT_TYPES: dict[str, ObjectType] = {t.segment: t for t in (
    ObjectType("experiments", "mlflowExperiment",
               {"CAN_MANAGE": "Can manage the experiment", "CAN_EDIT": "Can edit the experiment",
                "CAN_READ": "Can read the experiment"}, _experiment),
    ObjectType("registered-models", "registered-model",
               {"CAN_MANAGE": "Can manage the registered model",
                "CAN_MANAGE_PRODUCTION_VERSIONS": "Can manage production versions",
                "CAN_MANAGE_STAGING_VERSIONS": "Can manage staging versions",
                "CAN_EDIT": "Can edit the registered model",
                "CAN_READ": "Can read the registered model"}, _registered_model),
    ObjectType("serving-endpoints", "serving-endpoint",
               {"CAN_MANAGE": "Can manage the endpoint", "CAN_QUERY": "Can query the endpoint",
                "CAN_VIEW": "Can view the endpoint"}, _serving_endpoint),
    ObjectType("warehouses", "warehouses",
               {"IS_OWNER": "Is the owner of the warehouse", "CAN_MANAGE": "Can manage the warehouse",
                "CAN_MONITOR": "Can monitor the warehouse's queries", "CAN_USE": "Can use the warehouse",
                "CAN_VIEW": "Can view the warehouse"}, _warehouse),
    ObjectType("jobs", "job",
               {"IS_OWNER": "Is the owner of the job", "CAN_MANAGE": "Can manage the job",
                "CAN_MANAGE_RUN": "Can manage runs of the job", "CAN_VIEW": "Can view the job"}, _job),
    ObjectType("directories", "directory", _WORKSPACE_LEVELS, _workspace_object("DIRECTORY")),
    ObjectType("notebooks", "notebook", _WORKSPACE_LEVELS, _workspace_object("NOTEBOOK")),
)}


@dataclass(frozen=True)
class Grant:
    """A direct grant: one principal (kind and name) and one level."""

    kind: str
    name: str
    level: str


class Permissions:
    """Direct grants per ``(segment, object_id)``; objects never touched have the default ACL."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._grants: dict[tuple[str, str], list[Grant]] = {}

    def object_type(self, segment: str) -> ObjectType:
        t = OBJECT_TYPES.get(segment)
        if t is None:
            raise invalid(f"Object type '{segment}' is not supported. Supported types: "
                          f"{', '.join(OBJECT_TYPES)}.")
        return t

    def existing(self, segment: str, object_id: str) -> ObjectType:
        """The object's type, once the object is known to exist (RESOURCE_DOES_NOT_EXIST otherwise)."""
        t = self.object_type(segment)
        t.exists(self._ws, object_id)
        return t

    def grants(self, segment: str, object_id: str) -> list[Grant]:
        """The direct grants of an existing object (the creator's CAN_MANAGE by default)."""
        self.existing(segment, object_id)
        found = self._grants.get((segment, object_id))
        if found is None:
            return [Grant("user_name", self._ws.user.user_name, "CAN_MANAGE")]
        return list(found)

    def set(self, segment: str, object_id: str, acl: list[dict[str, Any]]) -> list[Grant]:
        """Replace the direct grants (an empty list removes them all)."""
        new = self._parse(self.existing(segment, object_id), acl)
        self._grants[(segment, object_id)] = _merge([], new)
        return self.grants(segment, object_id)

    def update(self, segment: str, object_id: str, acl: list[dict[str, Any]]) -> list[Grant]:
        """Add grants, or change the level of principals already granted."""
        current = self.grants(segment, object_id)
        new = self._parse(self.object_type(segment), acl)
        self._grants[(segment, object_id)] = _merge(current, new)
        return self.grants(segment, object_id)

    @staticmethod
    def _parse(t: ObjectType, acl: list[dict[str, Any]]) -> list[Grant]:
        """Validate every entry before anything is written."""
        out = []
        for i, entry in enumerate(acl):
            named = [k for k in PRINCIPAL_KINDS if entry.get(k)]
            if len(named) != 1:
                raise invalid(f"access_control_list[{i}]: exactly one of user_name, group_name or "
                              "service_principal_name must be set.")
            level = entry.get("permission_level")
            if not level:
                raise invalid(f"Missing value for required parameter 'access_control_list[{i}].permission_level'.")
            if level not in t.levels:
                raise invalid(f"Permission level {level} is not supported for {t.wire_type} objects. "
                              f"Supported levels: {', '.join(t.levels)}.")
            out.append(Grant(named[0], str(entry[named[0]]), level))
        return out


def _merge(current: list[Grant], new: list[Grant]) -> list[Grant]:
    """One grant per principal; a later grant for the same principal replaces its level."""
    by_principal: dict[tuple[str, str], Grant] = {(g.kind, g.name): g for g in current}
    for g in new:
        by_principal[(g.kind, g.name)] = g
    return list(by_principal.values())
