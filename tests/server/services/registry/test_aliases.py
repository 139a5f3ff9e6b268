"""Aliases: set, move, delete, get by alias (the seed's "Model Versioning & Aliases")."""
from __future__ import annotations

import pytest

NAME = "catalog.schema.my_model"


def test_seed_cheatsheet_alias_flow(client, mlemu, schema):
    for _ in range(4):
        mlemu.registry.register_files(NAME, {"MLmodel": b"signature: {inputs: a, outputs: b}"})
    versions = client.search_model_versions("name='catalog.schema.my_model'")
    assert [(v.version, v.current_stage) for v in versions] == [("4", None), ("3", None), ("2", None),
                                                                 ("1", None)]
    client.set_registered_model_alias(name=NAME, alias="production", version=3)
    client.set_registered_model_alias(name=NAME, alias="champion", version=3)
    client.set_registered_model_alias(name=NAME, alias="challenger", version=4)
    assert client.get_registered_model(NAME).aliases == {"champion": "3", "challenger": "4",
                                                         "production": "3"}
    assert client.get_model_version(NAME, 3).aliases == ["champion", "production"]
    client.delete_registered_model_alias(name=NAME, alias="challenger")
    assert client.get_registered_model(NAME).aliases == {"champion": "3", "production": "3"}
    assert client.get_model_version(NAME, 4).aliases == []


def test_get_by_alias(client, three_versions):
    client.set_registered_model_alias(NAME, "production", 2)
    mv = client.get_model_version_by_alias(NAME, "production")
    assert (mv.name, mv.version, mv.aliases) == (NAME, "2", ["production"])


def test_moving_an_alias_takes_it_off_the_old_version(client, three_versions):
    client.set_registered_model_alias(NAME, "champion", 1)
    client.set_registered_model_alias(NAME, "champion", 3)
    assert client.get_model_version(NAME, 1).aliases == []
    assert client.get_model_version(NAME, 3).aliases == ["champion"]
    assert client.get_registered_model(NAME).aliases == {"champion": "3"}
    assert client.get_model_version_by_alias(NAME, "champion").version == "3"


def test_alias_names_are_case_insensitive(client, three_versions):
    client.set_registered_model_alias(NAME, "Champion", 2)
    assert client.get_model_version_by_alias(NAME, "CHAMPION").version == "2"
    assert client.get_registered_model(NAME).aliases == {"champion": "2"}
    client.delete_registered_model_alias(NAME, "champion")
    assert client.get_registered_model(NAME).aliases == {}


def test_missing_alias(client, mlemu, three_versions):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="Alias 'nope' does not exist") as e:
        client.get_model_version_by_alias(NAME, "nope")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        client.delete_registered_model_alias(NAME, "nope")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    call = mlemu.calls.filter(operation="registry.registered-models.alias.get")[-1]
    assert call.status == 404


def test_alias_to_missing_version_or_model(client, mlemu, three_versions):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as e:
        client.set_registered_model_alias(NAME, "champion", 7)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.get_registered_model(NAME).aliases == {}
    with pytest.raises(MlflowException) as e:
        client.set_registered_model_alias("catalog.schema.nope", "champion", 1)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("alias", ["latest", "LATEST", "v1", "V12", "has space", "a.b"])
def test_reserved_and_invalid_aliases_are_refused_by_the_server(w, three_versions, mlemu, alias):
    # mlflow refuses these client-side too; the server must not rely on it
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue):
        w.api_client.do("POST", "/api/2.0/mlflow/unity-catalog/registered-models/alias",
                        body={"name": NAME, "alias": alias, "version": "1"})
    assert mlemu.registry.get_model(NAME).aliases == {}


def test_deleting_the_version_deletes_its_aliases(client, three_versions):
    from mlflow.exceptions import MlflowException

    client.set_registered_model_alias(NAME, "champion", 2)
    client.set_registered_model_alias(NAME, "stable", 1)
    client.delete_model_version(NAME, 2)
    assert client.get_registered_model(NAME).aliases == {"stable": "1"}
    with pytest.raises(MlflowException) as e:
        client.get_model_version_by_alias(NAME, "champion")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_alias_calls_on_the_wire(client, mlemu, three_versions):
    client.set_registered_model_alias(NAME, "production", "2")
    client.delete_registered_model_alias(NAME, "production")
    sets = mlemu.calls.filter(operation="registry.registered-models.alias.set")
    assert sets[0].request == {"name": NAME, "alias": "production", "version": "2"}
    deletes = mlemu.calls.filter(operation="registry.registered-models.alias.delete")
    assert deletes[0].method == "DELETE" and deletes[0].request == {"name": NAME, "alias": "production"}
