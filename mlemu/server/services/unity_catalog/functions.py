"""Unity Catalog Python UDFs of a workspace (``CREATE FUNCTION c.s.f(x DOUBLE) RETURNS DOUBLE
LANGUAGE PYTHON AS $$ return x * 2 $$``): their signature and body, and calling them.

A :class:`SchemaContents` provider of ``ws.unity_catalog``, so a schema holding functions
is not empty and drops / renames carry them. Reached as ``ws.unity_catalog.functions``;
fixture helper (no HTTP route yet):

    ws.unity_catalog.functions.create("main.default.double_it", params=[("x", "DOUBLE")],
                                      returns="DOUBLE", body="return x * 2")
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from mlemu.server.core.errors import already_exists, invalid, not_found
from mlemu.server.services.unity_catalog import names

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState
    from mlemu.server.services.unity_catalog.state import UnityCatalog


@dataclass
class Function:
    catalog: str
    schema: str
    name: str
    id: str
    params: list[tuple[str, str]]  # (name, SQL type) in order
    returns: str                   # SQL type: DOUBLE, BIGINT, STRING...
    body: str                      # the Python body between $$ ... $$
    comment: str | None = None
    #: Loaded from an export or checkpoint: the body is kept as data and never run, since
    #: files that cross machines hold data only (create the function again to call it).
    from_file: bool = field(default=False, repr=False)
    _compiled: Callable[..., Any] | None = field(default=None, repr=False)

    @property
    def full_name(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.name}"

    def callable(self) -> Callable[..., Any]:
        """The body as a Python function of the parameters (compiled once); refused for a
        function loaded from a file (:attr:`from_file`)."""
        if self.from_file:
            raise invalid(f"Function '{self.full_name}' was loaded from an export or checkpoint: mlemu does "
                          "not run Python bodies read from files. Create it again with "
                          "ws.unity_catalog.functions.create(...) to call it.")
        if self._compiled is None:
            args = ", ".join(p for p, _ in self.params)
            source = f"def {self.name}({args}):\n" + textwrap.indent(textwrap.dedent(self.body).strip(), "    ")
            namespace: dict[str, Any] = {}
            exec(compile(source, f"<uc function {self.full_name}>", "exec"), namespace)  # noqa: S102
            self._compiled = namespace[self.name]
        return self._compiled


class Functions:
    """The Python UDFs of the metastore, by full name."""

    kind = "function(s)"

    def __init__(self, ws: "WorkspaceState", uc: "UnityCatalog") -> None:
        self._ws = ws
        self._uc = uc
        self._functions: dict[tuple[str, str, str], Function] = {}
        uc.register_contents(self)

    def create(self, full_name: str, *, params: list[tuple[str, str]], returns: str, body: str,
               comment: str | None = None) -> Function:
        fn = names.three_level(full_name, "function")
        self._uc.require_writable_schema(fn.catalog, fn.schema, "functions")
        if tuple(fn) in self._functions:
            raise already_exists(f"Function '{fn}' already exists.")
        function = Function(fn.catalog, fn.schema, fn.name, self._ws.ids.uuid(), list(params), returns.upper(),
                            body, comment)
        try:
            function.callable()
        except SyntaxError as e:
            raise invalid(f"Invalid Python body for function '{fn}': {e.msg}.") from None
        self._functions[tuple(fn)] = function
        return function

    def get(self, full_name: str) -> Function:
        fn = names.three_level(full_name, "function")
        function = self._functions.get(tuple(fn))
        if function is None:
            raise not_found(f"Routine or Model '{fn}' does not exist.")
        return function

    def delete(self, full_name: str) -> None:
        function = self.get(full_name)
        del self._functions[(function.catalog, function.schema, function.name)]

    # -- SchemaContents --------------------------------------------------------------------
    def names_in_schema(self, catalog: str, schema: str) -> list[str]:
        return sorted(n for (c, s, n) in self._functions if (c, s) == (catalog, schema))

    def drop_schema(self, catalog: str, schema: str) -> None:
        for key in [k for k in self._functions if k[:2] == (catalog, schema)]:
            del self._functions[key]

    def rename_schema(self, old: tuple[str, str], new: tuple[str, str]) -> None:
        for key in [k for k in self._functions if k[:2] == old]:
            function = self._functions.pop(key)
            function.catalog, function.schema = new
            self._functions[(*new, function.name)] = function
