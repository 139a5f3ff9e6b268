"""A monitor's slicing expressions: SQL expressions over the monitored table's columns, checked
when the monitor is created or updated and evaluated at each refresh, never with ``eval``.

With the SQL engine (``mlemu[sql]``) an expression is parsed as Databricks SQL by sqlglot and
admitted when every node is a column of the table (unqualified), a literal, an operator
(comparison, ``AND``/``OR``/``NOT``, arithmetic, ``IN``, ``IS [NOT] NULL``, ``BETWEEN``,
``LIKE``), ``CASE``/``CAST``, or a call to a Databricks built-in scalar function (the SQL
guard's allow-list; no aggregates, windows, subqueries or tables); DuckDB then evaluates it over
the table's frame on a database of its own, with the SQL engine's Databricks rewrites (``x / 0``
raises ``DIVIDE_BY_ZERO``, ``current_date()`` is the refresh's date). Without the engine, a small parser here admits
exactly: column names (bare or in backquotes), number and string literals, ``TRUE``,
``FALSE``, ``NULL``, ``= == != <> < <= > >=``, ``AND``, ``OR``, ``NOT``, ``+ - * / %``, unary
minus, parentheses, ``[NOT] IN (literal, ...)`` and ``IS [NOT] NULL``, evaluated with pandas
with SQL's rules (a comparison with NULL is NULL; ``x / 0`` raises ``DIVIDE_BY_ZERO``).

Anything else is refused when the monitor is created or updated with
``INVALID_PARAMETER_VALUE`` [emu: message wording]; a column the table lacks fails the refresh.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mlemu.server.core.errors import invalid

if TYPE_CHECKING:
    import pandas as pd

#: [emu] Longest slicing expression accepted.
MAX_EXPRESSION_CHARS = 4096


def _engine_present() -> bool:
    from mlemu.server.services.sql.engine import missing_engine

    return missing_engine() is None


def check(expr: str, use_engine: bool | None = None) -> None:
    """Refuse an expression outside the admitted grammar (``INVALID_PARAMETER_VALUE``)."""
    if not isinstance(expr, str) or not expr.strip():
        raise invalid("Slicing expressions must be non-empty strings.")
    if len(expr) > MAX_EXPRESSION_CHARS:
        raise invalid(f"Invalid slicing expression: longer than {MAX_EXPRESSION_CHARS} characters.")
    try:
        if use_engine if use_engine is not None else _engine_present():
            _sql_tree(expr)
        else:
            _Parser(expr).parse()
    except _Refused as e:
        raise invalid(f"Invalid slicing expression '{expr}': {e}.") from None


def evaluate(frame: "pd.DataFrame", expr: str, use_engine: bool | None = None, now_ms: int = 0) -> "pd.Series":
    """The expression's value for each row of ``frame`` (``now_ms``: the refresh's time);
    ``ValueError`` when it cannot be evaluated (a missing column, a failing function...)."""
    check(expr, use_engine)
    if use_engine if use_engine is not None else _engine_present():
        return _evaluate_sql(frame, expr, now_ms)
    return _Evaluator(frame).value(_Parser(expr).parse())


class _Refused(Exception):
    """Outside the admitted grammar."""


# -- with the SQL engine (sqlglot + DuckDB) --------------------------------------------------------

def _sql_tree(expr: str) -> Any:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    from mlemu.server.services.sql import guard
    from mlemu.server.services.sql.errors import SqlError

    try:
        guard.check_text(expr)
        tree = sqlglot.parse_one(expr, read="databricks")
        guard.check_calls(tree)
    except (ParseError, TokenError, SqlError) as e:
        raise _Refused(str(e).split("\n")[0]) from None
    except RecursionError:
        raise _Refused("nested too deeply") from None
    for node in tree.walk():
        if isinstance(node, exp.Column) and node.table:
            raise _Refused(f"column references must be unqualified, not {node.sql('databricks')}")
        if isinstance(node, (exp.AggFunc, exp.Window, exp.Lambda)) or not isinstance(node, _admitted_nodes()):
            raise _Refused(f"{node.sql('databricks')[:60]} is not allowed in a slicing expression")
    return tree


def _admitted_nodes() -> tuple[type, ...]:
    from sqlglot import exp

    return (exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Tuple, exp.Neg,
            exp.Not, exp.And, exp.Or, exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ, exp.LT, exp.LTE, exp.GT,
            exp.GTE, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv, exp.In, exp.Is, exp.Between,
            exp.Like, exp.ILike, exp.DataType, exp.DataTypeParam, exp.Interval, exp.Var, exp.Func)


def _evaluate_sql(frame: "pd.DataFrame", expr: str, now_ms: int) -> "pd.Series":
    import duckdb
    from sqlglot import exp

    from mlemu.server.services.sql.dialect import rewrite
    from mlemu.server.services.sql.engine import open_database
    from mlemu.server.services.sql.errors import from_duckdb, unbound_parameter

    tree = _sql_tree(expr)
    for column in tree.find_all(exp.Column):
        if column.name not in frame.columns:
            raise ValueError(f"Slicing expression '{expr}' could not be evaluated: column `{column.name}` does not "
                             "exist in the monitored table")
    db = open_database()
    try:
        db.register("monitored", frame)
        fixed = rewrite(exp.select(tree.as_("slice_value")).from_("monitored"), resolve=lambda t: "monitored",
                        now_ms=now_ms, parameters={}, on_unbound=unbound_parameter)
        sql = fixed.sql("duckdb")
        return db.execute(sql).df()["slice_value"]
    except duckdb.Error as e:
        raise ValueError(f"Slicing expression '{expr}' could not be evaluated: {from_duckdb(e).text}") from None
    finally:
        db.close()


# -- without it: the small grammar ------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:
    (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>`(?:[^`]|``)+`)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|<>|!=|==|[=<>+\-*/%(),])
)""", re.X)
_COMPARISONS = {"=", "==", "!=", "<>", "<", "<=", ">", ">="}
_KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE"}
Node = tuple[Any, ...]


