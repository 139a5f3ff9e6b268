"""Unity Catalog names: the one place that validates identifiers and three-level names.

Rules enforced (Databricks "Names" reference for Unity Catalog securables):

* an identifier (catalog, schema, table, model) is 1..255 characters;
* it may not contain a space, a period ``.``, a forward slash ``/``, an ASCII control
  character (0x00-0x1F) or DELETE (0x7F). Hyphens, unicode letters etc. are allowed (SQL
  needs back-quotes for them, the REST API does not);
* identifiers are case-insensitive: Unity Catalog stores and returns them lower-case, and
  ``Main.Default.My_Model`` names the same object as ``main.default.my_model``;
* a full name is dot-separated and unquoted in the REST API, so ``.`` splits levels: a
  registered model or table name must have exactly three levels, a schema exactly two.

Everything here raises ``INVALID_PARAMETER_VALUE`` (400), the code mlflow and the SDK
surface as a client error without retries.
"""
from __future__ import annotations

from typing import NamedTuple

from mlemu.server.core.errors import invalid

MAX_NAME_LENGTH = 255

_FORBIDDEN = frozenset(" ./") | frozenset(chr(c) for c in range(0x20)) | {chr(0x7F)}

class FullName(NamedTuple):
    """A validated, lower-cased three-level name."""

    catalog: str
    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.name}"

    @property
    def schema_full_name(self) -> str:
        return f"{self.catalog}.{self.schema}"


def identifier(value: object, kind: str) -> str:
    """Validate one identifier and return it lower-cased.

    ``kind`` names the securable in the message ("catalog", "schema", "registered model").
    """
    if value is None or (isinstance(value, str) and value == ""):
        raise invalid(f"Missing value for required parameter '{kind} name'.")
    if not isinstance(value, str):
        raise invalid(f"Invalid {kind} name: {value!r} is not a string.")
    if len(value) > MAX_NAME_LENGTH:
        raise invalid(f"Invalid {kind} name '{value[:40]}...': names are limited to "
                      f"{MAX_NAME_LENGTH} characters (got {len(value)}).")
    bad = sorted({c for c in value if c in _FORBIDDEN})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise invalid(f"Invalid {kind} name '{value}': names cannot contain spaces, periods, "
                      f"forward slashes or control characters (found {shown}).")
    return value.lower()


def schema_name(full_name: object) -> tuple[str, str]:
    """``catalog.schema`` -> (catalog, schema), validated and lower-cased."""
    parts = _split(full_name, "schema")
    if len(parts) != 2:
        raise invalid(f"Invalid schema name '{full_name}'. Please specify both levels of the "
                      "name (catalog.schema).")
    return identifier(parts[0], "catalog"), identifier(parts[1], "schema")


def three_level(full_name: object, kind: str = "registered model") -> FullName:
    """``catalog.schema.object`` -> :class:`FullName`, validated and lower-cased.

    A name with fewer or more levels is refused with a message containing "specify all three
    levels": mlflow appends its hint about the legacy Workspace registry to exactly that.
    """
    parts = _split(full_name, kind)
    if len(parts) != 3:
        raise invalid(f"Invalid {kind} name '{full_name}'. Please specify all three levels of "
                      f"the name (catalog.schema.{kind.split()[-1]}), e.g. 'main.default.my_{kind.split()[-1]}'.")
    return FullName(identifier(parts[0], "catalog"), identifier(parts[1], "schema"),
                    identifier(parts[2], kind))


def _split(full_name: object, kind: str) -> list[str]:
    if full_name is None or full_name == "":
        raise invalid("Missing value for required parameter 'name'.")
    if not isinstance(full_name, str):
        raise invalid(f"Invalid {kind} name: {full_name!r} is not a string.")
    return full_name.split(".")
