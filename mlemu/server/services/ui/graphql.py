"""A small GraphQL executor for the queries the MLflow UI sends to ``POST /graphql``.

graphql-core (installed with the full ``mlflow`` wheel, through graphene) parses the query;
the answer is projected from plain dicts along the query's selection set, so exactly the
selected fields come back (``null`` for fields mlemu does not know, so that a newer UI bundle
asking for more degrades softly instead of failing validation against a fixed schema).
Field names are camelCase over snake_case dicts; 64-bit integers are strings, as in mlflow's
schema (``LongString``).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping

#: A root field's resolver: its arguments (variables substituted) -> a snake_case dict.
Resolver = Callable[[dict[str, Any]], Any]

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """``runUuid`` -> ``run_uuid``."""
    return _CAMEL.sub(r"_\1", name).lower()


class GraphQLUnavailable(Exception):
    """graphql-core is not installed (it comes with the full ``mlflow`` wheel)."""


def execute(query: str, variables: Mapping[str, Any] | None, operation_name: str | None,
            resolvers: Mapping[str, Resolver]) -> dict[str, Any]:
    """``{"data": ..., "errors": ...}`` for one query document."""
    try:
        from graphql import GraphQLError, parse
        from graphql.language import OperationDefinitionNode, OperationType
        from graphql.utilities import value_from_ast_untyped
    except ImportError as e:  # pragma: no cover - graphql-core ships with mlflow
        raise GraphQLUnavailable(str(e)) from None
    try:
        doc = parse(query or "")
    except GraphQLError as e:
        return {"data": None, "errors": [{"message": e.message}]}
    ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        ops = [o for o in ops if o.name is not None and o.name.value == operation_name]
    if len(ops) != 1:
        return {"data": None, "errors": [{"message": f"Unknown or ambiguous operation {operation_name!r}."}]}
    op = ops[0]
    root = "Query"
    if op.operation == OperationType.MUTATION:
        # mlflow's schema lists two reads as mutations (POST-backed); mlemu answers only those.
        root = "Mutation"
        resolvers = {k.split(":", 1)[1]: r for k, r in resolvers.items() if k.startswith("mutation:")}
    elif op.operation == OperationType.QUERY:
        resolvers = {k: r for k, r in resolvers.items() if not k.startswith("mutation:")}
    else:
        return {"data": None, "errors": [{"message": "Only queries are supported by mlemu."}]}
    projector = _Projector(doc)
    variables = dict(variables or {})
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for field in projector.fields(op.selection_set):
        name = field.name.value
        key = field.alias.value if field.alias else name
        if name == "__typename":
            data[key] = root
            continue
        resolver = resolvers.get(name)
        if resolver is None:
            data[key] = None
            errors.append({"message": f"Cannot query field '{name}' on type '{root}'.", "path": [key]})
            continue
        args = {a.name.value: value_from_ast_untyped(a.value, variables) for a in field.arguments}
        data[key] = projector.project(resolver(args), field.selection_set)
    return {"data": data, "errors": errors or None}


class _Projector:
    def __init__(self, doc: Any) -> None:
        from graphql.language import FragmentDefinitionNode
        self._fragments = {d.name.value: d for d in doc.definitions
                           if isinstance(d, FragmentDefinitionNode)}

    def fields(self, selection_set: Any) -> list[Any]:
        """The fields of a selection set, fragments flattened (mlemu answers need no type test)."""
        from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode
        out: list[Any] = []
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                out.append(sel)
            elif isinstance(sel, InlineFragmentNode):
                out.extend(self.fields(sel.selection_set))
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in self._fragments:
                out.extend(self.fields(self._fragments[sel.name.value].selection_set))
        return out

    def project(self, value: Any, selection_set: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [self.project(v, selection_set) for v in value]
        if selection_set is None or not isinstance(value, dict):
            return _scalar(value)
        out: dict[str, Any] = {}
        for field in self.fields(selection_set):
            name = field.name.value
            key = field.alias.value if field.alias else name
            if name == "__typename":
                if "__typename" in value:
                    out[key] = value["__typename"]
                continue
            out[key] = self.project(value.get(snake(name)), field.selection_set)
        return out


def _scalar(value: Any) -> Any:
    # mlflow's schema spells every 64-bit integer (times, steps) as a string (LongString).
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value
