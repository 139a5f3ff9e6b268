"""The journal keeps bodies as bytes and parses them when a test reads them."""
from __future__ import annotations

import pytest
import requests


def test_bodies_read_back_as_json(mlemu):
    auth = {"Authorization": f"Bearer {mlemu.token}"}
    requests.post(f"{mlemu.host}/api/2.0/workspace/mkdirs", json={"path": "/Shared/a"}, headers=auth)
    requests.get(f"{mlemu.host}/api/2.0/workspace/list", params={"path": "/Shared"}, headers=auth)
    mkdirs, listing = mlemu.calls
    assert mkdirs.request == {"path": "/Shared/a"} and mkdirs.response == {}
    assert listing.request == {"path": "/Shared"}
    assert [o["path"] for o in listing.response["objects"]] == ["/Shared/a"]
    assert listing.response is listing.response  # parsed once, then kept


def test_calls_are_immutable_values(mlemu):
    requests.get(f"{mlemu.host}/api/2.0/preview/scim/v2/Me", headers={"Authorization": f"Bearer {mlemu.token}"})
    (call,) = mlemu.calls
    with pytest.raises(AttributeError):
        call.status = 500
    assert call == mlemu.calls[0] and hash(call) == hash(mlemu.calls[0])
    assert "current-user.me" in repr(call)
