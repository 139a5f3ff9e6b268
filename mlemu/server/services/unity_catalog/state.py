"""The Unity Catalog namespace of one workspace: catalogs, schemas, tables.

Other services place their securables in a schema (registered models: ``ws.registry``;
Python UDFs: ``ws.unity_catalog.functions``; later inference and prediction tables) and
register a :class:`SchemaContents` provider, so that "is this schema empty?" and "delete with
force" have one answer. Tables may carry a primary-key constraint (feature tables), NOT NULL
columns, partition columns, tags and their Delta history (``versions``).

A fresh workspace has catalog ``main`` with schema ``main.default`` (and, as every catalog,
the read-only ``information_schema``). Fixture helpers for tests (no HTTP):

    ws.unity_catalog.ensure_schema("catalog.schema")    # creates the catalog too
    ws.unity_catalog.put_table("main.default.t", df)    # a pandas frame as a UC table
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

from mlemu.server.core.errors import ApiError, already_exists, invalid, not_found
from mlemu.server.core.patterns import like_regex
from mlemu.server.services.unity_catalog import names
from mlemu.server.services.unity_catalog.functions import Functions

if TYPE_CHECKING:
    import pandas as pd

    from mlemu.server.core.workspace import WorkspaceState

DEFAULT_CATALOG = "main"
DEFAULT_SCHEMA = "default"
INFORMATION_SCHEMA = "information_schema"


class SchemaContents(Protocol):
    """Securables another service keeps inside schemas (e.g. registered models)."""

    kind: str  # plural, for messages: "registered model(s)"

    def names_in_schema(self, catalog: str, schema: str) -> list[str]: ...

    def drop_schema(self, catalog: str, schema: str) -> None: ...

    def rename_schema(self, old: tuple[str, str], new: tuple[str, str]) -> None: ...


@dataclass
class Audit:
    """Who/when fields every securable carries."""

    created_at: int
    created_by: str
    updated_at: int
    updated_by: str

    @classmethod
    def new(cls, ws: "WorkspaceState") -> "Audit":
        """Created and updated now, by the workspace's user."""
        now, user = ws.clock.now_ms(), ws.user.user_name
        return cls(now, user, now, user)

    def touch(self, ws: "WorkspaceState") -> None:
        self.updated_at, self.updated_by = ws.clock.now_ms(), ws.user.user_name


@dataclass
class Catalog:
    name: str
    id: str
    owner: str
    audit: Audit
    comment: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    storage_root: str | None = None


@dataclass
class Schema:
    catalog: str
    name: str
    id: str
    owner: str
    audit: Audit
    comment: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    storage_root: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.catalog}.{self.name}"

    @property
    def is_system(self) -> bool:
        return self.name == INFORMATION_SCHEMA


@dataclass
class Column:
    name: str
    type_name: str   # ColumnTypeName: LONG, DOUBLE, STRING...
    type_text: str   # SQL text: bigint, double, string...
    type_json: str   # Spark StructField JSON
    position: int
    nullable: bool = True
    partition_index: int | None = None


@dataclass
class PrimaryKey:
    """A table's ``PRIMARY KEY`` constraint (``ts TIMESERIES`` columns are listed in both)."""

    name: str
    child_columns: list[str]
    timeseries_columns: list[str] = field(default_factory=list)


