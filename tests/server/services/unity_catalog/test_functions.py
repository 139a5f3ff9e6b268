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
