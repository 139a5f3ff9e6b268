"""Tables as UC securables backed by pandas frames (``w.tables`` and the fixture helpers)."""
from __future__ import annotations

import pytest

pd = pytest.importorskip("pandas")


@pytest.fixture
def w(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient()


@pytest.fixture
def frame():
    return pd.DataFrame({"id": [1, 2, 3], "score": [0.5, 0.25, 1.0], "label": ["a", "b", "c"],
                         "flag": [True, False, True],
                         "ts": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"])})


def test_put_table_and_get_through_sdk(w, mlemu, frame):
    from databricks.sdk.service.catalog import ColumnTypeName, TableType

    mlemu.unity_catalog.put_table("main.default.Features", frame, comment="feature table")
    t = w.tables.get("main.default.features")
    assert (t.full_name, t.table_type, t.comment) == ("main.default.features", TableType.MANAGED,
                                                       "feature table")
    assert [(c.name, c.type_name, c.position) for c in t.columns] == [
        ("id", ColumnTypeName.LONG, 0), ("score", ColumnTypeName.DOUBLE, 1),
        ("label", ColumnTypeName.STRING, 2), ("flag", ColumnTypeName.BOOLEAN, 3),
        ("ts", ColumnTypeName.TIMESTAMP, 4)]
    assert t.columns[0].type_text == "bigint"
    assert w.tables.exists("main.default.features").table_exists is True
    assert w.tables.exists("main.default.nope").table_exists is False


def test_table_data_is_a_copy(mlemu, frame):
    mlemu.unity_catalog.put_table("main.default.t", frame)
    frame.loc[0, "id"] = 99
    stored = mlemu.unity_catalog.read_table("main.default.t")
    assert stored["id"].tolist() == [1, 2, 3]
    stored.loc[0, "id"] = 42
    assert mlemu.unity_catalog.read_table("main.default.t")["id"].tolist() == [1, 2, 3]


def test_put_table_modes(mlemu, frame):
    from mlemu import ApiError

    uc = mlemu.unity_catalog
    uc.put_table("main.default.t", frame)
    with pytest.raises(ApiError) as e:
        uc.put_table("main.default.t", frame)
    assert e.value.code == "RESOURCE_ALREADY_EXISTS"
    uc.put_table("main.default.t", frame.head(1), mode="overwrite")
    assert len(uc.read_table("main.default.t")) == 1
    with pytest.raises(ApiError) as e:
        uc.put_table("nocat.default.t", frame)
    assert e.value.code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(ApiError) as e:
        uc.put_table("main.t", frame)
    assert e.value.code == "INVALID_PARAMETER_VALUE"


def test_list_and_delete_tables(w, mlemu, frame):
    from databricks.sdk.errors import ResourceDoesNotExist

    for name in ("b", "a", "c"):
        mlemu.unity_catalog.put_table(f"main.default.{name}", frame)
    assert [t.name for t in w.tables.list("main", "default")] == ["a", "b", "c"]
    assert [t.columns for t in w.tables.list("main", "default", omit_columns=True)] == [[]] * 3
    w.tables.delete("main.default.b")
    assert [t.name for t in w.tables.list("main", "default")] == ["a", "c"]
    with pytest.raises(ResourceDoesNotExist, match="Table 'main.default.b' does not exist"):
        w.tables.get("main.default.b")
    with pytest.raises(ResourceDoesNotExist):
        w.tables.delete("main.default.b")
    with pytest.raises(ResourceDoesNotExist, match="Schema 'main.nope'"):
        list(w.tables.list("main", "nope"))


def test_schema_with_tables_is_not_empty(w, mlemu, frame):
    from databricks.sdk.errors import BadRequest

    mlemu.unity_catalog.ensure_schema("lake.bronze")
    mlemu.unity_catalog.put_table("lake.bronze.events", frame)
    with pytest.raises(BadRequest, match="1 table"):
        w.schemas.delete("lake.bronze")
    assert mlemu.unity_catalog.table_exists("lake.bronze.events")
    w.schemas.update("lake.bronze", new_name="silver")
    assert w.tables.get("lake.silver.events").schema_name == "silver"
    w.schemas.delete("lake.silver", force=True)
    assert not mlemu.unity_catalog.table_exists("lake.silver.events")
