"""Every route's request model types its fields as proto3 JSON does (issue 20, item 1): it derives
from ``WireArgs``, declares no bare ``Any`` field, and refuses another JSON type in each of its
string, number and bool fields, nested models included."""
from __future__ import annotations

import typing
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from mlemu import Workspace
from mlemu.server.wire.app import validation_error
from mlemu.server.wire.fields import WireArgs, _kind


def _models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}

    def walk(model: type[BaseModel]) -> None:
        name = f"{model.__module__}.{model.__qualname__}"
        if name in found:
            return
        found[name] = model
        for f in model.model_fields.values():
            for inner in _members(f.annotation):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    walk(inner)

    for route in Workspace().app.routes:
        if route.body is not None:
            walk(route.body)
    return found


def _members(annotation: Any) -> list[Any]:
    out = [annotation]
    for arg in typing.get_args(annotation):
        out.extend(_members(arg))
    return out


MODELS = _models()
#: (model, field, kind) for every scalar field of every request model.
SCALARS = [(name, field, _kind(f.annotation)) for name, m in MODELS.items()
           for field, f in m.model_fields.items() if _kind(f.annotation)[0]]
WRONG = {"string": [41, 4.5, True, {"a": 1}], "number": [True, {"a": 1}, ["1"]],
         "bool": [1, "yes", {"a": 1}], "enum": [False, {"a": 1}, 1.5j]}


def test_every_request_model_is_a_wire_model():
    assert len(MODELS) > 100
    assert [n for n, m in MODELS.items() if not issubclass(m, WireArgs)] == []


def test_no_request_field_is_typed_any():
    """Free-form JSON objects are ``dict[str, Any]``; a scalar is never left untyped."""
    untyped = [f"{n}.{field}" for n, m in MODELS.items() for field, f in m.model_fields.items()
               if f.annotation is Any or (typing.get_origin(f.annotation) is typing.Union
                                          and Any in typing.get_args(f.annotation))]
    assert untyped == []


@pytest.mark.parametrize("name,field,kind", SCALARS, ids=[f"{n.rsplit('.', 1)[1]}.{f}" for n, f, _ in SCALARS])
def test_a_scalar_field_refuses_other_json_types(name, field, kind):
    model = MODELS[name]
    alias = model.model_fields[field].alias or field
    kind_name, repeated = kind
    for wrong in WRONG[kind_name]:
        if isinstance(wrong, complex):
            wrong = [1]  # an enum field's list
        value = [wrong] if repeated else wrong
        with pytest.raises(ValidationError) as e:
            model.model_validate({alias: value})
        locs = [_field_loc(err) for err in e.value.errors()]
        assert any(loc[0] == alias for loc in locs), (alias, value, locs)
        mine = next(err for err in e.value.errors() if _field_loc(err)[0] == alias)
        if mine["type"] != "missing":
            assert mine["type"] in ("proto3_type", "string_type", "list_type", "dict_type",
                                    "model_type", "literal_error", "enum", "int_type", "float_type",
                                    "bool_type", "int_parsing", "float_parsing"), mine


def _field_loc(err: dict[str, Any]) -> tuple[Any, ...]:
    """Where an error points: WireArgs' type check names its field in the context."""
    field = (err.get("ctx") or {}).get("field")
    return tuple(err["loc"]) + ((field,) if field is not None else ())


def test_the_refusal_reads_as_mlflows_server_writes_it():
    from mlemu.server.services.tracking.wire import SetTagArgs

    with pytest.raises(ValidationError) as e:
        SetTagArgs.model_validate({"run_id": "r", "key": "k", "value": 41})
    err = validation_error(e.value)
    assert (err.code, err.status) == ("INVALID_PARAMETER_VALUE", 400)
    assert err.message.startswith("Invalid value 41 for parameter 'value' supplied: Hint: Value was of type 'int'.")


def test_query_string_booleans_and_decimal_numbers_still_parse():
    from mlemu.server.services.tracking.wire import GetLoggedModelArgs, SearchRunsArgs

    assert GetLoggedModelArgs.model_validate({"allow_deleted": "true"}).allow_deleted is True
    assert GetLoggedModelArgs.model_validate({"allow_deleted": "False"}).allow_deleted is False
    args = SearchRunsArgs.model_validate({"max_results": "7", "run_view_type": "2", "experiment_ids": ["1"]})
    assert (args.max_results, args.view) == (7, "DELETED_ONLY")


def _refusal(model: type[BaseModel], body: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as e:
        model.model_validate(body)
    return validation_error(e.value).message


def test_a_nested_refusal_names_the_request_path():
    from mlemu.server.services.tracking.wire import LogBatchArgs

    message = _refusal(LogBatchArgs, {"run_id": "r", "metrics": [
        {"key": "a", "value": 1.0, "timestamp": 1}, {"key": "b", "value": True, "timestamp": 1}]})
    assert message.startswith("Invalid value true for parameter 'metrics[1].value' supplied: "
                              "Hint: Value was of type 'bool'.")


def test_a_repeated_field_refusal_shows_the_list():
    from mlemu.server.services.tracking.wire import SearchRunsArgs

    message = _refusal(SearchRunsArgs, {"experiment_ids": ["1", 2]})
    assert message.startswith("Invalid value [\"1\",2] for parameter 'experiment_ids' supplied: ")


def test_a_wrong_json_type_is_refused_before_a_missing_field():
    """A proto3 JSON parser reads the body (and refuses a wrong type) before required fields
    are checked."""
    from mlemu.server.services.tracking.wire import SetTagArgs

    assert _refusal(SetTagArgs, {"run_id": "r", "value": 41}).startswith(
        "Invalid value 41 for parameter 'value' supplied:")
    assert _refusal(SetTagArgs, {"run_id": "r", "value": "v"}) == \
        "Missing value for required parameter 'key'."


def test_the_first_wrong_field_in_declaration_order_is_named():
    from mlemu.server.services.tracking.wire import SetTagArgs

    assert "parameter 'key'" in _refusal(SetTagArgs, {"value": 41, "key": 7, "run_id": "r"})


def test_a_checked_body_is_not_changed_in_place():
    from mlemu.server.services.tracking.wire import GetLoggedModelArgs

    body = {"allow_deleted": "true"}
    assert GetLoggedModelArgs.model_validate(body).allow_deleted is True
    assert body == {"allow_deleted": "true"}
