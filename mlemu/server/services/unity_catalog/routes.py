"""Routes of the Unity Catalog namespace: ``/api/2.1/unity-catalog/catalogs|schemas|tables``
(databricks-sdk ``w.catalogs``, ``w.schemas``, ``w.tables``)."""
from __future__ import annotations

from mlemu.server.wire.service import Service
from mlemu.server.services.unity_catalog import wire
from mlemu.server.services.unity_catalog.paging import page_size, paginate
from mlemu.server.services.unity_catalog.state import UnityCatalog
from mlemu.server.wire.paging import page_body
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.services.unity_catalog import persist

routes = RouteTable("unity_catalog")

UC = "/api/2.1/unity-catalog"
#: Server-side page length for max_results=0 and the cap for larger values.
SERVER_PAGE = 1000


def _uc(req: Request) -> UnityCatalog:
    return req.ws.unity_catalog


def _page(req: Request, items: list, key: str, render) -> dict:  # type: ignore[no-untyped-def]
    size = page_size(req.args.max_results, unset=None, zero=SERVER_PAGE, cap=SERVER_PAGE)
    chunk, token = paginate(items, size, req.args.page_token)
    return page_body(key, [render(x) for x in chunk], token, keep_empty=True)


# -- catalogs ----------------------------------------------------------------------------

@routes.post(f"{UC}/catalogs", "catalogs.create", body=wire.CreateCatalog,
             client_calls=("WorkspaceClient.catalogs.create",))
def create_catalog(req: Request) -> dict:
    a = req.args
    uc = _uc(req)
    c = uc.create_catalog(a.name, comment=a.comment, properties=a.properties, storage_root=a.storage_root)
    return wire.catalog_info(c, uc)


@routes.get(f"{UC}/catalogs", "catalogs.list", body=wire.ListArgs,
            client_calls=("WorkspaceClient.catalogs.list",))
def list_catalogs(req: Request) -> dict:
    uc = _uc(req)
    return _page(req, uc.list_catalogs(), "catalogs", lambda c: wire.catalog_info(c, uc))


@routes.get(f"{UC}/catalogs/<name>", "catalogs.get",
            client_calls=("WorkspaceClient.catalogs.get",))
def get_catalog(req: Request, name: str) -> dict:
    uc = _uc(req)
    return wire.catalog_info(uc.get_catalog(name), uc)


@routes.patch(f"{UC}/catalogs/<name>", "catalogs.update", body=wire.UpdateCatalog,
              client_calls=("WorkspaceClient.catalogs.update",))
def update_catalog(req: Request, name: str) -> dict:
    a = req.args
    uc = _uc(req)
    c = uc.update_catalog(name, new_name=a.new_name, comment=a.comment, owner=a.owner,
                          properties=a.properties)
    return wire.catalog_info(c, uc)


@routes.delete(f"{UC}/catalogs/<name>", "catalogs.delete", body=wire.DeleteArgs,
               client_calls=("WorkspaceClient.catalogs.delete",))
def delete_catalog(req: Request, name: str) -> dict:
    _uc(req).delete_catalog(name, force=req.args.force)
    return {}


# -- schemas -----------------------------------------------------------------------------

@routes.post(f"{UC}/schemas", "schemas.create", body=wire.CreateSchema,
             client_calls=("WorkspaceClient.schemas.create",))
def create_schema(req: Request) -> dict:
    a = req.args
    uc = _uc(req)
    s = uc.create_schema(a.catalog_name, a.name, comment=a.comment, properties=a.properties,
                         storage_root=a.storage_root)
    return wire.schema_info(s, uc)


@routes.get(f"{UC}/schemas", "schemas.list", body=wire.ListSchemas,
            client_calls=("WorkspaceClient.schemas.list",))
def list_schemas(req: Request) -> dict:
    uc = _uc(req)
    return _page(req, uc.list_schemas(req.args.catalog_name), "schemas",
                 lambda s: wire.schema_info(s, uc))


@routes.get(f"{UC}/schemas/<full_name>", "schemas.get",
            client_calls=("WorkspaceClient.schemas.get",))
def get_schema(req: Request, full_name: str) -> dict:
    uc = _uc(req)
    return wire.schema_info(uc.get_schema(full_name), uc)


@routes.patch(f"{UC}/schemas/<full_name>", "schemas.update", body=wire.UpdateCatalog,
              client_calls=("WorkspaceClient.schemas.update",))
def update_schema(req: Request, full_name: str) -> dict:
    a = req.args
    uc = _uc(req)
    s = uc.update_schema(full_name, new_name=a.new_name, comment=a.comment, owner=a.owner,
                         properties=a.properties)
    return wire.schema_info(s, uc)


@routes.delete(f"{UC}/schemas/<full_name>", "schemas.delete", body=wire.DeleteArgs,
               client_calls=("WorkspaceClient.schemas.delete",))
def delete_schema(req: Request, full_name: str) -> dict:
    _uc(req).delete_schema(full_name, force=req.args.force)
    return {}


# -- tables ------------------------------------------------------------------------------

@routes.get(f"{UC}/tables", "tables.list", body=wire.ListTables,
            client_calls=("WorkspaceClient.tables.list",))
def list_tables(req: Request) -> dict:
    a = req.args
    uc = _uc(req)
    return _page(req, uc.list_tables(a.catalog_name, a.schema_name), "tables",
                 lambda t: wire.table_info(t, uc, omit_columns=a.omit_columns,
                                           omit_properties=a.omit_properties))


@routes.get(f"{UC}/tables/<full_name>", "tables.get", body=wire.GetTable,
            client_calls=("WorkspaceClient.tables.get",))
def get_table(req: Request, full_name: str) -> dict:
    uc = _uc(req)
    return wire.table_info(uc.get_table(full_name), uc, omit_columns=req.args.omit_columns)


@routes.get(f"{UC}/tables/<full_name>/exists", "tables.exists",
            client_calls=("WorkspaceClient.tables.exists",))
def table_exists(req: Request, full_name: str) -> dict:
    return {"table_exists": _uc(req).table_exists(full_name)}


@routes.patch(f"{UC}/tables/<full_name>", "tables.update", body=wire.UpdateTable,
              client_calls=("WorkspaceClient.tables.update",))
def update_table(req: Request, full_name: str) -> dict:
    _uc(req).update_table(full_name, owner=req.args.owner)
    return {}


@routes.get(f"{UC}/table-summaries", "tables.list_summaries", body=wire.TableSummariesArgs,
            client_calls=("WorkspaceClient.tables.list_summaries",))
def list_table_summaries(req: Request) -> dict:
    a = req.args
    found = _uc(req).table_summaries(a.catalog_name, a.schema_name_pattern, a.table_name_pattern)
    return _page(req, found, "tables", wire.table_summary)


@routes.delete(f"{UC}/tables/<full_name>", "tables.delete",
               client_calls=("WorkspaceClient.tables.delete",))
def delete_table(req: Request, full_name: str) -> dict:
    _uc(req).delete_table(full_name)
    return {}


SERVICE = Service("unity_catalog", routes, state=UnityCatalog, persist=persist,
                  description="Unity Catalog namespace: catalogs, schemas, tables")
