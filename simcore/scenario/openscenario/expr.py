"""OpenSCENARIO ``${...}`` expressions: a small safe evaluator (no ``eval``).

Grammar (OpenSCENARIO 1.1-1.3, section "Expressions"): numbers, ``$name`` parameter references,
``+ - * / %``, unary ``-``, ``**`` (power, 1.2 spelling ``pow``), parentheses, the functions
``round floor ceil sqrt pow sin cos tan asin acos atan sign abs max min`` and, for boolean
expressions, ``not and or == != < <= > >=`` (true/false as 1/0). Anything else is an error
naming what was not understood.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|(?P<par>\$[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\*\*|==|!=|<=|>=|[-+*/%(),<>]))"
)
_FUNCS: dict[str, Callable[..., float]] = {
    "round": lambda x: float(math.floor(x + 0.5)),
    "floor": lambda x: float(math.floor(x)),
    "ceil": lambda x: float(math.ceil(x)),
    "sqrt": math.sqrt,
    "pow": math.pow,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "sign": lambda x: float((x > 0) - (x < 0)),
    "abs": abs,
    "max": max,
    "min": min,
}
_BINARY = {  # operator: (precedence, function)
    "or": (1, lambda a, b: float(bool(a) or bool(b))),
    "and": (2, lambda a, b: float(bool(a) and bool(b))),
    "==": (3, lambda a, b: float(a == b)),
    "!=": (3, lambda a, b: float(a != b)),
    "<": (4, lambda a, b: float(a < b)),
    "<=": (4, lambda a, b: float(a <= b)),
    ">": (4, lambda a, b: float(a > b)),
    ">=": (4, lambda a, b: float(a >= b)),
    "+": (5, lambda a, b: a + b),
    "-": (5, lambda a, b: a - b),
    "*": (6, lambda a, b: a * b),
    "/": (6, lambda a, b: a / b),
    "%": (6, math.fmod),
    "**": (8, math.pow),
}
MAX_LENGTH = 1000
"""Longest accepted expression (characters)."""


class ExpressionError(ValueError):
    """The expression is malformed or names an unknown parameter/function."""


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ExpressionError(f"cannot read {text[pos : pos + 10]!r} at character {pos + 1}")
        out.append(m.group(m.lastgroup or "op"))
        pos = m.end()
    return out


def evaluate(text: str, lookup: Callable[[str], float | str | bool]) -> float:
    """Value of expression ``text`` (without the ``${ }``); ``lookup(name)`` gives parameter values."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    toks = _tokens(text)
    pos = 0

    def peek() -> str | None:
        return toks[pos] if pos < len(toks) else None

    def take(expected: str | None = None) -> str:
        nonlocal pos
        tok = peek()
        if tok is None or (expected is not None and tok != expected):
            raise ExpressionError(f"expected {expected or 'a value'}, got {tok or 'the end'}")
        pos += 1
        return tok

    def number(v: float | str | bool, name: str) -> float:
        if isinstance(v, bool):
            return float(v)
        if isinstance(v, (int, float)):
            return float(v)
        low = str(v).strip().lower()
        if low in ("true", "false"):
            return float(low == "true")
        try:
            return float(v)
        except ValueError:
            raise ExpressionError(f"parameter {name} is {v!r}, not a number") from None

    def atom() -> float:
        tok = take()
        if tok == "(":
            v = expr(0)
            take(")")
            return v
        if tok == "-":
            return -atom_power()
        if tok == "not":
            return float(not atom_power())
        if tok.startswith("$"):
            return number(lookup(tok[1:]), tok)
        if tok in ("true", "false"):
            return float(tok == "true")
        if tok in _FUNCS:
            take("(")
            args = [expr(0)]
            while peek() == ",":
                take(",")
                args.append(expr(0))
            take(")")
            try:
                return float(_FUNCS[tok](*args))
            except (TypeError, ValueError) as exc:
                raise ExpressionError(f"{tok}({', '.join(f'{a:g}' for a in args)}): {exc}") from None
        if tok[0].isdigit() or tok[0] == ".":
            return float(tok)
        raise ExpressionError(f"unknown name or symbol {tok!r}")

    def atom_power() -> float:
        v = atom()
        if peek() == "**":
            take()
            return math.pow(v, atom_power())
        return v

    def expr(min_prec: int) -> float:
        left = atom_power()
        while True:
            op = peek()
            if op not in _BINARY or _BINARY[op][0] <= min_prec:
                return left
            take()
            prec, fn = _BINARY[op]
            right = expr(prec)
            try:
                left = float(fn(left, right))
            except (ZeroDivisionError, ValueError) as exc:
                raise ExpressionError(f"{left:g} {op} {right:g}: {exc}") from None

    value = expr(0)
    if peek() is not None:
        raise ExpressionError(f"unexpected {peek()!r}")
    return value
