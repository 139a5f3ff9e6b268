"""Inference tables: one row per invocation (4xx included) in a Unity Catalog table named
``<catalog>.<schema>.<prefix>_payload``, with the documented schema of each kind.

* legacy ``auto_capture_config`` tables (custom-model endpoints):
  ``databricks_request_id, client_request_id, date, timestamp_ms, status_code,
  sampling_fraction, execution_time_ms, request, response, request_metadata``
  (``request_metadata`` is a MAP of ``endpoint_name``, ``model_name``, ``model_version``);
* AI Gateway ``inference_table_config`` tables: ``databricks_request_id, request_date,
  client_request_id, request_time, status_code, sampling_fraction, execution_duration_ms,
  request, response, logging_error_codes, served_entity_id, requester``.

Rows land at once (Databricks delivers them within about an hour [emu: immediate, so tests
need not wait]). Payloads over 1 MiB are not logged, as documented: the row is written with
``request``/``response`` null and ``logging_error_codes`` naming the reason (AI Gateway).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlemu.server.services.unity_catalog.state import declared_columns

if TYPE_CHECKING:
    from mlemu.server.services.unity_catalog.state import Column

MAX_LOGGED_PAYLOAD = 1024 * 1024

LEGACY_SCHEMA = [
    ("databricks_request_id", "string"), ("client_request_id", "string"), ("date", "date"),
    ("timestamp_ms", "bigint"), ("status_code", "int"), ("sampling_fraction", "double"),
    ("execution_time_ms", "bigint"), ("request", "string"), ("response", "string"),
    ("request_metadata", "map<string,string>"),
]
GATEWAY_SCHEMA = [
    ("databricks_request_id", "string"), ("request_date", "date"), ("client_request_id", "string"),
    ("request_time", "timestamp"), ("status_code", "int"), ("sampling_fraction", "double"),
    ("execution_duration_ms", "bigint"), ("request", "string"), ("response", "string"),
    ("logging_error_codes", "array<string>"), ("served_entity_id", "string"), ("requester", "string"),
]


@dataclass(frozen=True)
class Invocation:
    """What an inference table records of one request."""

    request_id: str
    client_request_id: str | None
    started_ms: int
    execution_ms: int
    status: int
    request: bytes
    response: bytes
    endpoint_name: str
    entity_name: str | None            # served entity that answered (None: refused before routing)
    model_name: str | None
    model_version: str | None
    served_entity_id: str | None
    requester: str


def columns(kind: str) -> "list[Column]":
    return declared_columns(LEGACY_SCHEMA if kind == "legacy" else GATEWAY_SCHEMA)


def empty_frame(kind: str) -> Any:
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype=_dtype(text))
                         for name, text in (LEGACY_SCHEMA if kind == "legacy" else GATEWAY_SCHEMA)})


def row(kind: str, inv: Invocation) -> dict[str, Any]:
    started = dt.datetime.fromtimestamp(inv.started_ms / 1000, tz=dt.timezone.utc)
    request, response, errors = _payloads(inv)
    if kind == "legacy":
        return {
            "databricks_request_id": inv.request_id, "client_request_id": inv.client_request_id,
            "date": started.date(), "timestamp_ms": inv.started_ms, "status_code": inv.status,
            "sampling_fraction": 1.0, "execution_time_ms": inv.execution_ms,
            "request": request, "response": response,
            "request_metadata": {"endpoint_name": inv.endpoint_name, "model_name": inv.model_name or "",
                                 "model_version": inv.model_version or ""},
        }
    return {
        "databricks_request_id": inv.request_id, "request_date": started.date(),
        "client_request_id": inv.client_request_id, "request_time": started.replace(tzinfo=None),
        "status_code": inv.status, "sampling_fraction": 1.0, "execution_duration_ms": inv.execution_ms,
        "request": request, "response": response, "logging_error_codes": errors,
        "served_entity_id": inv.served_entity_id, "requester": inv.requester,
    }


def _payloads(inv: Invocation) -> tuple[str | None, str | None, list[str]]:
    errors: list[str] = []
    request: str | None = inv.request.decode("utf-8", "replace")
    response: str | None = inv.response.decode("utf-8", "replace")
    if len(inv.request) > MAX_LOGGED_PAYLOAD:
        request = None
        errors.append("MAX_REQUEST_SIZE_EXCEEDED")
    if len(inv.response) > MAX_LOGGED_PAYLOAD:
        response = None
        errors.append("MAX_RESPONSE_SIZE_EXCEEDED")
    return request, response, errors


def _dtype(sql_type: str) -> str:
    return {"bigint": "int64", "int": "int32", "double": "float64",
            "timestamp": "datetime64[ns]"}.get(sql_type, "object")