@dataclass
class Table:
    """A managed table: its rows are a pandas frame. ``declared_columns`` fixes the UC schema
    (types pandas cannot express, e.g. MAP or DATE) instead of inferring it from the frame.
    Rows appended with :meth:`append_rows` are buffered and joined into ``frame`` on its next
    read, so a table written once per request (an inference table) costs O(1) per row."""

    catalog: str
    schema: str
    name: str
    id: str
    owner: str
    audit: Audit
    frame: "pd.DataFrame"
    table_type: str = "MANAGED"
    data_source_format: str = "DELTA"
    comment: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    storage_location: str = ""
    primary_key: PrimaryKey | None = None
    not_null: set[str] = field(default_factory=set)
    partition_columns: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    #: Delta history: (commit time in ms, the frame as of that commit), oldest first.
    versions: list[tuple[int, "pd.DataFrame"]] = field(default_factory=list)
    declared_columns: list[Column] | None = None

    @property
    def full_name(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.name}"

    @property
    def columns(self) -> list[Column]:
        cols = (list(self.declared_columns) if self.declared_columns is not None
                else columns_of(self.frame))
        for c in cols:
            c.nullable = c.name not in self.not_null
            if c.name in self.partition_columns:
                c.partition_index = self.partition_columns.index(c.name)
        return cols

    def append_rows(self, rows: list[dict[str, Any]]) -> None:
        """Buffer rows (dicts keyed by column name) for the frame's next read."""
        self.__dict__.setdefault("_pending_rows", []).extend(rows)


def _read_frame(table: Table) -> "pd.DataFrame":
    pending = table.__dict__.get("_pending_rows")
    if pending:
        import pandas as pd

        frame = table.__dict__["_frame"]
        added = pd.DataFrame(pending, columns=list(frame.columns))
        table.__dict__["_frame"] = added if frame.empty else pd.concat([frame, added], ignore_index=True)
        table.__dict__["_pending_rows"] = []
    return table.__dict__["_frame"]


def _write_frame(table: Table, frame: "pd.DataFrame") -> None:
    table.__dict__["_frame"] = frame
    table.__dict__["_pending_rows"] = []


# The dataclass' __init__ assigns ``frame`` through this property (buffered appends above).
Table.frame = property(_read_frame, _write_frame)  # type: ignore[assignment]


