"""dbutils.widgets: defaults, parameters overriding them as a job's base_parameters do,
every widget kind, and the errors Databricks gives."""
from __future__ import annotations

import pytest

from mlemu.standins import notebooks
from mlemu.standins.notebooks import InputWidgetNotDefined, NotebookFailed, WidgetError


def test_defaults_parameters_and_every_kind(write_notebook):
    path = write_notebook("W.py", """
        dbutils.widgets.text("name", "world", "Name")
        dbutils.widgets.dropdown("env", "staging", ["staging", "prod"], "Environment")
        dbutils.widgets.combobox("region", "eu", ["eu", "us"])
        dbutils.widgets.multiselect("days", "mon", ["mon", "tue", "wed"])
        values = dbutils.widgets.getAll()
        print(values)
        dbutils.jobs.taskValues.set("values", values)
    """)
    defaults = notebooks.run(path)
    assert defaults.task_values["values"] == {"name": "world", "env": "staging", "region": "eu", "days": "mon"}

    given = notebooks.run(path, {"name": "ada", "env": "dev", "region": "ap", "days": "mon,wed", "extra": 7})
    # a parameter outside a dropdown's choices is taken as given (a job's env=dev); parameters
    # without a widget are readable too, and values are strings
    assert given.task_values["values"] == {"name": "ada", "env": "dev", "region": "ap", "days": "mon,wed",
                                           "extra": "7"}
    assert given.parameters["extra"] == "7"


def test_get_of_an_unknown_widget_fails_the_cell(write_notebook):
    path = write_notebook("W.py", 'dbutils.widgets.get("missing")')
    with pytest.raises(NotebookFailed) as info:
        notebooks.run(path)
    assert isinstance(info.value.error, InputWidgetNotDefined)
    assert "No input widget named missing is defined" in str(info.value)


def test_get_argument_remove_and_remove_all(write_notebook):
    path = write_notebook("W.py", """
        dbutils.widgets.text("a", "1")
        dbutils.widgets.text("b", "2")
        seen = [getArgument("a"), dbutils.widgets.getArgument("zzz", "fallback")]
        dbutils.widgets.remove("a")
        try:
            dbutils.widgets.get("a")
        except Exception as e:
            seen.append(type(e).__name__)
        try:
            dbutils.widgets.remove("a")
        except Exception as e:
            seen.append(str(e))
        dbutils.widgets.removeAll()
        seen.append(dbutils.widgets.getAll())
        seen.append(dbutils.widgets.get("p"))       # a parameter outlives removeAll
        dbutils.notebook.exit(repr(seen))
    """)
    run = notebooks.run(path, {"p": "kept"})
    assert run.exit_value == repr(["1", "fallback", "InputWidgetNotDefined", "No input widget named a is defined",
                                   {"p": "kept"}, "kept"])


@pytest.mark.parametrize("cell, message", [
    ('dbutils.widgets.dropdown("env", "dev", ["staging", "prod"])', "is not one of its choices"),
    ('dbutils.widgets.multiselect("d", "mon,sun", ["mon", "tue"])', "is not among its choices"),
    ('dbutils.widgets.dropdown("env", "a", [])', "non-empty list"),
    ('dbutils.widgets.text("n", 5)', "must be a string"),
])
def test_invalid_definitions(write_notebook, cell, message):
    with pytest.raises(NotebookFailed, match=message) as info:
        notebooks.run(write_notebook("W.py", cell))
    assert isinstance(info.value.error, WidgetError)


def test_parameters_must_be_strings_or_plain_values(write_notebook):
    path = write_notebook("W.py", 'dbutils.notebook.exit(dbutils.widgets.get("flag"))')
    assert notebooks.run(path, {"flag": True}).exit_value == "true"
    with pytest.raises(TypeError, match="None"):
        notebooks.run(path, {"flag": None})
