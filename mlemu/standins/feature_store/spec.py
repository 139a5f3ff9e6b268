"""The feature spec of a training set and its ``feature_spec.yaml`` (serialization version
11, the layout of ``feature-store-oracles/feature_spec.yaml``): which columns come from the
caller's DataFrame, which are looked up where, and what the model sees."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

import yaml

SERIALIZATION_VERSION = 11
#: The client API version whose spec layout this writes.
CLIENT_VERSION = "0.18.2"
SPEC_FILE = "feature_spec.yaml"


@dataclass
class SourceColumn:
    """A column of the caller's DataFrame (``source: training_data``)."""

    name: str
    data_type: str
    include: bool = True
    topological_ordering: int = 0


@dataclass
class FeatureColumn:
    """A feature looked up from a feature table (``source: feature_store``)."""

    name: str  # output name
    table_name: str
    feature_name: str
    lookup_key: list[str]
    timestamp_lookup_key: list[str]
    data_type: str
    default_value: str | None = None
    include: bool = True
    topological_ordering: int = 1


@dataclass
class FunctionColumn:
    """An on-demand feature computed by a UC Python UDF (``source: on_demand_feature``)."""

    name: str  # output name
    udf_name: str
    input_bindings: dict[str, str]  # UDF parameter -> column
    data_type: str
    include: bool = True
    topological_ordering: int = 1


Column = Union[SourceColumn, FeatureColumn, FunctionColumn]


@dataclass
class InputTable:
    table_id: str
    lookback_window: float | None = None  # seconds


@dataclass
class FeatureSpec:
    columns: list[Column]
    input_tables: dict[str, InputTable]
    workspace_id: str
    client_version: str = CLIENT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sources(self) -> list[SourceColumn]:
        return [c for c in self.columns if isinstance(c, SourceColumn)]

    @property
    def features(self) -> list[FeatureColumn]:
        return [c for c in self.columns if isinstance(c, FeatureColumn)]

    @property
    def functions(self) -> list[FunctionColumn]:
        return [c for c in self.columns if isinstance(c, FunctionColumn)]

    @property
    def model_inputs(self) -> list[str]:
        """The columns the raw model receives, in spec order."""
        return [c.name for c in self.columns if c.include]

    def lookback(self, table: str) -> float | None:
        info = self.input_tables.get(table)
        return info.lookback_window if info else None

    # -- yaml ------------------------------------------------------------------------------
    def to_yaml(self) -> str:
        cols: list[dict[str, Any]] = []
        for c in self.columns:
            body: dict[str, Any]
            if isinstance(c, SourceColumn):
                body = {"data_type": c.data_type}
                if not c.include:
                    body["include"] = False
                body.update(topological_ordering=c.topological_ordering, source="training_data")
            elif isinstance(c, FunctionColumn):
                body = {"udf_name": c.udf_name, "input_bindings": dict(c.input_bindings),
                        "data_type": c.data_type}
                if not c.include:
                    body["include"] = False
                body.update(topological_ordering=c.topological_ordering, source="on_demand_feature")
            else:
                body = {"table_name": c.table_name, "feature_name": c.feature_name,
                        "lookup_key": list(c.lookup_key)}
                if c.timestamp_lookup_key:
                    body["timestamp_lookup_key"] = list(c.timestamp_lookup_key)
                if c.default_value is not None:
                    body["default_value"] = c.default_value
                body["data_type"] = c.data_type
                if not c.include:
                    body["include"] = False
                body.update(topological_ordering=c.topological_ordering, source="feature_store")
            cols.append({c.name: body})
        tables = []
        for name, info in self.input_tables.items():
            body = {"table_id": info.table_id}
            if info.lookback_window is not None:
                body["lookback_window"] = float(info.lookback_window)
            tables.append({name: body})
        doc: dict[str, Any] = {"input_columns": cols, "workspace_id": str(self.workspace_id),
                               "feature_store_client_version": self.client_version, "input_tables": tables}
        udfs = list(dict.fromkeys(f.udf_name for f in self.functions))
        if udfs:
            doc["input_functions"] = [{u: {}} for u in udfs]
        doc["serialization_version"] = SERIALIZATION_VERSION
        return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)

    @classmethod
    def from_yaml(cls, text: str) -> "FeatureSpec":
        doc = yaml.safe_load(text)
        columns: list[Column] = []
        for entry in doc.get("input_columns", []):
            (name, body), = entry.items()
            if body.get("source") == "feature_store":
                columns.append(FeatureColumn(
                    name, body["table_name"], body["feature_name"], list(body["lookup_key"]),
                    list(body.get("timestamp_lookup_key") or []), body["data_type"],
                    body.get("default_value"), body.get("include", True), body.get("topological_ordering", 1)))
            elif body.get("source") == "training_data":
                columns.append(SourceColumn(name, body["data_type"], body.get("include", True),
                                            body.get("topological_ordering", 0)))
            elif body.get("source") == "on_demand_feature":
                columns.append(FunctionColumn(name, body["udf_name"], dict(body.get("input_bindings") or {}),
                                              body["data_type"], body.get("include", True),
                                              body.get("topological_ordering", 1)))
            else:
                raise ValueError(f"Feature spec column '{name}' has an unknown source '{body.get('source')}'.")
        tables = {}
        for entry in doc.get("input_tables", []):
            (name, body), = entry.items()
            tables[name] = InputTable(body.get("table_id", ""), body.get("lookback_window"))
        return cls(columns, tables, str(doc.get("workspace_id", "")),
                   str(doc.get("feature_store_client_version", CLIENT_VERSION)))


def encode_default(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def decode_default(text: str, data_type: str) -> Any:
    if data_type in ("bigint", "int", "smallint", "tinyint"):
        return int(text)
    if data_type in ("double", "float"):
        return float(text)
    if data_type == "boolean":
        return text.strip().lower() == "true"
    return text