class _Parser:
    """Recursive descent over the grammar in the module docstring; nesting is bounded like SQL's."""

    def __init__(self, text: str) -> None:
        from mlemu.server.services.sql.guard import MAX_NESTING

        self.tokens = self._tokens(text)
        self.pos = 0
        self.depth = 0
        self.max_depth = MAX_NESTING

    @staticmethod
    def _tokens(text: str) -> list[tuple[str, str]]:
        out, pos = [], 0
        while pos < len(text):
            if not text[pos:].strip():
                break
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise _Refused(f"unexpected text at position {pos}: {text[pos:pos + 20]!r}")
            kind = m.lastgroup or ""
            out.append((kind, m.group(kind)))
            pos = m.end()
        return out

    def parse(self) -> Node:
        node = self._or()
        if self.pos != len(self.tokens):
            raise _Refused(f"unexpected {self.tokens[self.pos][1]!r}")
        return node

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def _keyword(self, *words: str) -> bool:
        kind, text = self._peek()
        if kind == "word" and text.upper() in words:
            self.pos += 1
            return True
        return False

    def _op(self, *ops: str) -> str | None:
        kind, text = self._peek()
        if kind == "op" and text in ops:
            self.pos += 1
            return text
        return None

    def _nest(self) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise _Refused(f"nested deeper than {self.max_depth} levels")

    def _or(self) -> Node:
        node = self._and()
        while self._keyword("OR"):
            node = ("or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._not()
        while self._keyword("AND"):
            node = ("and", node, self._not())
        return node

    def _not(self) -> Node:
        return self._prefixed("not", self._not) if self._keyword("NOT") else self._comparison()

    def _prefixed(self, kind: str, operand: Any) -> Node:
        """A prefix operator: one nesting level for its operand."""
        self._nest()
        node = (kind, operand())
        self.depth -= 1
        return node

    def _comparison(self) -> Node:
        left = self._sum()
        op = self._op(*_COMPARISONS)
        if op:
            return ("cmp", op, left, self._sum())
        if self._keyword("IS"):
            negated = self._keyword("NOT")
            if not self._keyword("NULL"):
                raise _Refused("IS must be followed by [NOT] NULL")
            return ("isnull", left, negated)
        negated = self._keyword("NOT")
        if self._keyword("IN"):
            if not self._op("("):
                raise _Refused("IN needs a parenthesized list of literals")
            values = [self._literal()]
            while self._op(","):
                values.append(self._literal())
            if not self._op(")"):
                raise _Refused("unclosed IN list")
            return ("in", left, values, negated)
        if negated:
            raise _Refused("NOT must be followed by IN here")
        return left

    def _sum(self) -> Node:
        return self._arithmetic(("+", "-"), self._product)

    def _product(self) -> Node:
        return self._arithmetic(("*", "/", "%"), self._unary)

    def _arithmetic(self, ops: tuple[str, ...], operand: Any) -> Node:
        node = operand()
        while True:
            op = self._op(*ops)
            if not op:
                return node
            node = ("arith", op, node, operand())

    def _unary(self) -> Node:
        return self._prefixed("neg", self._unary) if self._op("-") else self._primary()

    def _primary(self) -> Node:
        if self._op("("):
            self._nest()
            node = self._or()
            self.depth -= 1
            if not self._op(")"):
                raise _Refused("unclosed parenthesis")
            return node
        kind, text = self._peek()
        if kind == "quoted" or (kind == "word" and text.upper() not in _KEYWORDS):
            self.pos += 1
            return ("col", text[1:-1].replace("``", "`") if kind == "quoted" else text)
        return ("lit", self._literal())

    def _literal(self) -> Any:
        kind, text = self._peek()
        self.pos += 1
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "word" and text.upper() in ("TRUE", "FALSE"):
            return text.upper() == "TRUE"
        if kind == "word" and text.upper() == "NULL":
            return None
        raise _Refused(f"unexpected {text!r}" if text else "unexpected end of expression")


class _Evaluator:
    """Evaluates a parsed expression column-wise with pandas, with SQL's NULL rules."""

    def __init__(self, frame: "pd.DataFrame") -> None:
        self.frame = frame

    def value(self, node: Node) -> "pd.Series":
        import pandas as pd

        out = self._eval(node)
        if not isinstance(out, pd.Series):
            out = pd.Series([out] * len(self.frame), index=self.frame.index)
        return out

    def _eval(self, node: Node) -> Any:
        import pandas as pd

        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "col":
            if node[1] not in self.frame.columns:
                raise ValueError(f"column `{node[1]}` does not exist in the monitored table")
            return self.frame[node[1]]
        if kind == "neg":
            return -self._eval(node[1])
        if kind == "not":
            return ~self._bool(self._eval(node[1]))
        if kind in ("and", "or"):
            left, right = self._bool(self._eval(node[1])), self._bool(self._eval(node[2]))
            return left & right if kind == "and" else left | right
        if kind == "isnull":
            nulls = self.value(node[1]).isna()
            return ~nulls if node[2] else nulls
        if kind == "in":
            column = self.value(node[1])
            hit = self._bool(column.isin([v for v in node[2] if v is not None]))
            hit[column.isna()] = pd.NA
            return ~hit if node[3] else hit
        left, right = self.value(node[2]), self.value(node[3])
        nulls = left.isna() | right.isna()
        if kind == "cmp":
            op = node[1]
            result = {"=": left == right, "==": left == right, "!=": left != right, "<>": left != right,
                      "<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
            result = self._bool(result)
            result[nulls] = pd.NA
            return result
        op = node[1]
        if op in ("/", "%"):
            if bool(((right == 0) & ~nulls).any()):
                raise ValueError("[DIVIDE_BY_ZERO] Division by zero")
            right = right.where(right != 0)
        result = {"+": left + right, "-": left - right, "*": left * right, "/": left / right, "%": left % right}[op]
        return result.where(~nulls)

    def _bool(self, value: Any) -> "pd.Series":
        import pandas as pd

        series = self.value(("lit", value)) if not isinstance(value, pd.Series) else value
        try:
            return series.astype("boolean")
        except (TypeError, ValueError):
            raise ValueError("a boolean operator was applied to a value that is not boolean") from None


def is_boolean(values: "pd.Series") -> bool:
    """Whether a slicing expression's values are booleans (sliced into true/false)."""
    import pandas as pd

    return bool(pd.api.types.is_bool_dtype(values.dtype)) or (
        values.dtype == object and values.dropna().map(type).isin([bool]).all() and values.notna().any())

