"""SOQL text -> :mod:`ast` nodes, with an org's MALFORMED_QUERY answers.

The grammar accepts the subset in the reference notes (§2.6) and nothing else: the whole
input must match, so an unsupported clause is a MALFORMED_QUERY instead of being silently
dropped (the flaw that rules out python-soql-parser). Like SOQL, it refuses ``AND`` and
``OR`` mixed at one level without parentheses.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lark import (
    Lark,
    Token,
    Transformer,
    UnexpectedCharacters,
    UnexpectedInput,
    UnexpectedToken,
    v_args,
)
from lark.exceptions import VisitError

from sandbox.salesforce.errors import SfError, located
from sandbox.salesforce.soql import ast

GRAMMAR = r"""
start: query

query: "SELECT"i select_list "FROM"i NAME where? order? limit? offset?

select_list: select_item ("," select_item)*
select_item: path                              -> field_item
           | "(" query ")"                     -> subquery_item
           | NAME "(" ")" NAME?                -> function_item
           | NAME "(" path ")" NAME?           -> function_item

where: "WHERE"i condition

?condition: unary
          | unary ("AND"i unary)+              -> and_chain
          | unary ("OR"i unary)+               -> or_chain

?unary: "NOT"i unary                           -> negation
      | "(" condition ")"
      | comparison

comparison: path OPERATOR value                          -> compare
          | path "IN"i "(" value ("," value)* ")"        -> in_list
          | path "NOT"i "IN"i "(" value ("," value)* ")" -> not_in_list
          | path "IN"i "(" query ")"                     -> in_semi
          | path "NOT"i "IN"i "(" query ")"              -> not_in_semi
          | path "LIKE"i STRING                          -> like
          | path "INCLUDES"i "(" STRING ("," STRING)* ")" -> includes
          | path "EXCLUDES"i "(" STRING ("," STRING)* ")" -> excludes

value: STRING                                  -> string
     | NUMBER                                  -> number
     | DATETIME                                -> datetime
     | DATE                                    -> date
     | NAME                                    -> word
     | NAME ":" NUMBER                         -> word_n

path: NAME ("." NAME)*

order: "ORDER"i "BY"i order_item ("," order_item)*
order_item: path DIRECTION? nulls?
nulls: "NULLS"i NULLS_POSITION

limit: "LIMIT"i NUMBER
offset: "OFFSET"i NUMBER

DIRECTION: /ASC|DESC/i
NULLS_POSITION: /FIRST|LAST/i
OPERATOR: "=" | "!=" | "<>" | "<=" | ">=" | "<" | ">"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /'(?:[^'\\]|\\.)*'/
DATETIME.3: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})/
DATE.2: /\d{4}-\d{2}-\d{2}/
NUMBER: /[+-]?\d+(\.\d+)?/

