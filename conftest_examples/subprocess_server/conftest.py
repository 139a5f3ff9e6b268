"""One emulated workspace behind a loopback server for the whole session, for code that
starts other processes. Child processes inherit DATABRICKS_HOST/TOKEN from the environment.

State is shared by every test of the session: give each test its own names.
"""
import pytest

import mlemu


@pytest.fixture(scope="session")
def served_workspace():
    ws = mlemu.Workspace()
    with mlemu.serve(ws) as server:
        with mlemu.emulate(ws, url=server.url):
            yield ws
