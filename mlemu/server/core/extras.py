"""mlemu's optional engines and the extra that installs each: one place, so every way of
reaching an engine without its packages (HTTP, ``ws.<service>`` helpers, ``mlemu.sql``, the
``spark`` fixture) says which ``pip install 'mlemu[...]'`` to run."""
from __future__ import annotations

import importlib

#: extra -> the modules it provides (what ``pyproject.toml``'s optional dependencies install).
EXTRAS: dict[str, tuple[str, ...]] = {
    "sql": ("duckdb", "sqlglot"),
    "sql-arrow": ("pyarrow",),          # Arrow results; installed by mlemu[sql]
    "monitors": ("numpy", "scipy"),
    "monitors-report": ("matplotlib",),
    "spark": ("pyspark",),
}

#: The extra a user installs for each entry of EXTRAS (sql-arrow comes with sql).
_INSTALL = {"sql-arrow": "sql"}


class MissingExtra(ImportError):
    """An optional engine's package is not installed; the message names the extra."""

    def __init__(self, extra: str, module: str, purpose: str) -> None:
        self.extra = _INSTALL.get(extra, extra)
        super().__init__(f"{purpose} needs {module}, which is not installed: "
                         f"pip install 'mlemu[{self.extra}]'", name=module)


def missing(extra: str, purpose: str = "") -> MissingExtra | None:
    """The error for the first of ``extra``'s modules that cannot be imported, or None."""
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError:
            return MissingExtra(extra, module, purpose or f"mlemu's {extra} engine")
    return None


def require(extra: str, purpose: str = "") -> None:
    """Raise :class:`MissingExtra` unless every module of ``extra`` imports."""
    error = missing(extra, purpose)
    if error is not None:
        raise error
