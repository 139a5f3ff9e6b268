"""How a run goes: cells in order, dbutils.notebook.exit, %run, dbutils.notebook.run with
arguments and timeouts, failing cells and what they report, refused magics."""
from __future__ import annotations

import os
import re
import sys

import pytest

from mlemu.standins import notebooks
from mlemu.standins.notebooks import NotebookFailed, NotebookTimedOut, NotEmulated, WorkflowException


def test_exit_stops_the_run_and_returns_a_string(write_notebook):
    path = write_notebook("E.py", 'print("one")', "dbutils.notebook.exit(0)", 'print("never")')
    run = notebooks.run(path)
    assert run.exit_value == "0" and run.status == "success"
    assert [c.status for c in run.cells] == ["success", "exited", "skipped"]
    assert run.output == "one\n"


def test_exit_is_not_swallowed_by_except_exception(write_notebook):
    path = write_notebook("E.py", """
        try:
            dbutils.notebook.exit("out")
        except Exception:
            print("caught")
    """, 'print("after")')
    run = notebooks.run(path)
    assert run.exit_value == "out" and run.output == ""


def test_no_exit_means_none_and_the_last_expression_is_printed(write_notebook):
    run = notebooks.run(write_notebook("N.py", "x = 40\nx + 2", "None"))
    assert run.exit_value is None
    assert [c.output for c in run.cells] == ["42\n", ""]


def test_run_includes_a_notebook_in_the_same_namespace(write_notebook):
    write_notebook("lib/Setup.py", """
        GREETING = dbutils.widgets.get("greeting")
        def greet(name):
            return f"{GREETING}, {name}"
    """, 'print("setup done")')
    path = write_notebook("Main.py", '# MAGIC %run ./lib/Setup $greeting="hi there"', 'dbutils.notebook.exit(greet("ada"))')
    run = notebooks.run(path)
    assert run.exit_value == "hi there, ada"
    include = run.cells[0]
    assert include.kind == "run" and include.status == "success"
    assert [c.status for c in include.included] == ["success", "success"]
    assert include.included[1].output == "setup done\n" and run.output == "setup done\n"


def test_notebook_run_returns_the_child_exit_value(write_notebook):
    write_notebook("jobs/Child.py", """
        dbutils.widgets.text("x", "0")
        dbutils.jobs.taskValues.set("from_child", True)
        child_only = 1
        dbutils.notebook.exit(str(int(dbutils.widgets.get("x")) * 2))
    """)
    path = write_notebook("Parent.py", """
        result = dbutils.notebook.run("./jobs/Child", 60, {"x": 21})
        print(result, "child_only" in globals())
        dbutils.notebook.exit(result)
    """)
    run = notebooks.run(path)
    assert run.exit_value == "42"
    assert run.output == "42 False\n"                        # the child had its own namespace
    assert run.task_values == {"from_child": True}           # the same task's values
    assert [c.exit_value for c in run.children] == ["42"]
    assert run.children[0].parameters == {"x": "21"}


def test_notebook_run_failure_and_timeout_raise_workflow_exception(write_notebook):
    write_notebook("Bad.py", "1 / 0")
    write_notebook("Slow.py", "while True:\n    pass")
    path = write_notebook("Parent.py", """
        outcomes = []
        for name, seconds in (("./Bad", 0), ("./Slow", 0.3)):
            try:
                dbutils.notebook.run(name, seconds)
            except Exception as e:
                outcomes.append((type(e).__name__, str(e)))
        dbutils.notebook.exit(repr(outcomes))
    """)
    run = notebooks.run(path)
    outcomes = eval(run.exit_value)  # noqa: S307 - our own repr
    assert outcomes[0][0] == "WorkflowException" and "ZeroDivisionError: division by zero" in outcomes[0][1]
    assert outcomes[1][0] == "WorkflowException" and "timed out after 0.3 seconds" in outcomes[1][1]
    assert [c.status for c in run.children] == ["failed", "timed_out"]


def test_a_failing_cell_reports_the_cell_and_its_traceback(write_notebook):
    path = write_notebook("F.py", 'print("ok")', """
        def load(n):
            return {"a": 1}[n]

        print("about to fail")
        load("b")
    """, 'print("never")')
    with pytest.raises(NotebookFailed) as info:
        notebooks.run(path)
    failure = info.value
    assert failure.cell_index == 1 and failure.cell_line == 6
    assert failure.cell_source.startswith("def load(n):")
    text = str(failure)
    assert f"Notebook {path} failed in cell 2 (line 6):" in text
    assert "    10 | load(\"b\")" in text                     # the cell, numbered as in the file
    assert f'File "{path}", line 10, in <module>' in text      # the traceback points into the file
    assert f'File "{path}", line 7, in load' in text
    assert "KeyError: 'b'" in text and "about to fail" in text
    assert "runtime.py" not in text                            # no frames of mlemu's own
    assert [c.status for c in failure.run.cells] == ["success", "failed", "skipped"]
    assert failure.run.status == "failed" and isinstance(failure.error, KeyError)


