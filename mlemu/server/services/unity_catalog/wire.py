"""Request models and response shapes of ``/api/2.1/unity-catalog/catalogs|schemas|tables``
(databricks-sdk ``CatalogInfo``, ``SchemaInfo``, ``TableInfo``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs

if TYPE_CHECKING:
    from mlemu.server.services.unity_catalog.state import Catalog, Schema, Table, UnityCatalog


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class CreateCatalog(_Args):
    name: str
    comment: Optional[str] = None
    properties: Optional[dict[str, str]] = None
    storage_root: Optional[str] = None


class UpdateCatalog(_Args):
    new_name: Optional[str] = None
    comment: Optional[str] = None
    owner: Optional[str] = None
    properties: Optional[dict[str, str]] = None


class ListArgs(_Args):
    max_results: Optional[int] = None
    page_token: Optional[str] = None


class DeleteArgs(_Args):
    force: bool = False


class CreateSchema(_Args):
    name: str
    catalog_name: str
    comment: Optional[str] = None
    properties: Optional[dict[str, str]] = None
    storage_root: Optional[str] = None


class ListSchemas(ListArgs):
    catalog_name: str


class ListTables(ListArgs):
    catalog_name: str
    schema_name: str
    omit_columns: bool = False
    omit_properties: bool = False


class UpdateTable(_Args):
    owner: Optional[str] = None


class TableSummariesArgs(ListArgs):
    catalog_name: str
    schema_name_pattern: Optional[str] = None
    table_name_pattern: Optional[str] = None


def table_summary(t: "Table") -> dict[str, Any]:
    return {"full_name": t.full_name, "table_type": t.table_type}


class GetTable(_Args):
    omit_columns: bool = False


# -- response shapes ---------------------------------------------------------------------

def _audit(obj: Any) -> dict[str, Any]:
    a = obj.audit
    return {"created_at": a.created_at, "created_by": a.created_by,
            "updated_at": a.updated_at, "updated_by": a.updated_by}


def _opt(out: dict[str, Any], **fields: Any) -> dict[str, Any]:
    out.update({k: v for k, v in fields.items() if v not in (None, {}, "")})
    return out


def catalog_info(c: "Catalog", uc: "UnityCatalog") -> dict[str, Any]:
    out = {"name": c.name, "full_name": c.name, "catalog_type": "MANAGED_CATALOG",
           "owner": c.owner, "metastore_id": uc.metastore_id, "securable_type": "CATALOG",
           "isolation_mode": "OPEN", "browse_only": False, "id": c.id, **_audit(c),
           "storage_location": c.storage_root or f"{uc.storage_root}/catalogs/{c.id}"}
    return _opt(out, comment=c.comment, properties=c.properties, storage_root=c.storage_root)


def schema_info(s: "Schema", uc: "UnityCatalog") -> dict[str, Any]:
    out = {"name": s.name, "catalog_name": s.catalog, "full_name": s.full_name,
           "catalog_type": "MANAGED_CATALOG", "owner": s.owner if not s.is_system else "System user",
           "metastore_id": uc.metastore_id, "schema_id": s.id, "browse_only": False, **_audit(s)}
    return _opt(out, comment=s.comment, properties=s.properties, storage_root=s.storage_root)


def table_info(t: "Table", uc: "UnityCatalog", *, omit_columns: bool = False,
               omit_properties: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": t.name, "catalog_name": t.catalog, "schema_name": t.schema, "full_name": t.full_name,
        "table_type": t.table_type, "data_source_format": t.data_source_format, "table_id": t.id,
        "owner": t.owner, "metastore_id": uc.metastore_id, "storage_location": t.storage_location,
        "browse_only": False, **_audit(t)}
    if not omit_columns:
        out["columns"] = [_opt({"name": c.name, "type_name": c.type_name, "type_text": c.type_text,
                                "type_json": c.type_json, "position": c.position, "nullable": c.nullable},
                               partition_index=c.partition_index)
                          for c in t.columns]
    if t.primary_key is not None:
        pk = t.primary_key
        out["table_constraints"] = [{"primary_key_constraint": _opt(
            {"name": pk.name, "child_columns": list(pk.child_columns)},
            timeseries_columns=list(pk.timeseries_columns) or None)}]
    if not omit_properties and t.properties:
        out["properties"] = dict(t.properties)
    return _opt(out, comment=t.comment)
