"""Request models and response shapes of ``/api/2.0/sql/warehouses``, ``/api/2.0/sql/statements``
and ``/api/2.0/sql/sessions`` (databricks-sdk ``GetWarehouseResponse``, ``StatementResponse``,
``ResultData``; databricks-sql-connector's SEA backend)."""
from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any, Optional

from pydantic import ConfigDict, Field

from mlemu.server.wire.fields import WireArgs
from mlemu.server.services.sql.types import SparkType, value_text

if TYPE_CHECKING:
    from mlemu.server.services.sql.state import Statement, Warehouse

STATEMENTS = "/api/2.0/sql/statements"


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class WarehouseFields(_Args):
    name: Optional[str] = None
    cluster_size: Optional[str] = None
    min_num_clusters: Optional[int] = None
    max_num_clusters: Optional[int] = None
    auto_stop_mins: Optional[int] = None
    creator_name: Optional[str] = None
    enable_photon: Optional[bool] = None
    enable_serverless_compute: Optional[bool] = None
    warehouse_type: Optional[str] = None
    spot_instance_policy: Optional[str] = None
    channel: Optional[dict[str, Any]] = None
    tags: Optional[dict[str, Any]] = None
    statement_timeout: Optional[int] = None

    def fields(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ListWarehouses(_Args):
    page_size: Optional[int] = None
    page_token: Optional[str] = None


class Parameter(_Args):
    name: str
    value: Optional[str] = None
    type: Optional[str] = None


class ExecuteStatement(_Args):
    statement: str
    warehouse_id: str
    wait_timeout: Optional[str] = None
    disposition: Optional[str] = None
    format: Optional[str] = None
    row_limit: Optional[int] = None
    byte_limit: Optional[int] = None
    catalog: Optional[str] = None
    schema_: Optional[str] = Field(None, alias="schema")
    on_wait_timeout: Optional[str] = None
    parameters: Optional[list[Parameter]] = None
    session_id: Optional[str] = None
    result_compression: Optional[str] = None

    model_config = ConfigDict(extra="ignore", defer_build=True, populate_by_name=True)


class CreateSession(_Args):
    warehouse_id: str
    catalog: Optional[str] = None
    schema_: Optional[str] = Field(None, alias="schema")
    session_confs: Optional[dict[str, Any]] = None

    model_config = ConfigDict(extra="ignore", defer_build=True, populate_by_name=True)


# -- warehouses ----------------------------------------------------------------------------

def warehouse_info(wh: "Warehouse", host: str) -> dict[str, Any]:
    hostname = host.split("://", 1)[-1].rstrip("/")
    path = f"/sql/1.0/warehouses/{wh.id}"
    out: dict[str, Any] = {
        "id": wh.id, "name": wh.name, "cluster_size": wh.cluster_size, "creator_name": wh.creator_name,
        "min_num_clusters": wh.min_num_clusters, "max_num_clusters": wh.max_num_clusters,
        "auto_stop_mins": wh.auto_stop_mins, "enable_photon": wh.enable_photon,
        "enable_serverless_compute": wh.enable_serverless_compute, "warehouse_type": wh.warehouse_type,
        "spot_instance_policy": wh.spot_instance_policy, "state": wh.state,
        "num_clusters": 1 if wh.state == "RUNNING" else 0, "num_active_sessions": 0,
        "jdbc_url": f"jdbc:spark://{hostname}:443/default;transportMode=http;ssl=1;AuthMech=3;httpPath={path};",
        "odbc_params": {"hostname": hostname, "path": path, "protocol": "https", "port": 443},
        "health": {"status": "HEALTHY"} if wh.state == "RUNNING" else {},
        "channel": wh.channel or {"name": "CHANNEL_NAME_CURRENT"},
        "tags": wh.tags or {},
    }
    if wh.statement_timeout is not None:
        out["statement_timeout"] = wh.statement_timeout
    return out


# -- statements ----------------------------------------------------------------------------

def column_info(name: str, t: SparkType, position: int) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "position": position, "type_name": t.type_name, "type_text": t.type_text}
    if t.precision is not None:
        out["type_precision"], out["type_scale"] = t.precision, t.scale
    return out


