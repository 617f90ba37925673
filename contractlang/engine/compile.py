"""The contract's expressions compiled to column expressions.

`Compiler.compile(expr, point, cond)` turns one expression, evaluated at a point,
into a `Col`: a Polars expression over a frame of subjects (a null is a missing
value, which propagates through every operator as in `expressions.evaluate`),
and records every ledger read it makes with the condition under which the
row-by-row interpreter would make it (the arm of a `match`, the earlier point
of a `previous()`), so that row accounting is exact.

What cannot be computed exactly over columns (a quotient per subject) raises
`Unsupported`; the caller then settles with the row-by-row interpreter.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from decimal import Decimal
from fractions import Fraction

import attrs
import polars as pl

from .. import model as m
from ..expressions import (_ARITH_WORDS, _KIND_WORDS, COMPARISONS, MISSING, EvalError, _settled, not_a_number,
                           quantity_value, undefined)
from .frames import line_col, value_col
from .numbers import INT, Num, align, literal, rescale, round_num

NUM, BOOL, STR, DATE = "num", "bool", "str", "date"
MISS = "missing"  # a figure or metric without a value: of no kind, so it cannot decide one


class Unsupported(Exception):
    """An expression the columnar engine cannot evaluate exactly."""


@attrs.frozen
class Col:
    """A compiled expression: its kind and its column (`num` for numbers, `expr` otherwise)."""

    kind: str
    expr: pl.Expr | None = None
    num: Num | None = None

    @property
    def column(self) -> pl.Expr:
        return self.num.expr if self.kind == NUM else self.expr

    def is_null(self) -> pl.Expr:
        return self.column.is_null()


def const(value) -> Col:
    """A Python value (as the interpreter computes them) as a literal column."""
    if value is MISSING or value is None:
        return Col(MISS, pl.lit(None, dtype=pl.Utf8))
    if isinstance(value, bool):
        return Col(BOOL, pl.lit(value))
    if isinstance(value, Fraction):
        value = _settled(value)
        if isinstance(value, Fraction):
            raise Unsupported("a fraction without a finite decimal expansion in a column")
    if isinstance(value, (Decimal, int)):
        return Col(NUM, num=literal(value))
    if isinstance(value, dt.date):
        return Col(DATE, pl.lit(value))
    return Col(STR, pl.lit(str(value), dtype=pl.Utf8))


def as_num(c: Col) -> Num:
    """A value used as a number: true/false count as 1/0 (an outcome that is a condition)."""
    if c.kind == NUM:
        return c.num
    if c.kind == BOOL:
        return Num(c.expr.cast(INT), 0)
    if c.kind == MISS:
        raise Unsupported("a figure without a value used as a number")
    raise EvalError(f"an outcome must be a number or true/false, not a {c.kind}")


def strict(result: pl.Expr, parts: list[Col]) -> pl.Expr:
    """`result`, or missing where any part is missing (the interpreter's rule for and/or/between/max…)."""
    nulls = pl.any_horizontal(*[p.is_null() for p in parts])
    return pl.when(nulls).then(None).otherwise(result)


@attrs.define
class Read:
    """A measure read at a point, under a condition (a row mask)."""

    measure: str
    point: str
    cond: pl.Expr


class Compiler:
    """Compiles expressions for one kind of frame (a goal's subjects, a flag's households …)."""

    def __init__(self, contract: m.Contract, scales: dict[str, int], lets=(), named=None, names=None,
                 attributes=(), level: str = "persons", due=None, three_valued: bool = False):
        self.contract = contract
        self.scales = scales
        self.measures = {ms.id: ms for ms in contract.measures}
        self.tables = {t.id: t for t in contract.tables}
        self.roundings = {r.id: r for r in contract.roundings}
        self.lets = {let.name: let.expr for let in lets}
        self.named = named            # name -> Python value of a figure or metric, or None
        self.names = dict(names or {})  # extra names -> Col (`this`)
        self.attributes = set(attributes)
        self.level = level
        self.due = due  # point -> a row mask: whether the point has fallen (outside a goal; None: not asked)
        self.three_valued = three_valued  # a goal's `conditions three-valued`: and/or as Kleene's (Polars' own)
        self.reads: list[Read] = []
        self.trail = None  # a `trails.Trail` recording each row's steps as the interpreter would, or None
        self.checks: list[tuple[pl.Expr, str]] = []  # (row mask, message): an evaluation error where true

    @property
    def needed(self) -> set[tuple[str, str]]:
        return {(r.measure, r.point) for r in self.reads}

    # ---- names ------------------------------------------------------------------------------
    def measure(self, name: str, point: str | None, cond: pl.Expr) -> Col:
        ms = self.measures[name]
        if point is None:
            if len(ms.points) != 1:
                raise EvalError(f"the measure '{name}' is taken at {', '.join(ms.points)}; say which with @point")
            point = ms.points[0]
        col = pl.col(value_col(name, point))
        if self.due is not None:  # a point not yet due is missing, and its row is not read
            mask = self.due(point)
            cond = cond & mask
            col = pl.when(mask).then(col)
        self.reads.append(Read(name, point, cond))
        if ms.kind == "boolean":
            value = Col(BOOL, col)
        elif ms.kind in ("integer", "decimal"):
            value = Col(NUM, num=Num(col, self.scales.get(name, 0)))
        else:
            value = Col(STR, col)
        if self.trail is not None:
            self.trail.read(name, point, cond, value, pl.col(line_col(name, point)))
        return value

    def ref(self, name: str, point, cond) -> Col | None:
        """What a name reads, or None when it names nothing (then it can only be a named value)."""
        if name in self.names:
            return self.names[name]
        if name in self.lets:
            if self.trail is None:
                return self.compile(self.lets[name], point, cond)
            first = self.trail.first_let(name, point, cond)  # a let is evaluated (and traced) once per point
            value = self.compile(self.lets[name], point, first)
            self.trail.let(name, point, first, self.lets[name], value)
            return value
        if name in self.measures:
            return self.measure(name, point, cond)
        if self.named is not None:
            value = self.named(name)
            if value is not None:
                if self.trail is not None:
                    self.trail.named(name, cond)
                return const(value)
        if name in self.attributes:
            col = pl.col(f"@{name}")
            if name in ("age", "school_grade"):
                return Col(NUM, num=Num(col, 0))
            if name in ("start_date", "end_date"):
                return Col(DATE, col)
            if name in ("ended", "replaced"):
                return Col(BOOL, col)
            return Col(STR, col)
        return None

    def operand(self, expr, point, cond) -> Col | str:
        """A comparison's operand or a lookup's key: compiled, or the name itself for a bare name that names
        nothing (an enum value, a table row), as `expressions._operand`."""
        if type(expr) is m.Ref:
            col = self.ref(expr.name, point, cond)
            return expr.name if col is None else col
        return self.compile(expr, point, cond)

    def compared(self, a, b, point, cond, left=None) -> tuple[Col, Col]:
        """Both sides of a comparison; a bare name beside a named value (text) is that value, beside
        anything else an error (as `expressions._compared`)."""
        left = self.operand(a, point, cond) if left is None else left
        right = self.operand(b, point, cond)
        for this, other in ((left, right), (right, left)):
            if isinstance(this, str) and (isinstance(other, str) or other.kind not in (STR, MISS)):
                raise EvalError(undefined(this))
        return tuple(Col(STR, pl.lit(x, dtype=pl.Utf8)) if isinstance(x, str) else x for x in (left, right))

    # ---- expressions --------------------------------------------------------------------------
    def compile(self, expr, point: str | None, cond: pl.Expr | None = None) -> Col:
        cond = pl.lit(True) if cond is None else cond
        t = type(expr)
        if t is m.Quantity:
            return Col(NUM, num=literal(quantity_value(expr)))
        if t is m.Ref:
            col = self.ref(expr.name, point, cond)
            if col is None:
                raise EvalError(undefined(expr.name))
            return col
        if t is m.At:
            return self.compile(expr.expr, expr.point, cond)
        if t is m.DateLit:
            return Col(DATE, pl.lit(expr.value))
        if t is m.BoolOp:
            parts = [self.compile(o, point, cond) for o in expr.operands]
            if any(p.kind != BOOL for p in parts):
                raise Unsupported("and/or of values that are not conditions")
            if self.three_valued:  # false & missing = false, true | missing = true: Polars' & and | on nulls
                return Col(BOOL, functools.reduce(operator.and_ if expr.op == "and" else operator.or_,
                                                  [p.expr for p in parts]))
            combined = (pl.all_horizontal if expr.op == "and" else pl.any_horizontal)(*[p.expr for p in parts])
            return Col(BOOL, strict(combined, parts))
        if t is m.Binary:
            return self.binary(expr, point, cond)
        if t is m.In:
            v = self.compile(expr.operand, point, cond)
            if v.kind != STR:
                raise Unsupported("`in {…}` of a value that is not an enum value")
            return Col(BOOL, strict(v.expr.is_in(list(expr.values)), [v]))
        if t is m.Between:
            v = self.compile(expr.operand, point, cond)
            lo, hi = self.compared(expr.operand, expr.low, point, cond, v)[1], \
                self.compared(expr.operand, expr.high, point, cond, v)[1]
            result = self.compare(">=", v, lo) & self.compare("<=", v, hi)
            return Col(BOOL, strict(result, [v, lo, hi]))
        if t is m.Not:
            v = self.compile(expr.operand, point, cond)
            if v.kind != BOOL:
                raise Unsupported("`not` of a value that is not a condition")
            return Col(BOOL, ~v.expr)
        if t is m.Neg:
            v = self.compile(expr.operand, point, cond)
            if v.kind == MISS:
                raise Unsupported("a minus sign before a figure without a value")
            if v.kind != NUM:
                raise EvalError(not_a_number("a minus sign negates", v.kind))
            return Col(NUM, num=Num(-v.num.expr, v.num.scale))
        if t is m.Lookup:
            return self.lookup(expr, point, cond)
        if t is m.Call:
            return self.call(expr, point, cond)
        if t is m.Match:
            return self.match(expr, point, cond)
        if t is m.Count:  # a count over the programme inside a row's expression: the interpreter evaluates it
            raise Unsupported("count() inside an expression read per row")
        if t is m.If:
            raise Unsupported("if … then … else (the interpreter evaluates it)")
        raise EvalError(f"{t.__name__} cannot be used here")

    def binary(self, expr: m.Binary, point, cond) -> Col:
        op = expr.op
        if op in COMPARISONS:
            left, right = self.compared(expr.left, expr.right, point, cond)
            return Col(BOOL, self.compare(op, left, right))
        left = self.compile(expr.left, point, cond)
        if (op in "+-" and left.kind == DATE and isinstance(expr.right, m.Quantity)
                and expr.right.canonical_unit == "months"):
            from .frames import add_months
            months = int(expr.right.value)
            return Col(DATE, add_months(left.expr, months if op == "+" else -months))
        right = self.compile(expr.right, point, cond)
        for side in (left, right):  # a condition, a named value or a date is not a number (as `expressions._binary`)
            if side.kind == MISS:
                raise Unsupported("arithmetic on a figure without a value")
            if side.kind != NUM:
                raise EvalError(not_a_number(_ARITH_WORDS[op], side.kind))
        if op in ("+", "-", "*"):
            if op == "*":
                return Col(NUM, num=Num(left.num.expr * right.num.expr, left.num.scale + right.num.scale))
            a, b, s = align(left.num, right.num)
            return Col(NUM, num=Num(a + b if op == "+" else a - b, s))
        if op == "/":
            raise Unsupported("a quotient per subject")
        raise EvalError(f"unknown operator {op}")

    def compare(self, op: str, left: Col, right: Col) -> pl.Expr:
        if MISS in (left.kind, right.kind):
            raise Unsupported("a comparison with a figure without a value")
        if left.kind != right.kind:
            raise EvalError(f"'{op}' compares {_KIND_WORDS[left.kind]} with {_KIND_WORDS[right.kind]}")
        if left.kind == NUM:
            a, b, _ = align(left.num, right.num)
        else:
            if op not in ("==", "!=") and left.kind not in (DATE,):
                raise Unsupported(f"'{op}' between values that are not numbers or dates")
            a, b = left.expr, right.expr
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]

    def lookup(self, expr: m.Lookup, point, cond) -> Col:
        rows = {r.id for r in self.tables[expr.table].rows}
        if type(expr.key) is m.Ref and expr.key.name in rows:
            key = expr.key.name  # inside a table's brackets the name of one of its rows is that row
        else:
            key = self.operand(expr.key, point, cond)  # a bare name naming nothing is a row's name
        table = self.tables[expr.table]
        if self.trail is not None and (isinstance(key, str) or key.kind == STR):
            self.trail.lookup(expr, table, key, cond)
        key = Col(STR, pl.lit(key, dtype=pl.Utf8)) if isinstance(key, str) else key
        if key.kind != STR:
            raise Unsupported("a table looked up by a value that is not a row name")
        index = next(i for i, c in enumerate(table.columns) if c.id == expr.column)
        cells = {r.id: r.cells[index] for r in table.rows}
        self.checks.append((key.expr.is_not_null() & ~key.expr.is_in(list(cells)),
                            f"table {table.id} has no row for a key read"))
        values = {k: quantity_value(c) if isinstance(c, m.Quantity) else c.name if isinstance(c, m.Symbol) else None
                  for k, c in cells.items()}
        numbers = [v for v in values.values() if isinstance(v, Decimal)]
        if numbers and len(numbers) != sum(v is not None for v in values.values()):
            raise Unsupported(f"column {expr.column} of {table.id} mixes numbers and names")
        if numbers:
            scale = max(literal(v).scale for v in numbers)
            mapping = {k: (int(v.scaleb(scale)) if v is not None else None) for k, v in values.items()}
            return Col(NUM, num=Num(key.expr.replace_strict(mapping, default=None, return_dtype=INT), scale))
        return Col(STR, key.expr.replace_strict(values, default=None, return_dtype=pl.Utf8))

    def call(self, expr: m.Call, point, cond) -> Col:
        f = expr.func
        if f == "previous":
            return self.previous(expr, point, cond)
        if f in ("total", "mean", "deviation"):
            raise EvalError(f"{f}() sums over the ledger; it can only be used in a figure")
        if f in ("size", "irr", "multiple"):
            raise Unsupported(f"{f}() (the interpreter evaluates it)")
        if f == "round":
            v = self.compile(expr.args[0], point, cond)
            if v.kind == MISS:
                raise Unsupported("round() of a figure without a value")
            if v.kind != NUM:
                raise EvalError(not_a_number("round() rounds", v.kind))
            rule = self.roundings[expr.args[1].name]
            after = round_num(v.num, rule.places, rule.mode)
            if self.trail is not None:
                self.trail.rounded(rule, point, cond, v, after)
            return Col(NUM, num=after)
        parts = [self.compile(a, point, cond) for a in expr.args]
        if f in ("max", "min") and all(p.kind == DATE for p in parts):
            raise Unsupported(f"{f}() of dates")
        if any(p.kind == MISS for p in parts):
            raise Unsupported(f"{f}() of a figure without a value")
        for p in parts:
            if p.kind != NUM:
                what = "abs() takes the absolute value of" if f == "abs" else f"{f}() takes the {f}imum of"
                raise EvalError(not_a_number(what, p.kind))
        if f == "abs":
            return Col(NUM, num=Num(parts[0].num.expr.abs(), parts[0].num.scale))
        if f in ("max", "min"):
            s = max(p.num.scale for p in parts)
            cols = [rescale(p.num, s) for p in parts]
            combined = (pl.max_horizontal if f == "max" else pl.min_horizontal)(*cols)
            return Col(NUM, num=Num(strict(combined, parts), s))
        raise EvalError(f"unknown function {f}")

    def previous(self, expr: m.Call, point, cond) -> Col:
        """The latest observation of a measure before `point`, else the default (reads walk back from the latest)."""
        name = expr.args[0].name
        ms = self.measures[name]
        if ms.kind != "enum":  # a number's default is a number: the interpreter reads it
            raise Unsupported("previous() of a measure that is not an enum")
        default = expr.args[1].name if len(expr.args) > 1 else None
        earlier = ms.points[:ms.points.index(point)] if point in ms.points else ()
        values, walks = [], []
        for p in reversed(earlier):
            c = self.measure(name, p, cond)
            values.append(c.expr)
            walks.append((p, cond, c.expr))
            cond = cond & c.expr.is_null()
        if self.trail is not None:
            self.trail.previous(name, point, default, walks, cond)
        return Col(STR, pl.coalesce(*values, pl.lit(default, dtype=pl.Utf8)))

    def match(self, expr: m.Match, point, cond) -> Col:
        subject = self.compile(expr.subject, point, cond)
        if subject.kind != STR:
            raise Unsupported("a match on a value that is not an enum value")
        matched = pl.lit(False)
        arms = []
        for arm in expr.arms:
            here = subject.expr.is_in(list(arm.values)) & ~matched
            arms.append((here.fill_null(False), self.compile(arm.result, point, cond & here.fill_null(False))))
            matched = matched | here
        self.checks.append((subject.expr.is_not_null() & ~matched.fill_null(False),
                            "no arm of the match covers the value read"))
        kinds = {c.kind for _, c in arms}
        if kinds <= {NUM, BOOL} and NUM in kinds:
            nums = [as_num(c) for _, c in arms]
            s = max(n.scale for n in nums)
            results = [(w, rescale(n, s)) for (w, _), n in zip(arms, nums)]
            return Col(NUM, num=Num(_chain(results, INT), s))
        if len(kinds) != 1:
            raise Unsupported("the arms of a match give values of different kinds")
        kind = kinds.pop()
        return Col(kind, _chain([(w, c.column) for w, c in arms], None))


def _chain(arms, dtype) -> pl.Expr:
    """when(arm 1) then … when(arm n) then …, missing where no arm applies."""
    (w, r), *rest = arms
    out = pl.when(w).then(r)
    for w, r in rest:
        out = out.when(w).then(r)
    return out.otherwise(pl.lit(None, dtype=dtype) if dtype is not None else None)


def line_reads(frame: pl.DataFrame, reads: list[Read]) -> pl.Series:
    """The ledger lines (measurements.csv) the interpreter would have read on `frame`'s rows."""
    parts = []
    for r in reads:
        col = line_col(r.measure, r.point)
        if col in frame.columns:
            parts.append(frame.lazy().filter(r.cond.fill_null(False)).select(pl.col(col).alias("line")).drop_nulls())
    if not parts:
        return pl.Series("line", [], dtype=pl.Int64)
    return pl.concat(parts).unique().collect()["line"]