class UnityCatalog:
    """Catalogs, schemas and tables of the workspace's metastore."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self.metastore_id = ws.ids.uuid()
        self.storage_root = f"s3://mlemu-metastore-{ws.workspace_id}/{self.metastore_id}"
        self._catalogs: dict[str, Catalog] = {}
        self._schemas: dict[tuple[str, str], Schema] = {}
        self._tables: dict[tuple[str, str, str], Table] = {}
        self._contents: list[SchemaContents] = []
        self._functions: Functions | None = None
        self.create_catalog(DEFAULT_CATALOG, comment="Main catalog (auto-created)")

    @property
    def functions(self) -> Functions:
        """The metastore's Python UDFs (created on first use)."""
        if self._functions is None:
            self._functions = Functions(self._ws, self)
        return self._functions

    # -- providers -------------------------------------------------------------------------
    def register_contents(self, provider: SchemaContents) -> None:
        """Let another service's securables count as schema contents (delete/force/rename)."""
        if provider not in self._contents:
            self._contents.append(provider)

    # -- catalogs --------------------------------------------------------------------------
    def create_catalog(self, name: str, *, comment: str | None = None,
                       properties: dict[str, str] | None = None,
                       storage_root: str | None = None) -> Catalog:
        """Create a catalog with its ``default`` and ``information_schema`` schemas."""
        cname = names.identifier(name, "catalog")
        if cname in self._catalogs:
            raise already_exists(f"Catalog '{cname}' already exists.")
        catalog = Catalog(cname, self._ws.ids.uuid(), self._ws.user.user_name, Audit.new(self._ws), comment,
                          dict(properties or {}), storage_root)
        self._catalogs[cname] = catalog
        for s in (DEFAULT_SCHEMA, INFORMATION_SCHEMA):
            self._put_schema(cname, s, comment="Default schema (auto-created)" if s == DEFAULT_SCHEMA
                             else "Information schema (auto-created)")
        return catalog

    def get_catalog(self, name: str) -> Catalog:
        cname = names.identifier(name, "catalog")
        catalog = self._catalogs.get(cname)
        if catalog is None:
            raise not_found(f"Catalog '{cname}' does not exist.")
        return catalog

    def list_catalogs(self) -> list[Catalog]:
        return [self._catalogs[k] for k in sorted(self._catalogs)]

    def update_catalog(self, name: str, *, new_name: str | None = None, comment: str | None = None,
                       owner: str | None = None, properties: dict[str, str] | None = None) -> Catalog:
        catalog = self.get_catalog(name)
        target = names.identifier(new_name, "catalog") if new_name else catalog.name
        if target != catalog.name and target in self._catalogs:
            raise already_exists(f"Catalog '{target}' already exists.")
        if target != catalog.name:
            for s in [s for (c, s) in self._schemas if c == catalog.name]:
                self._move_schema((catalog.name, s), (target, s))
            del self._catalogs[catalog.name]
            catalog.name = target
            self._catalogs[target] = catalog
        self._apply(catalog, comment, owner, properties)
        return catalog

    def delete_catalog(self, name: str, force: bool = False) -> None:
        """Refuse a non-empty catalog unless ``force``. ``information_schema`` and an empty
        ``default`` schema do not count as contents [emu: lenient reading of RESTRICT]."""
        catalog = self.get_catalog(name)
        schemas = [s for (c, _), s in sorted(self._schemas.items()) if c == catalog.name]
        blocking = [s for s in schemas if not s.is_system
                    and (s.name != DEFAULT_SCHEMA or self._schema_contents(s))]
        if blocking and not force:
            raise ApiError("CATALOG_NOT_EMPTY",
                           f"Catalog '{catalog.name}' is not empty. The catalog has "
                           f"{len(blocking)} schema(s): {', '.join(s.name for s in blocking)}. "
                           "Use force=true to delete it with its contents.", 400)
        for s in schemas:
            self._drop_schema(s)
        del self._catalogs[catalog.name]

    # -- schemas ---------------------------------------------------------------------------
    def create_schema(self, catalog: str, name: str, *, comment: str | None = None,
                      properties: dict[str, str] | None = None,
                      storage_root: str | None = None) -> Schema:
        cat = self.get_catalog(catalog)
        sname = names.identifier(name, "schema")
        if (cat.name, sname) in self._schemas:
            raise already_exists(f"Schema '{cat.name}.{sname}' already exists.")
        return self._put_schema(cat.name, sname, comment=comment, properties=properties,
                                storage_root=storage_root)

    def get_schema(self, full_name: str) -> Schema:
        catalog, schema = names.schema_name(full_name)
        return self.require_schema(catalog, schema)

    def require_schema(self, catalog: str, schema: str) -> Schema:
        """The schema, or RESOURCE_DOES_NOT_EXIST naming the first missing level."""
        cat = self.get_catalog(catalog)
        s = self._schemas.get((cat.name, names.identifier(schema, "schema")))
        if s is None:
            raise not_found(f"Schema '{cat.name}.{schema.lower()}' does not exist.")
        return s

    def require_writable_schema(self, catalog: str, schema: str, kind: str) -> Schema:
        """Like :meth:`require_schema`, and refuse creating objects in a system schema."""
        s = self.require_schema(catalog, schema)
        if s.is_system:
            raise ApiError("PERMISSION_DENIED",
                           f"Cannot create {kind} in system schema '{s.full_name}'.", 403)
        return s

    def list_schemas(self, catalog: str) -> list[Schema]:
        cat = self.get_catalog(catalog)
        return [s for (c, _), s in sorted(self._schemas.items()) if c == cat.name]

    def update_schema(self, full_name: str, *, new_name: str | None = None, comment: str | None = None,
                      owner: str | None = None, properties: dict[str, str] | None = None) -> Schema:
        schema = self.get_schema(full_name)
        if new_name:
            target = names.identifier(new_name, "schema")
            if target != schema.name:
                if schema.is_system:
                    raise invalid(f"Cannot rename the system schema '{schema.full_name}'.")
                if (schema.catalog, target) in self._schemas:
                    raise already_exists(f"Schema '{schema.catalog}.{target}' already exists.")
                self._move_schema((schema.catalog, schema.name), (schema.catalog, target))
        self._apply(schema, comment, owner, properties)
        return schema

    def delete_schema(self, full_name: str, force: bool = False) -> None:
        """A schema holding tables or registered models is refused unless ``force``."""
        schema = self.get_schema(full_name)
        if schema.is_system:
            raise invalid(f"Cannot delete the system schema '{schema.full_name}'.")
        contents = self._schema_contents(schema)
        if contents and not force:
            summary = ", ".join(f"{n} {kind}" for kind, n in contents)
            raise ApiError("SCHEMA_NOT_EMPTY",
                           f"Schema '{schema.full_name}' is not empty. The schema has {summary}. "
                           "Use force=true to delete it with its contents.", 400)
        self._drop_schema(schema)

    def ensure_schema(self, full_name: str, *, comment: str | None = None) -> Schema:
        """Fixture helper: make ``catalog.schema`` exist (catalog included); idempotent."""
        catalog, schema = names.schema_name(full_name)
        if catalog not in self._catalogs:
            self.create_catalog(catalog)
        existing = self._schemas.get((catalog, schema))
        return existing or self.create_schema(catalog, schema, comment=comment)

    # -- tables ----------------------------------------------------------------------------
    def put_table(self, full_name: str, frame: "pd.DataFrame", *, mode: str = "error",
                  comment: str | None = None, properties: dict[str, str] | None = None,
                  columns: list[Column] | None = None) -> Table:
        """Create (``mode="error"``) or replace (``mode="overwrite"``) a managed table
        holding a copy of ``frame``. The catalog and schema must exist. ``columns`` declares
        the UC schema (otherwise it is inferred from the frame's dtypes)."""
        if mode not in ("error", "overwrite"):
            raise ValueError(f"mode must be 'error' or 'overwrite', not {mode!r}")
        fn = names.three_level(full_name, "table")
        self.require_writable_schema(fn.catalog, fn.schema, "tables")
        existing = self._tables.get(tuple(fn))
        if existing is not None and mode == "error":
            raise already_exists(f"Table '{fn}' already exists.")
        copy = frame.copy(deep=True)
        if existing is not None:
            existing.frame = copy
            if columns is not None:
                existing.declared_columns = list(columns)
            existing.comment = comment if comment is not None else existing.comment
            existing.properties.update(properties or {})
            existing.audit.touch(self._ws)
            existing.versions.append((self._ws.clock.now_ms(), copy))
            return existing
        table_id = self._ws.ids.uuid()
        table = Table(fn.catalog, fn.schema, fn.name, table_id, self._ws.user.user_name, Audit.new(self._ws), copy,
                      comment=comment, properties=dict(properties or {}),
                      storage_location=f"{self.storage_root}/tables/{table_id}",
                      declared_columns=list(columns) if columns is not None else None)
        table.versions.append((table.audit.created_at, copy))
        self._tables[tuple(fn)] = table
        return table

    def get_table(self, full_name: str) -> Table:
        fn = names.three_level(full_name, "table")
        self.require_schema(fn.catalog, fn.schema)
        table = self._tables.get(tuple(fn))
        if table is None:
            raise not_found(f"Table '{fn}' does not exist.")
        return table

    def table_exists(self, full_name: str) -> bool:
        fn = names.three_level(full_name, "table")
        return tuple(fn) in self._tables

    def read_table(self, full_name: str) -> "pd.DataFrame":
        """A copy of the table's frame (mutating it leaves the table unchanged)."""
        return self.get_table(full_name).frame.copy(deep=True)

    def set_primary_key(self, full_name: str, columns: list[str], *,
                        timeseries: list[str] | None = None, not_null: bool = True) -> Table:
        """``ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY(pk..., ts TIMESERIES)``; key columns
        become ``NOT NULL`` unless ``not_null=False`` (tables outside UC enforce nothing)."""
        table = self.get_table(full_name)
        missing = [c for c in columns if c not in table.frame.columns]
        if missing:
            raise invalid(f"Column(s) {', '.join(missing)} do not exist in table '{table.full_name}'.")
        if table.primary_key is not None:
            raise already_exists(f"Table '{table.full_name}' already has a primary key constraint.")
        table.primary_key = PrimaryKey(f"{table.name}_pk", list(columns), list(timeseries or []))
        if not_null:
            table.not_null.update(columns)
        table.audit.touch(self._ws)
        return table

    def set_table_tag(self, full_name: str, key: str, value: str = "") -> None:
        """``ALTER TABLE t SET TAGS ('key' = 'value')``; UC tags may be key-only."""
        self.get_table(full_name).tags[key] = value

    def unset_table_tag(self, full_name: str, key: str) -> None:
        """``ALTER TABLE t UNSET TAGS ('key')``; unsetting an absent tag is a no-op."""
        self.get_table(full_name).tags.pop(key, None)

    def read_table_as_of(self, full_name: str, timestamp_ms: int) -> "pd.DataFrame":
        """Delta time travel (``timestampAsOf``): the latest version committed at or before
        ``timestamp_ms``; a time outside the history is refused with Delta's messages."""
        table = self.get_table(full_name)
        first, last = table.versions[0][0], table.versions[-1][0]
        if timestamp_ms < first:
            raise invalid(f"The provided timestamp ({_ts(timestamp_ms)}) is before the earliest version available "
                          f"to this table ({_ts(first)}). Please use a timestamp after {_ts(first)}.")
        if timestamp_ms > self._ws.clock.now_ms():
            raise invalid(f"The provided timestamp ({_ts(timestamp_ms)}) is after the latest version available to "
                          f"this table ({_ts(last)}). Please use a timestamp before or at {_ts(last)}.")
        frame = next(f for t, f in reversed(table.versions) if t <= timestamp_ms)
        return frame.copy(deep=True)

    def list_tables(self, catalog: str, schema: str) -> list[Table]:
        s = self.require_schema(catalog, schema)
        return [t for (c, sc, _), t in sorted(self._tables.items()) if (c, sc) == (s.catalog, s.name)]

    def update_table(self, full_name: str, *, owner: str | None = None) -> Table:
        """``PATCH tables/{full_name}``: the one field Databricks lets this call change."""
        table = self.get_table(full_name)
        self._apply(table, None, owner, None)
        return table

    def table_summaries(self, catalog: str, schema_pattern: str | None = None,
                        table_pattern: str | None = None) -> list[Table]:
        """Tables of a catalog whose schema and table names match SQL ``LIKE`` patterns
        (``%`` and ``_``; empty or unset matches all), ordered by full name."""
        self.get_catalog(catalog)
        schema_like, table_like = _like(schema_pattern), _like(table_pattern)
        out = [t for schema in self.list_schemas(catalog) if schema_like(schema.name)
               for t in self.list_tables(catalog, schema.name) if table_like(t.name)]
        return sorted(out, key=lambda t: t.full_name)

    def delete_table(self, full_name: str) -> None:
        table = self.get_table(full_name)
        del self._tables[(table.catalog, table.schema, table.name)]

    # -- helpers ---------------------------------------------------------------------------
    def _put_schema(self, catalog: str, name: str, *, comment: str | None = None,
                    properties: dict[str, str] | None = None, storage_root: str | None = None) -> Schema:
        schema = Schema(catalog, name, self._ws.ids.uuid(), self._ws.user.user_name, Audit.new(self._ws), comment,
                        dict(properties or {}), storage_root)
        self._schemas[(catalog, name)] = schema
        return schema

    def _schema_contents(self, schema: Schema) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        n_tables = sum(1 for (c, s, _) in self._tables if (c, s) == (schema.catalog, schema.name))
        if n_tables:
            out.append(("table(s)", n_tables))
        for p in self._contents:
            n = len(p.names_in_schema(schema.catalog, schema.name))
            if n:
                out.append((p.kind, n))
        return out

    def _drop_schema(self, schema: Schema) -> None:
        for p in self._contents:
            p.drop_schema(schema.catalog, schema.name)
        for key in [k for k in self._tables if k[:2] == (schema.catalog, schema.name)]:
            del self._tables[key]
        del self._schemas[(schema.catalog, schema.name)]

    def _move_schema(self, old: tuple[str, str], new: tuple[str, str]) -> None:
        schema = self._schemas.pop(old)
        schema.catalog, schema.name = new
        self._schemas[new] = schema
        for key in [k for k in self._tables if k[:2] == old]:
            table = self._tables.pop(key)
            table.catalog, table.schema = new
            self._tables[(*new, table.name)] = table
        for p in self._contents:
            p.rename_schema(old, new)

    def _apply(self, obj: Any, comment: str | None, owner: str | None,
               properties: dict[str, str] | None) -> None:
        if comment is not None:
            obj.comment = comment
        if owner is not None:
            obj.owner = owner
        if properties is not None:
            obj.properties.update(properties)
        obj.audit.touch(self._ws)



