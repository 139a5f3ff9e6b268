"""IPython line magics in Python cells: only statement-starting lines are rewritten, and
arguments expand ``$name`` without evaluating anything."""
from __future__ import annotations

import pytest

from mlemu.standins.notebooks.magics import expand, run_arguments, transform


def test_statement_lines_become_dispatcher_calls():
    code = "import os\n%cd $path\nif True:\n    %pip install x\nfiles = !ls -l\n!echo hi"
    assert transform(code).splitlines() == [
        "import os",
        "__mlemu_magic__('cd', '$path')",
        "if True:",
        "    __mlemu_magic__('pip', 'install x')",
        "files = __mlemu_magic__('!', 'ls -l')",
        "__mlemu_magic__('!', 'echo hi')",
    ]


def test_percent_inside_expressions_and_strings_is_left_alone():
    code = ('x = (10\n     % 3)\ns = """\n%not a magic\n"""\nt = "%d" % 4\ny = 5 \\\n  % 2\nz = x %= 2' )
    assert transform(code) == code


def test_expand_names_attributes_and_dollar_escape():
    class Obj:
        attr = "A"
    ns = [{"path": "/tmp/x", "o": Obj()}]
    assert expand("$path ${path} {path} $o.attr $$HOME $unknown {1+1}", ns) == \
        "/tmp/x /tmp/x /tmp/x A $HOME $unknown {1+1}"


def test_run_arguments():
    assert run_arguments('%run ../lib/Setup $a="x y" $b=2') == ("../lib/Setup", {"a": "x y", "b": "2"})
    with pytest.raises(ValueError):
        run_arguments("%run")
    with pytest.raises(ValueError):
        run_arguments("%run ./x a=1")