def test_failure_inside_a_run_included_notebook(write_notebook):
    write_notebook("lib/Broken.py", "x = 1", "raise RuntimeError('bad setup')")
    path = write_notebook("Main.py", "# MAGIC %run ./lib/Broken")
    with pytest.raises(NotebookFailed) as info:
        notebooks.run(path)
    assert info.value.cell_index == 0 and info.value.failed_in.endswith("lib/Broken.py")
    assert "RuntimeError: bad setup" in str(info.value)


def test_syntax_errors_and_sys_exit_fail_the_cell(write_notebook):
    with pytest.raises(NotebookFailed, match="SyntaxError"):
        notebooks.run(write_notebook("S.py", "def broken(:\n    pass"))
    with pytest.raises(NotebookFailed, match="SystemExit") as info:
        notebooks.run(write_notebook("X.py", "import sys\nsys.exit(3)"))
    assert isinstance(info.value.error, SystemExit)


def test_timeout_stops_a_busy_notebook_and_restores_the_process(write_notebook):
    cwd, path_before = os.getcwd(), list(sys.path)
    path = write_notebook("Slow.py", "n = 0", "while True:\n    n += 1", 'print("never")')
    with pytest.raises(NotebookTimedOut) as info:
        notebooks.run(path, timeout_seconds=0.3)
    assert info.value.cell_index == 1 and info.value.run.status == "timed_out"
    assert "Timed out after 0.3 seconds" in str(info.value)
    assert os.getcwd() == cwd and sys.path == path_before
    assert notebooks.run(write_notebook("Fast.py", "x = 1"), timeout_seconds=30).status == "success"


def test_restart_python_is_recorded_and_drops_variables(write_notebook):
    path = write_notebook("R.py", "x = 1", "dbutils.library.restartPython()",
                          "# MAGIC %restart_python", 'dbutils.notebook.exit(str("x" in globals()))')
    run = notebooks.run(path)
    assert run.exit_value == "False"
    assert sum("restartPython" in line for line in run.log) == 2


@pytest.mark.parametrize("cell, message", [
    ("# MAGIC %sh ls -l", "%sh runs shell commands"),
    ("!ls", "Shell commands"),
    ("# MAGIC %scala\n# MAGIC val x = 1", "%scala cells need a JVM"),
    ("# MAGIC %r\n# MAGIC x <- 1", "%r cells need an R REPL"),
    ("%timeit 1 + 1", "The magic %timeit is not emulated"),
    ("%%bash\necho hi", "The cell magic %%bash is not emulated"),
    ("dbutils.credentials.showRoles()", "dbutils.credentials.showRoles is not emulated"),
    ("dbutils.fs.mount('s3://b', '/mnt/b')", "dbutils.fs.mount is not emulated"),
    ("dbutils.notebook.entry_point.getDbutils().notebook().getContext().tenantId()",
     "getContext().tenantId() is not emulated"),
])
def test_what_is_not_emulated_says_so(write_notebook, cell, message):
    with pytest.raises(NotebookFailed, match=re.escape(message)) as info:
        notebooks.run(write_notebook("X.py", cell))
    assert isinstance(info.value.error, NotEmulated)


def test_pip_and_ignored_magics_are_logged(write_notebook):
    run = notebooks.run(write_notebook("P.py", "# MAGIC %pip install lightgbm==4.0", """
        %pip install -q xgboost
        %load_ext autoreload
        %matplotlib inline
    """))
    assert run.log == [
        "%pip install lightgbm==4.0: recorded, not executed (tests do not install packages)",
        "%pip install -q xgboost: recorded, not executed (tests do not install packages)",
        "%load_ext autoreload: ignored (no effect in mlemu's notebook runtime)",
        "%matplotlib inline: ignored (no effect in mlemu's notebook runtime)",
    ]


def test_not_found():
    with pytest.raises(notebooks.NotebookNotFound):
        notebooks.run("no/such/Notebook.py")
    with pytest.raises(WorkflowException.__mro__[1]):  # NotebookError
        notebooks.run("no/such/Notebook.py")
