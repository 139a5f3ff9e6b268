"""Feature table names: completion of 1- and 2-level names, the Unity Catalog / hive
metastore split, and the name-form rule (``uc_utils.py`` of the real clients)."""
from __future__ import annotations

from dataclasses import dataclass

#: Catalog names that mean "not Unity Catalog".
LOCAL_METASTORE_NAMES = ("hive_metastore", "spark_catalog")
#: Current catalog and schema of a fresh session: like local Spark, the hive metastore's
#: ``default`` (so 1- and 2-level names are hive names, as in the real clients' oracle).
CURRENT_CATALOG = "hive_metastore"
CURRENT_SCHEMA = "default"

FE_ONLY_UC = ("FeatureEngineeringClient only supports feature tables in Unity Catalog. For feature "
              "tables in hive metastore, use databricks.feature_store.FeatureStoreClient.")


@dataclass(frozen=True)
class TableName:
    catalog: str
    schema: str
    table: str

    def __str__(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.table}"

    @property
    def is_uc(self) -> bool:
        return self.catalog not in LOCAL_METASTORE_NAMES


def resolve(name: str) -> TableName:
    """A full ``catalog.schema.table`` name; ``ValueError`` for a malformed one."""
    if not isinstance(name, str) or not name or " " in name or "/" in name:
        raise ValueError(_form_error(name))
    parts = name.split(".")
    if len(parts) > 3 or any(not p for p in parts):
        raise ValueError(_form_error(name))
    parts = [p.lower() for p in parts]
    if len(parts) == 1:
        parts = [CURRENT_CATALOG, CURRENT_SCHEMA, *parts]
    elif len(parts) == 2:
        parts = [CURRENT_CATALOG, *parts]
    catalog = "hive_metastore" if parts[0] == "spark_catalog" else parts[0]
    return TableName(catalog, parts[1], parts[2])


def resolve_for_fe(name: str) -> TableName:
    """As :func:`resolve`, refusing hive metastore names (FeatureEngineeringClient)."""
    full = resolve(name)
    if not full.is_uc:
        raise ValueError(FE_ONLY_UC)
    return full


def _form_error(name: object) -> str:
    return (f"Invalid table name '{name}'. The feature table name must have the form "
            "<catalog>.<schema>.<table>, <schema>.<table> or <table> and must not contain "
            "spaces or '/'.")