%import common.WS
%ignore WS
"""

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _at(token: Token) -> ast.Position:
    return ast.Position(token.line or 1, token.column or 1)


def unescape(raw: str, soql: str, at: ast.Position, *, keep_like: bool = False) -> str:
    """The text of a quoted SOQL string. With ``keep_like``, ``\\%`` and ``\\_`` stay
    escaped so LIKE can tell a literal percent from a wildcard."""
    out: list[str] = []
    chars = iter(raw[1:-1])
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        nxt = next(chars, "")
        if nxt in _ESCAPES:
            out.append(("\\" + nxt) if keep_like and nxt == "\\" else _ESCAPES[nxt])
        elif nxt in ("%", "_"):
            out.append(("\\" + nxt) if keep_like else nxt)
        else:
            raise SfError(
                "MALFORMED_QUERY",
                located(
                    soql,
                    at.line,
                    at.column,
                    f"Invalid string literal {raw}. Illegal escape sequence",
                ),
            )
    return "".join(out)


@v_args(inline=True)
class _ToAst(Transformer[Token, Any]):
    def __init__(self, soql: str) -> None:
        super().__init__()
        self.soql = soql

    def start(self, query: ast.Query) -> ast.Query:
        return query

    def query(self, select: list[ast.SelectItem], sobject: Token, *clauses: Any) -> ast.Query:
        parts: dict[str, Any] = {}
        for kind, value in clauses:
            parts[kind] = value
        return ast.Query(
            select=tuple(select),
            sobject=str(sobject),
            sobject_at=_at(sobject),
            where=parts.get("where"),
            order=tuple(parts.get("order", ())),
            limit=parts.get("limit"),
            offset=parts.get("offset"),
        )

    def select_list(self, *items: ast.SelectItem) -> list[ast.SelectItem]:
        return list(items)

    def field_item(self, path: ast.Path) -> ast.FieldItem:
        return ast.FieldItem(path)

    def subquery_item(self, query: ast.Query) -> ast.SubqueryItem:
        return ast.SubqueryItem(query)

    def function_item(self, name: Token, *rest: Any) -> ast.FunctionItem:
        argument = next((r for r in rest if isinstance(r, ast.Path)), None)
        alias = next((str(r) for r in rest if isinstance(r, Token)), None)
        return ast.FunctionItem(str(name).upper(), argument, alias, _at(name))

    def where(self, condition: ast.Condition) -> tuple[str, ast.Condition]:
        return "where", condition

    def and_chain(self, *items: ast.Condition) -> ast.And:
        return ast.And(tuple(items))

    def or_chain(self, *items: ast.Condition) -> ast.Or:
        return ast.Or(tuple(items))

    def negation(self, item: ast.Condition) -> ast.Not:
        return ast.Not(item)

    def compare(self, path: ast.Path, op: Token, value: ast.Literal) -> ast.Comparison:
        operator = "!=" if str(op) == "<>" else str(op)
        return ast.Comparison(path, operator, (value,))

    def in_list(self, path: ast.Path, *values: ast.Literal) -> ast.Comparison:
        return ast.Comparison(path, "IN", tuple(values))

    def not_in_list(self, path: ast.Path, *values: ast.Literal) -> ast.Comparison:
        return ast.Comparison(path, "NOT_IN", tuple(values))

    def in_semi(self, path: ast.Path, query: ast.Query) -> ast.Comparison:
        return ast.Comparison(path, "IN", (), subquery=query)

    def not_in_semi(self, path: ast.Path, query: ast.Query) -> ast.Comparison:
        return ast.Comparison(path, "NOT_IN", (), subquery=query)

    def like(self, path: ast.Path, pattern: Token) -> ast.Comparison:
        return ast.Comparison(path, "LIKE", (self._string(pattern, keep_like=True),))

    def includes(self, path: ast.Path, *values: Token) -> ast.Comparison:
        return ast.Comparison(path, "INCLUDES", tuple(self._string(v) for v in values))

    def excludes(self, path: ast.Path, *values: Token) -> ast.Comparison:
        return ast.Comparison(path, "EXCLUDES", tuple(self._string(v) for v in values))

    def _string(self, token: Token, *, keep_like: bool = False) -> ast.Literal:
        at = _at(token)
        text = unescape(str(token), self.soql, at, keep_like=keep_like)
        return ast.Literal("string", text, at, raw=str(token))

    def string(self, token: Token) -> ast.Literal:
        return self._string(token)

    def number(self, token: Token) -> ast.Literal:
        return ast.Literal("number", str(token), _at(token), raw=str(token))

    def datetime(self, token: Token) -> ast.Literal:
        return ast.Literal("datetime", str(token), _at(token), raw=str(token))

    def date(self, token: Token) -> ast.Literal:
        return ast.Literal("date", str(token), _at(token), raw=str(token))

    def word(self, token: Token) -> ast.Literal:
        upper = str(token).upper()
        if upper in ("TRUE", "FALSE"):
            return ast.Literal("boolean", upper.lower(), _at(token), raw=str(token))
        if upper == "NULL":
            return ast.Literal("null", "null", _at(token), raw=str(token))
        return ast.Literal("date_literal", upper, _at(token), raw=str(token))

    def word_n(self, token: Token, number: Token) -> ast.Literal:
        text = str(number)
        if not text.isdigit():
            raise SfError(
                "MALFORMED_QUERY",
                located(
                    self.soql, number.line or 1, number.column or 1, f"unexpected token: '{text}'"
                ),
            )
        return ast.Literal(
            "date_literal", str(token).upper(), _at(token), raw=f"{token}:{number}", n=int(text)
        )

    def path(self, *names: Token) -> ast.Path:
        return ast.Path(tuple(str(n) for n in names), _at(names[0]))

    def order(self, *items: ast.OrderItem) -> tuple[str, list[ast.OrderItem]]:
        return "order", list(items)

    def order_item(self, path: ast.Path, *rest: Any) -> ast.OrderItem:
        descending = False
        nulls_first: bool | None = None
        for part in rest:
            if isinstance(part, Token) and part.type == "DIRECTION":
                descending = str(part).upper() == "DESC"
            elif isinstance(part, bool):
                nulls_first = part
        return ast.OrderItem(path, descending, nulls_first)

    def nulls(self, position: Token) -> bool:
        return str(position).upper() == "FIRST"

    def limit(self, number: Token) -> tuple[str, int]:
        return "limit", self._count(number, "LIMIT")

    def offset(self, number: Token) -> tuple[str, int]:
        return "offset", self._count(number, "OFFSET")

    def _count(self, number: Token, clause: str) -> int:
        text = str(number)
        if not text.isdigit():
            raise SfError(
                "MALFORMED_QUERY",
                located(
                    self.soql, number.line or 1, number.column or 1, f"unexpected token: '{text}'"
                ),
            )
        return int(text)


def parse(soql: str) -> ast.Query:
    """Parse one SOQL query; any syntax error is a 400 MALFORMED_QUERY in an org's words."""
    try:
        tree = _parser().parse(soql)
    except UnexpectedToken as exc:
        token = exc.token
        text = "<EOF>" if token.type == "$END" else str(token)
        line = token.line if token.line is not None and token.type != "$END" else _last_line(soql)
        column = (
            token.column if token.column is not None and token.type != "$END" else _end_column(soql)
        )
        raise SfError(
            "MALFORMED_QUERY", located(soql, line, column, f"unexpected token: '{text}'")
        ) from None
    except UnexpectedCharacters as exc:
        position = exc.pos_in_stream or 0
        char = soql[position] if position < len(soql) else "<EOF>"
        raise SfError(
            "MALFORMED_QUERY", located(soql, exc.line, exc.column, f"unexpected token: '{char}'")
        ) from None
    except UnexpectedInput as exc:  # EOF and the rest
        raise SfError(
            "MALFORMED_QUERY",
            located(soql, _last_line(soql), _end_column(soql), "unexpected token: '<EOF>'"),
        ) from exc
    try:
        result = _ToAst(soql).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, SfError):
            raise exc.orig_exc from None
        raise
    assert isinstance(result, ast.Query)
    return result


def _last_line(soql: str) -> int:
    return soql.count("\n") + 1


def _end_column(soql: str) -> int:
    return len(soql.split("\n")[-1]) + 1