def _like(pattern: str | None) -> Callable[[str], bool]:
    """A SQL ``LIKE`` matcher (``%`` any run, ``_`` one character; case-insensitive, as UC
    names are lower case)."""
    if not pattern:
        return lambda name: True
    regex = like_regex(pattern, ignore_case=True)
    return lambda name: regex.fullmatch(name) is not None


def _ts(ms: int) -> str:
    """A commit time as Spark prints a timestamp (UTC)."""
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


# -- pandas -> UC column types -------------------------------------------------------------

def columns_of(frame: "pd.DataFrame") -> list[Column]:
    """UC column descriptions of a frame's columns (pandas is imported lazily)."""
    import json

    from pandas.api import types as pt

    cols = []
    for i, (name, dtype) in enumerate(frame.dtypes.items()):
        if pt.is_bool_dtype(dtype):
            tn, text, spark = "BOOLEAN", "boolean", "boolean"
        elif pt.is_integer_dtype(dtype):
            size = getattr(dtype, "itemsize", 8)
            tn, text, spark = {1: ("BYTE", "tinyint", "byte"), 2: ("SHORT", "smallint", "short"),
                               4: ("INT", "int", "integer")}.get(size, ("LONG", "bigint", "long"))
        elif pt.is_float_dtype(dtype):
            tn, text, spark = (("FLOAT", "float", "float") if getattr(dtype, "itemsize", 8) == 4
                               else ("DOUBLE", "double", "double"))
        elif pt.is_datetime64_any_dtype(dtype):
            tn, text, spark = "TIMESTAMP", "timestamp", "timestamp"
        else:
            tn, text, spark = "STRING", "string", "string"
        type_json = json.dumps({"name": str(name), "type": spark, "nullable": True, "metadata": {}})
        cols.append(Column(str(name), tn, text, type_json, i))
    return cols


#: SQL type text -> (UC ColumnTypeName, Spark JSON type) for declared schemas.
_SQL_TYPES: dict[str, tuple[str, Any]] = {
    "string": ("STRING", "string"), "int": ("INT", "integer"), "bigint": ("LONG", "long"),
    "double": ("DOUBLE", "double"), "float": ("FLOAT", "float"), "boolean": ("BOOLEAN", "boolean"),
    "date": ("DATE", "date"), "timestamp": ("TIMESTAMP", "timestamp"),
    "array<string>": ("ARRAY", {"type": "array", "elementType": "string", "containsNull": True}),
    "map<string,string>": ("MAP", {"type": "map", "keyType": "string", "valueType": "string",
                                   "valueContainsNull": True}),
}


def declared_columns(schema: list[tuple[str, str]]) -> list[Column]:
    """UC columns from ``[(name, sql type text), ...]`` (the types in :data:`_SQL_TYPES`)."""
    import json

    out = []
    for i, (name, text) in enumerate(schema):
        type_name, spark = _SQL_TYPES[text]
        type_json = json.dumps({"name": name, "type": spark, "nullable": True, "metadata": {}})
        out.append(Column(name, type_name, text, type_json, i))
    return out
