"""``$filter`` (and key literals) to parameterised SQLite, checked against the model.

The grammar is odata-query's (a maintained OData v4 lexer and parser, its AST in
``odata_query.ast``); its own SQL visitor inlines values, so this module walks the AST itself
and emits ``?`` parameters: no quoting bugs, and one prepared statement per query shape. Only
declared properties can be named (internal ``_`` columns and unknown names are a 400 naming
the property), operand types are checked the way ASP.NET OData does, and the semantics are
OData's, not SQL's where they differ:

* ``contains``/``startswith``/``endswith`` are case-sensitive (instr/substr, never LIKE, which
  is case-insensitive in SQLite);
* ``ne`` is true against null (``IS NOT``), ``not`` treats an unknown (null) comparison as false;
* DateTimeOffset literals are turned into the stored form (UTC, ``YYYY-MM-DDTHH:MM:SSZ``), so
  comparisons run on the indexed text column.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from dataclasses import dataclass

from odata_query import ast
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser

from mock_norce.errors import QueryError
from mock_norce.world.model import EntityType

FAMILY = {"Int32": "number", "Int64": "number", "Decimal": "number", "Double": "number",
          "String": "string", "Boolean": "boolean", "DateTimeOffset": "datetime", "Guid": "guid"}
_SQL_OP = {ast.Eq: "=", ast.NotEq: "IS NOT", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_OP_NAME = {ast.Eq: "Equal", ast.NotEq: "NotEqual", ast.Lt: "LessThan", ast.LtE: "LessThanOrEqual",
            ast.Gt: "GreaterThan", ast.GtE: "GreaterThanOrEqual", ast.In: "In"}
_FLIP = {ast.Eq: ast.Eq(), ast.NotEq: ast.NotEq(), ast.Lt: ast.Gt(), ast.LtE: ast.GtE(),
         ast.Gt: ast.Lt(), ast.GtE: ast.LtE()}
_INT64 = 2 ** 63 - 1
_parse_lock = threading.Lock()  # sly's parser keeps its state on the instance
_lexer, _parser = ODataLexer(), ODataParser()


@dataclass(frozen=True)
class Expr:
    sql: str
    params: tuple
    family: str  # number, string, boolean, datetime, guid, null
    edm: str  # for messages: Edm.Int32, Edm.String, ...
    literal: bool = False
    value: object = None  # a literal's stored value


def parse_expression(text: str) -> ast._Node:
    """The odata-query AST of ``text``; any syntax error is a QueryError(400)."""
    try:
        with _parse_lock:
            return _parser.parse(_lexer.tokenize(text))
    except ODataException as exc:
        raise QueryError(400, f"Syntax error in '{text}': {exc}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise QueryError(400, f"Syntax error in '{text}': {exc}") from None


def literal(text: str) -> Expr:
    """A single literal (a key value in ``Orders(5)``, ``ProductSkus('A')``) as an Expr."""
    try:
        tokens = [t for t in _lexer.tokenize(text) if t.type != "WS"]
    except ODataException:
        tokens = []
    if len(tokens) != 1 or not isinstance(tokens[0].value, ast._Literal):
        raise QueryError(400, f"'{text}' is not a literal value")
    return _literal(tokens[0].value)


@functools.lru_cache(maxsize=512)
def compile_filter(entity: EntityType, version: str, text: str) -> tuple[str, tuple]:
    """``$filter`` text -> (SQL boolean expression, parameters) over ``entity``'s table."""
    node = parse_expression(text)
    try:
        expr = _Compiler(entity, version).compile(node)
    except RecursionError:
        raise QueryError(400, "The $filter expression is nested too deeply.") from None
    if expr.family != "boolean":
        raise QueryError(400, f"The $filter expression must evaluate to a boolean, not {expr.edm}.")
    if expr.literal:  # `$filter=true`
        return ("1" if expr.value else "0"), ()
    return expr.sql, expr.params


def stored(prop_type: str, expr: Expr, what: str) -> object:
    """A literal's value as stored in a column of ``prop_type``; 400 if the types differ."""
    if expr.family == "null" or FAMILY[prop_type] == expr.family:
        return expr.value
    raise QueryError(400, f"{what}: expected a value of type Edm.{prop_type}, got {expr.edm}.")