def manifest(st: "Statement", byte_counts: dict[int, int] | None = None) -> dict[str, Any]:
    assert st.result is not None
    columns = [column_info(n, t, i) for i, (n, t) in enumerate(st.result.columns)]
    chunks = []
    for index, (offset, count) in enumerate(st.chunk_bounds()):
        chunk: dict[str, Any] = {"chunk_index": index, "row_offset": offset, "row_count": count}
        if byte_counts is not None and index in byte_counts:
            chunk["byte_count"] = byte_counts[index]
        chunks.append(chunk)
    return {"format": st.format, "schema": {"column_count": len(columns), "columns": columns},
            "total_chunk_count": len(chunks), "chunks": chunks, "total_row_count": st.row_count,
            "truncated": st.truncated}


def chunk_rows(st: "Statement", index: int) -> list[tuple[Any, ...]]:
    assert st.result is not None
    offset, count = st.chunk_bounds()[index]
    return st.result.rows[offset: offset + count]


def data_array(st: "Statement", index: int) -> list[list[str | None]]:
    return [[value_text(v) for v in row] for row in chunk_rows(st, index)]


def _next(st: "Statement", index: int) -> dict[str, Any]:
    if index + 1 < len(st.chunk_bounds()):
        return {"next_chunk_index": index + 1,
                "next_chunk_internal_link": f"{STATEMENTS}/{st.id}/result/chunks/{index + 1}"}
    return {}


def inline_chunk(st: "Statement", index: int) -> dict[str, Any]:
    offset, count = st.chunk_bounds()[index]
    out: dict[str, Any] = {"chunk_index": index, "row_offset": offset, "row_count": count}
    if count:
        out["data_array"] = data_array(st, index)
    out.update(_next(st, index))
    return out


def link_chunk(st: "Statement", index: int, url: str, byte_count: int, expiration: str) -> dict[str, Any]:
    offset, count = st.chunk_bounds()[index]
    link: dict[str, Any] = {"chunk_index": index, "row_offset": offset, "row_count": count,
                            "byte_count": byte_count, "external_link": url, "expiration": expiration}
    link.update(_next(st, index))
    return {"external_links": [link]}


def chunk_bytes(st: "Statement", index: int) -> bytes:
    """The bytes behind an external link, in the statement's format."""
    assert st.result is not None
    if st.format == "JSON_ARRAY":
        return json.dumps(data_array(st, index), separators=(",", ":")).encode()
    if st.format == "CSV":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerows([["" if v is None else v for v in row] for row in data_array(st, index)])
        return buf.getvalue().encode()
    return _arrow_stream(st.result.columns, chunk_rows(st, index))


def _arrow_stream(columns: list[tuple[str, SparkType]], rows: list[tuple[Any, ...]]) -> bytes:
    """An Arrow IPC stream of the rows; complex values travel as JSON text, as Databricks sends
    them unless the client asks for native complex types."""
    import pyarrow as pa

    arrays, fields = [], []
    for i, (name, t) in enumerate(columns):
        values = [r[i] for r in rows]
        arrow_type = _arrow_type(t)
        if arrow_type is None:
            arrow_type, values = pa.string(), [value_text(v) for v in values]
        arrays.append(pa.array(values, type=arrow_type))
        fields.append(pa.field(name, arrow_type))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _arrow_type(t: SparkType) -> Any:
    """The Arrow type of a scalar Spark type (None: sent as text)."""
    import pyarrow as pa

    if t.type_name == "DECIMAL":
        return pa.decimal128(t.precision or 38, t.scale or 0)
    return {"BOOLEAN": pa.bool_(), "BYTE": pa.int8(), "SHORT": pa.int16(), "INT": pa.int32(), "LONG": pa.int64(),
            "FLOAT": pa.float32(), "DOUBLE": pa.float64(), "STRING": pa.string(), "DATE": pa.date32(),
            "TIMESTAMP": pa.timestamp("us"), "BINARY": pa.binary()}.get(t.type_name)


def status(st: "Statement") -> dict[str, Any]:
    out: dict[str, Any] = {"state": st.state}
    if st.state == "FAILED" and st.error is not None:
        out["sql_state"] = st.error.sqlstate
        out["error"] = {"error_code": "BAD_REQUEST", "message": st.error.message}
    return out


def statement_response(st: "Statement", result: dict[str, Any] | None,
                       byte_counts: dict[int, int] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"statement_id": st.id, "status": status(st)}
    if st.state == "SUCCEEDED" and st.result is not None:
        out["manifest"] = manifest(st, byte_counts)
        if result is not None:
            out["result"] = result
    return out
