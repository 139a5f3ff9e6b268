"""Helpers for the Jobs tests: a folder of task scripts mounted into the workspace, and the
real SDK client."""
from __future__ import annotations

import textwrap

import pytest

CODE = "/Workspace/Shared/code"


@pytest.fixture
def w(mlemu):
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient()


@pytest.fixture
def code(mlemu, tmp_path):
    """``code(name, source)`` writes a task file; it runs as ``/Workspace/Shared/code/<name>``."""
    mlemu.jobs.mount(CODE, tmp_path)

    def write(name: str, source: str) -> str:
        (tmp_path / name).write_text(textwrap.dedent(source))
        return f"{CODE}/{name}"

    return write


@pytest.fixture
def script(code):
    """A task script that prints its arguments and fails when one of them is ``fail``."""
    return code("task.py", """
        import sys
        print("args", sys.argv[1:])
        if "fail" in sys.argv[1:]:
            raise ValueError("asked to fail")
        if "exit3" in sys.argv[1:]:
            sys.exit(3)
    """)