def _literal(node: ast._Literal) -> Expr:
    if isinstance(node, ast.Null):
        return Expr("NULL", (), "null", "null", True, None)
    if isinstance(node, ast.Integer):
        value = int(node.val)
        if abs(value) > _INT64:
            raise QueryError(400, f"The integer literal {node.val} is out of range.")
        edm = "Edm.Int32" if abs(value) < 2 ** 31 else "Edm.Int64"
        return Expr("?", (value,), "number", edm, True, value)
    if isinstance(node, ast.Float):
        return Expr("?", (float(node.val),), "number", "Edm.Decimal", True, float(node.val))
    if isinstance(node, ast.String):
        return Expr("?", (node.val,), "string", "Edm.String", True, node.val)
    if isinstance(node, ast.Boolean):
        value = 1 if node.py_val else 0
        return Expr("?", (value,), "boolean", "Edm.Boolean", True, value)
    if isinstance(node, ast.GUID):
        return Expr("?", (node.val.lower(),), "guid", "Edm.Guid", True, node.val.lower())
    if isinstance(node, (ast.DateTime, ast.Date)):
        value = _instant(node)
        return Expr("?", (value,), "datetime", "Edm.DateTimeOffset", True, value)
    raise QueryError(400, f"Literals of type {type(node).__name__} are not supported.")


