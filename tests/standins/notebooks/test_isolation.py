"""Each run gets the process state a notebook task has on Databricks, and the test gets its
own back: working directory, sys.path, environment, project modules, mlflow's globals."""
from __future__ import annotations

import os
import sys

import pytest

from mlemu.standins import notebooks
from mlemu.standins.notebooks import NotebookFailed


def test_working_directory_and_sys_path(write_notebook, tmp_path):
    (tmp_path / "nb" / "data.txt").parent.mkdir()
    (tmp_path / "nb" / "data.txt").write_text("local file")
    path = write_notebook("nb/Read.py", """
        import os, sys
        dbutils.notebook.exit(repr((os.getcwd(), sys.path[0], open("data.txt").read())))
    """)
    cwd, sys_path, env = os.getcwd(), list(sys.path), dict(os.environ)
    seen = eval(notebooks.run(path).exit_value)  # noqa: S307
    assert seen == (str(tmp_path / "nb"), str(tmp_path / "nb"), "local file")
    assert (os.getcwd(), sys.path, dict(os.environ)) == (cwd, sys_path, env)


def test_environment_changes_are_undone_even_on_failure(write_notebook, monkeypatch):
    monkeypatch.setenv("KEEP_ME", "1")
    path = write_notebook("Env.py", """
        import os
        os.environ["NOTEBOOK_SET"] = "x"
        del os.environ["KEEP_ME"]
        %env FROM_MAGIC=y
        raise ValueError("boom")
    """)
    with pytest.raises(NotebookFailed):
        notebooks.run(path)
    assert "NOTEBOOK_SET" not in os.environ and "FROM_MAGIC" not in os.environ and os.environ["KEEP_ME"] == "1"


def test_each_project_imports_its_own_module(tmp_path, write_notebook):
    for project, answer in (("one", 1), ("two", 2)):
        (tmp_path / project).mkdir()
        (tmp_path / project / "helpers.py").write_text(f"ANSWER = {answer}\n")
        write_notebook(f"{project}/Use.py", "from helpers import ANSWER\ndbutils.notebook.exit(str(ANSWER))")
    assert notebooks.run(tmp_path / "one" / "Use.py").exit_value == "1"
    assert "helpers" not in sys.modules
    assert notebooks.run(tmp_path / "two" / "Use.py").exit_value == "2"


def test_cd_magic_follows_the_workspace_path_back_to_local_folders(write_notebook, tmp_path):
    (tmp_path / "proj" / "features").mkdir(parents=True)
    path = write_notebook("proj/notebooks/Cd.py", """
        import os
        notebook_path = '/Workspace/' + os.path.dirname(dbutils.notebook.entry_point.getDbutils().notebook().getContext().notebookPath().get())
        %cd $notebook_path
        %cd ../features
        here = %pwd
        dbutils.notebook.exit(here)
    """)
    bundle = notebooks.NotebookContext(notebook_path="/Users/u@x.com/.bundle/proj/dev/files/proj/notebooks/Cd")
    assert notebooks.run(path, context=bundle).exit_value == str(tmp_path / "proj" / "features")
    assert notebooks.run(path).exit_value == str(tmp_path / "proj" / "features")
    with pytest.raises(NotebookFailed, match="No such file or directory"):
        notebooks.run(write_notebook("Bad.py", "%cd /Workspace/Users/nobody/nowhere"))


def test_mlflow_state_is_put_back_and_open_runs_are_ended(mlemu, write_notebook):
    import mlflow

    mlflow.set_experiment("/Shared/test-own")
    own = mlflow.tracking.fluent._active_experiment_id
    path = write_notebook("M.py", """
        import mlflow
        mlflow.set_experiment("/Shared/notebook-own")
        mlflow.start_run()
        mlflow.log_param("p", 1)
        dbutils.jobs.taskValues.set("run_id", mlflow.active_run().info.run_id)
    """, "raise RuntimeError('late failure')")
    with pytest.raises(NotebookFailed) as info:
        notebooks.run(path)
    run_id = info.value.run.task_values["run_id"]
    assert mlflow.active_run() is None
    assert mlflow.tracking.fluent._active_experiment_id == own
    assert mlflow.MlflowClient().get_run(run_id).info.status == "FAILED"


def test_modules_import_from_the_folder_cd_moved_to(write_notebook, tmp_path):
    """An IPython kernel has '' (the current directory) on sys.path: after ``%cd`` a notebook
    imports a module of its new folder by name, also when two folders hold the same name."""
    for folder, word in (("transforms", "from transforms"), ("checks", "from checks")):
        (tmp_path / "proj" / folder).mkdir(parents=True)
        (tmp_path / "proj" / folder / "steps.py").write_text(f"WORD = {word!r}\n")
    path = write_notebook("proj/notebooks/Import.py", """
        import importlib
        %cd ../transforms
        first = importlib.import_module("steps").WORD
        import sys; del sys.modules["steps"]
        %cd ../checks
        second = importlib.import_module("steps").WORD
        dbutils.notebook.exit(first + " / " + second)
    """)
    sys_path = list(sys.path)
    assert notebooks.run(path).exit_value == "from transforms / from checks"
    assert sys.path == sys_path and "steps" not in sys.modules
