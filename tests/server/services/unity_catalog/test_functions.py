"""UC Python UDFs in the metastore state (``ws.unity_catalog.functions``)."""
from __future__ import annotations

import pytest

from mlemu.server.core.errors import ApiError


def test_create_call_and_schema_contents(mlemu):
    uc = mlemu.unity_catalog
    uc.ensure_schema("ml.fns")
    f = uc.functions.create("ml.fns.Add", params=[("a", "BIGINT"), ("b", "BIGINT")], returns="bigint",
                            body="return a + b")
    assert (f.full_name, f.returns) == ("ml.fns.add", "BIGINT")
    assert uc.functions.get("ml.fns.add").callable()(2, 3) == 5
    with pytest.raises(ApiError) as err:
        uc.delete_schema("ml.fns")
    assert err.value.code == "SCHEMA_NOT_EMPTY" and "1 function(s)" in err.value.message
    uc.update_schema("ml.fns", new_name="udfs")
    assert uc.functions.get("ml.udfs.add").full_name == "ml.udfs.add"
    uc.delete_schema("ml.udfs", force=True)
    with pytest.raises(ApiError) as err:
        uc.functions.get("ml.udfs.add")
    assert err.value.code == "RESOURCE_DOES_NOT_EXIST"


def test_refusals(mlemu):
    uc = mlemu.unity_catalog
    uc.functions.create("main.default.f", params=[], returns="DOUBLE", body="return 1.0")
    for kwargs, code in [({"body": "return 2.0"}, "RESOURCE_ALREADY_EXISTS"),
                         ({"body": "return (", "name": "main.default.g"}, "INVALID_PARAMETER_VALUE")]:
        with pytest.raises(ApiError) as err:
            uc.functions.create(kwargs.pop("name", "main.default.f"), params=[], returns="DOUBLE", **kwargs)
        assert err.value.code == code


def test_a_function_from_an_export_keeps_its_body_but_never_runs_it(mlemu, tmp_path):
    """Exports cross machines and hold data only: a loaded function's Python body is not run
    (a crafted export cannot execute code through a UDF); creating it again makes it callable."""
    import mlemu as mlemu_pkg

    mlemu.unity_catalog.functions.create("main.default.f", params=[("x", "DOUBLE")], returns="DOUBLE",
                                         body="return x * 2")
    loaded = mlemu_pkg.Workspace.load(mlemu.export(tmp_path / "ws.zip"))
    f = loaded.unity_catalog.functions.get("main.default.f")
    assert f.body == "return x * 2"
    with pytest.raises(ApiError) as err:
        f.callable()
    assert err.value.code == "INVALID_PARAMETER_VALUE" and "loaded from an export" in err.value.message
    loaded.unity_catalog.functions.delete("main.default.f")
    again = loaded.unity_catalog.functions.create("main.default.f", params=[("x", "DOUBLE")], returns="DOUBLE",
                                                  body="return x * 2")
    assert again.callable()(2.0) == 4.0