def _instant(node: ast._Literal) -> str:
    """A DateTime (or Date, as midnight UTC) literal in the stored form; a fraction of a second
    is kept (``...:00.5Z``) so ``eq`` never matches a stored whole second (see _compare)."""
    try:
        if isinstance(node, ast.Date):
            moment = dt.datetime.combine(node.py_val, dt.time(), dt.timezone.utc)
        else:
            moment = node.py_val
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.timezone.utc)
    except ValueError as exc:
        raise QueryError(400, f"'{node.val}' is not a valid date/time: {exc}") from None
    moment = moment.astimezone(dt.timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


class _Compiler:
    def __init__(self, entity: EntityType, version: str):
        self.entity, self.version = entity, version

    def compile(self, node: ast._Node) -> Expr:
        if isinstance(node, ast._Literal) and not isinstance(node, ast.List):
            return _literal(node)
        if isinstance(node, ast.Identifier):
            return self._property(node)
        if isinstance(node, ast.BoolOp):
            left, right = self.compile(node.left), self.compile(node.right)
            word = "AND" if isinstance(node.op, ast.And) else "OR"
            for side in (left, right):
                if side.family != "boolean":
                    raise QueryError(400, f"The operands of '{word.lower()}' must be boolean, not {side.edm}.")
            return Expr(f"({self._pred(left)} {word} {self._pred(right)})", left.params + right.params,
                        "boolean", "Edm.Boolean")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.compile(node.operand)
            if inner.family != "boolean":
                raise QueryError(400, f"The operand of 'not' must be boolean, not {inner.edm}.")
            return Expr(f"(NOT COALESCE({self._pred(inner)}, 0))", inner.params, "boolean", "Edm.Boolean")
        if isinstance(node, ast.Compare):
            if isinstance(node.comparator, ast.In):
                return self._in(node)
            return self._compare(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Attribute):
            raise QueryError(400, "Property paths (a/b) are not supported in $filter.")
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            raise QueryError(400, "Arithmetic operators are not supported in $filter.")
        if isinstance(node, ast.CollectionLambda):
            raise QueryError(400, "Lambda operators (any/all) are not supported in $filter.")
        raise QueryError(400, f"{type(node).__name__} is not supported in $filter.")

    @staticmethod
    def _pred(expr: Expr) -> str:
        if expr.literal:
            return "1" if expr.value else "0"
        return expr.sql

    def _property(self, node: ast.Identifier) -> Expr:
        wire = node.full_name()
        name = self.entity.member(self.version, wire)
        if name is not None and name in self.entity.navigation:
            raise QueryError(400, f"'{wire}' is a navigation property; navigation is not supported in $filter.")
        if name is None:
            raise QueryError(400, f"Could not find a property named '{wire}' on type "
                                  f"'{self.entity.type_name(self.version)}'.")
        prop = self.entity.properties[name]
        return Expr(f'"{name}"', (), FAMILY[prop.type], f"Edm.{prop.type}")

    def _compare(self, node: ast.Compare) -> Expr:
        left, right = self.compile(node.left), self.compile(node.right)
        op = node.comparator
        if left.literal and not right.literal:
            left, right, op = right, left, _FLIP[type(op)]
        self._check(left, right, op)
        if right.family == "null" or left.family == "null":
            other = left if right.family == "null" else right
            if isinstance(op, (ast.Eq, ast.NotEq)):
                word = "IS NULL" if isinstance(op, ast.Eq) else "IS NOT NULL"
                return Expr(f"({other.sql} {word})", other.params, "boolean", "Edm.Boolean")
            return Expr("(NULL)", (), "boolean", "Edm.Boolean")  # null ordered comparisons: false
        sql_op = _SQL_OP[type(op)]
        if isinstance(op, ast.Eq) and not right.literal:
            sql_op = "IS"  # column eq column: null eq null is true in OData
        params = right.params
        if right.family == "datetime" and right.literal and "." in str(right.value):
            # stored values are whole seconds: x > 00.5 <=> x > 00, x < 00.5 <=> x <= 00
            whole = str(right.value).split(".")[0] + "Z"
            if isinstance(op, (ast.Gt, ast.GtE)):
                sql_op, params = ">", (whole,)
            elif isinstance(op, (ast.Lt, ast.LtE)):
                sql_op, params = "<=", (whole,)
        return Expr(f"({left.sql} {sql_op} {right.sql})", left.params + params, "boolean", "Edm.Boolean")

    def _check(self, left: Expr, right: Expr, op) -> None:
        if "null" in (left.family, right.family) or left.family == right.family:
            return
        raise QueryError(400, f"A binary operator with incompatible types was detected. Found operand "
                              f"types '{left.edm}' and '{right.edm}' for operator kind '{_OP_NAME[type(op)]}'.")

    def _in(self, node: ast.Compare) -> Expr:
        left = self.compile(node.left)
        items = node.right.val if isinstance(node.right, ast.List) else None
        if items is None or not items:
            raise QueryError(400, "'in' takes a parenthesised list of literals: Id in (1,2,3).")
        values = [_literal(item) if isinstance(item, ast._Literal) else None for item in items]
        if any(v is None for v in values):
            raise QueryError(400, "'in' takes literals only.")
        for value in values:
            self._check(left, value, ast.In())
        present = [v for v in values if v.family != "null"]
        parts = []
        params: tuple = ()
        if present:
            parts.append(f"{left.sql} IN ({', '.join('?' for _ in present)})")
            params = left.params + tuple(v.value for v in present)
        if len(present) < len(values):
            parts.append(f"{left.sql} IS NULL")
            params += left.params
        return Expr("(" + " OR ".join(parts) + ")", params, "boolean", "Edm.Boolean")

    def _call(self, node: ast.Call) -> Expr:
        name = node.func.full_name()
        args = [self.compile(a) for a in node.args]
        if name in ("contains", "startswith", "endswith"):
            return self._text_match(name, args)
        if name in ("tolower", "toupper", "trim", "length"):
            (arg,) = args
            self._want(name, arg, "string")
            sql = {"tolower": "lower", "toupper": "upper", "trim": "trim", "length": "length"}[name]
            family, edm = ("number", "Edm.Int32") if name == "length" else ("string", "Edm.String")
            return Expr(f"{sql}({arg.sql})", arg.params, family, edm)
        if name in ("year", "month", "day", "hour", "minute", "second"):
            (arg,) = args
            self._want(name, arg, "datetime")
            start, size = {"year": (1, 4), "month": (6, 2), "day": (9, 2), "hour": (12, 2),
                           "minute": (15, 2), "second": (18, 2)}[name]
            return Expr(f"CAST(substr({arg.sql}, {start}, {size}) AS INTEGER)", arg.params, "number", "Edm.Int32")
        raise QueryError(400, f"The function '{name}' is not supported.")

    @staticmethod
    def _want(name: str, arg: Expr, family: str) -> None:
        if arg.family not in (family, "null"):
            raise QueryError(400, f"'{name}' takes a {family} argument, not {arg.edm}.")

    def _text_match(self, name: str, args: list[Expr]) -> Expr:
        """Case-sensitive, as OData specifies (SQLite's LIKE is case-insensitive)."""
        text, part = args
        self._want(name, text, "string")
        self._want(name, part, "string")
        if part.literal:
            needle = part.value
            if needle is None:
                return Expr("(NULL)", (), "boolean", "Edm.Boolean")
            if needle == "":
                return Expr(f"({text.sql} IS NOT NULL)", text.params, "boolean", "Edm.Boolean")
            if name == "contains":
                return Expr(f"(instr({text.sql}, ?) > 0)", text.params + (needle,), "boolean", "Edm.Boolean")
            start = "1" if name == "startswith" else f"-{len(needle)}"
            return Expr(f"(substr({text.sql}, {start}, {len(needle)}) = ?)", text.params + (needle,),
                        "boolean", "Edm.Boolean")
        if name == "contains":
            return Expr(f"(instr({text.sql}, {part.sql}) > 0)", text.params + part.params, "boolean", "Edm.Boolean")
        start = "1" if name == "startswith" else f"-length({part.sql})"
        return Expr(f"(length({part.sql}) = 0 OR substr({text.sql}, {start}, length({part.sql})) = {part.sql})",
                    part.params + text.params + part.params + part.params + part.params
                    if name == "endswith" else part.params + text.params + part.params + part.params,
                    "boolean", "Edm.Boolean")
