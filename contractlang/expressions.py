"""The expression interpreter: evaluates a contract's expressions for one subject at one point.

Values are `Decimal`, `bool`, `str` (enum values and symbols) and `datetime.date`.
A value that was due and has no ledger row is `MISSING`, a distinct object that
cannot be used by accident: it propagates through every operator and refuses to
be tested for truth.

Numbers are exact. A quotient that has no finite decimal expansion (a mean of
three values, 20 / 3) is kept as the `Fraction` it is, and arithmetic on it stays
exact until a declared rounding turns it into a `Decimal`; a result that ends
(20 / 3 × 3) is a `Decimal` again. So a rounding rule sees the true value, and a
tie such as 21.05 → 21.1 is never lost to a digit cut off in between. Traces
show a fraction to 50 significant digits.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
import functools
import operator
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from fractions import Fraction

from . import model as m


class _Missing:
    """The value of a measurement that was due and not observed."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self):
        raise TypeError("a missing value has no truth value; handle MISSING explicitly")

    def __repr__(self):
        return "MISSING"


MISSING = _Missing()

from .vocabulary import ROUNDING_MODES  # noqa: E402  (the modes round_decimal knows)


def round_decimal(value: Decimal | Fraction, places: int, mode: str) -> Decimal:
    """Round `value` to `places` decimals by a named mode (half_up: ties toward +∞); a Fraction is rounded exactly."""
    if type(value) is Fraction:
        return _round_fraction(value, places, mode)
    exp = Decimal(1).scaleb(-places)
    if mode == "half_up":
        rounding = ROUND_HALF_UP if value >= 0 else ROUND_HALF_DOWN
    elif mode == "half_down":
        rounding = ROUND_HALF_DOWN if value >= 0 else ROUND_HALF_UP
    else:
        rounding = {"half_even": ROUND_HALF_EVEN, "half_away_from_zero": ROUND_HALF_UP,
                    "half_toward_zero": ROUND_HALF_DOWN, "up": ROUND_UP, "down": ROUND_DOWN,
                    "ceiling": ROUND_CEILING, "floor": ROUND_FLOOR}[mode]
    after = value.quantize(exp, rounding=rounding, context=_WIDE)  # never the caller's precision
    return after if after else after.copy_abs()  # -0.4 rounds to 0, not to -0


def _round_fraction(value: Fraction, places: int, mode: str) -> Decimal:
    """Exact rounding of a fraction: the whole units of 10^-places below it, and how the rest compares with a half."""
    scaled = value * 10 ** places
    low, rest = divmod(scaled.numerator, scaled.denominator)  # low ≤ scaled < low + 1
    if rest:
        up = {"up": value > 0, "down": value < 0, "ceiling": True, "floor": False}.get(mode)
        if up is None:
            twice = 2 * rest
            if twice != scaled.denominator:
                up = twice > scaled.denominator
            else:  # exactly half way
                up = {"half_up": True, "half_down": False, "half_even": low % 2 == 1,
                      "half_away_from_zero": value > 0, "half_toward_zero": value < 0}[mode]
        low += up
    return Decimal(f"{low}E-{places}")  # exact, whatever the context's precision


# ---- exact arithmetic ---------------------------------------------------------------

#: Decides whether a quotient ends: a Decimal result with up to 60 digits, else a Fraction.
_EXACT = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.DivisionByZero])
ZERO = Decimal(0)


def _settled(value: Fraction) -> Decimal | Fraction:
    """A fraction as a Decimal when its decimal expansion ends (within 60 digits), else unchanged."""
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return value
    try:
        return _EXACT.divide(Decimal(value.numerator), Decimal(value.denominator))
    except decimal.Inexact:
        return value


def divide(left, right) -> Decimal | Fraction:
    """`left / right` exactly (right is not zero)."""
    if type(left) is Decimal and type(right) is Decimal:
        try:
            return _EXACT.divide(left, right)
        except decimal.Inexact:
            return Fraction(left) / Fraction(right)
    return _settled(Fraction(left) / Fraction(right))


#: Sums, differences and products of decimals in a context as wide as `decimal` allows: they are
#: exact whatever precision the caller's context has (a 50-digit context would round a 60-digit
#: rate, and a declared rounding would then round it a second time).
_WIDE = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                        traps=[decimal.InvalidOperation, decimal.DivisionByZero])
_FRACTION_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}
_DECIMAL_ARITH = {"+": _WIDE.add, "-": _WIDE.subtract, "*": _WIDE.multiply}


def arith(op: str, left, right):
    """`left op right` for + - *, always exact: in decimals when both sides are, else as a Fraction."""
    if type(left) is Fraction or type(right) is Fraction:
        return _settled(_FRACTION_ARITH[op](Fraction(left), Fraction(right)))
    return _DECIMAL_ARITH[op](left, right)


def negate(value):
    """`-value`, exact (a Decimal's unary minus would round to the context's precision)."""
    return value.copy_negate() if type(value) is Decimal else -value


def exact_sum(values) -> Decimal | Fraction:
    """The exact sum of numbers, Fractions among them (decimals alone are summed as decimals, exactly)."""
    values = list(values)
    if any(type(v) is Fraction for v in values):
        return _settled(sum(map(Fraction, values), Fraction(0)))
    return functools.reduce(_WIDE.add, values, ZERO)


def mean(values: list) -> Decimal | Fraction:
    """The exact mean of a non-empty list of numbers."""
    return divide(exact_sum(values), Decimal(len(values)))


_SHOWN = decimal.Context(prec=50)  # the digits of a fraction a trace shows, as settling computes with


def as_decimal(value) -> Decimal:
    """A number as a Decimal; a Fraction to 50 significant digits (for display only)."""
    if type(value) is Fraction:
        return _SHOWN.divide(Decimal(value.numerator), Decimal(value.denominator))
    return value


def shift(day: dt.date, offset) -> dt.date:
    """`day` plus a point's offset (a `Quantity`): whole days, weeks, months or years; a month or a year is a
    calendar one, clamped to the month's last day (31 January + 1 month is 28 or 29 February)."""
    n, unit = int(offset.value), offset.canonical_unit
    if unit == "days":
        return day + dt.timedelta(days=n)
    if unit == "weeks":
        return day + dt.timedelta(weeks=n)
    return add_months(day, 12 * n if unit == "years" else n)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus whole calendar months, clamped to the last day of the month.

    Raises:
        EvalError: the date would fall outside the calendar (year 1 to 9999); `check` bounds the
            months a contract may count (`limits.MAX_MONTHS`), so only a ledger date can get here.
    """
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise EvalError(f"{day.isoformat()} plus {months} months falls outside the calendar (years 1 to 9999)")
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def age_at(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def named_once(name: str, results: dict, busy: set, compute, tr) -> object:
    """A figure's or metric's value (`result["_value"]`), computed once by `compute(name)` into `results` and
    traced where it is used; a figure defined in terms of itself is an error (`busy`: those being computed).
    Both evaluators keep their figures and metrics so."""
    if name not in results:
        if name in busy:
            raise EvalError(f"the figure '{name}' is defined in terms of itself")
        busy.add(name)
        results[name] = compute(name)
        busy.discard(name)
    result = results[name]
    if tr is not None:
        tr.append({"kind": "value", "name": name, "expr": f"{result['kind']} {name}", "value": result["value"]})
    return result["_value"]


def figure_result(f: m.Figure, scope: Scope, text, unit: str | None) -> dict:
    """A figure's result: its expression evaluated in `scope` (whose trace, if any, gets the trail's steps;
    a division by zero leaves it without a value and says so), with `unit` (`check.figure_units`).
    `text(expr)` gives an expression's source text. Both evaluators make their figures here."""
    trace = scope.trace
    try:
        value = evaluate(f.expr, scope)
    except DivisionByZero as exc:  # the figure has no value, and its trail says why
        value = MISSING
        if trace is not None:
            where = text(exc.expr)
            trace.append({"kind": "note", "text": f"{where} divides by zero; the figure has no value",
                          "code": "division_by_zero", "facts": {"expr": where}})
    if isinstance(value, bool):
        value = Decimal(1) if value else ZERO
    if trace is not None:
        trace.append({"kind": "value", "name": f.id, "expr": text(f.expr), "value": show(value)})
    return {"kind": "figure", "id": f.id, "title": f.title, "clause": f.clause, "value": show(value),
            "unit": unit, "_value": value, "trace": trace}


def metric_result(mt: m.Metric, met: int, subjects: int, missing: list[str], roundings: dict, trace) -> dict:
    """A metric's result from its counts (of `subjects` with a value, `met` meet the share; `missing`: those
    without one, in subject order), with its trail's steps appended to `trace` (None: no trail). Both
    evaluators count their own way and make the result here."""
    share = arith("*", divide(Decimal(met), Decimal(subjects)), _HUNDRED) if subjects else MISSING
    rounded = share
    rule = roundings.get(mt.rounding) if mt.rounding else None
    if trace is not None:
        trace.append({"kind": "compute", "name": "share", "expr": f"{met} of {subjects} {mt.level} × 100",
                      "value": show(share), "facts": {"count": met, "subjects": subjects, "level": mt.level}})
        if missing:
            trace.append({"kind": "note", "text": f"{len(missing)} {mt.level} without an observed value are "
                                                  f"left out of the share: {', '.join(missing[:20])}",
                          "code": "share_missing",
                          "facts": {"missing": len(missing), "level": mt.level, "subjects": missing[:20]}})
    if rule is not None and share is not MISSING:
        rounded = round_decimal(share, rule.places, rule.mode)
        if trace is not None:
            trace.append({"kind": "round", "rule": rule.id, "places": rule.places, "mode": rule.mode,
                          "before": show(share), "after": format(rounded, "f"), "clause": rule.clause})
    out = {"kind": "metric", "id": mt.id, "title": mt.title, "clause": mt.clause, "subjects": subjects,
           "count": met, "missing": len(missing), "share": show(share), "share_rounded": show(rounded),
           "value": show(share), "_value": divide(share, _HUNDRED) if share is not MISSING else MISSING,
           "trace": trace}
    if mt.target is not None:
        target = mt.target.value
        gap = arith("-", rounded, target) if rounded is not MISSING else MISSING
        out.update(target=show(target), gap_pp=show(gap), met=(gap is not MISSING and gap >= 0))
        if trace is not None:
            trace.append({"kind": "compute", "name": "gap to target", "value": show(gap),
                          "expr": f"{show(rounded)} − {show(target)} (percentage points)",
                          "facts": {"rounded": show(rounded), "target": show(target)}})
    return out


_CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    """An amount as a decimal string with two places (the document's money format)."""
    return str(value.quantize(_CENT))


def price(value: Decimal | Fraction) -> str:
    """A price per unit as money, with every place it carries beyond two (a reader must be able to redo outcome × price)."""
    return money(value) if type(value) is Decimal and value == value.quantize(_CENT) else show(value)


def show(value) -> str:
    """A value as it appears in a trace."""
    if value is MISSING:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _plain(value)
    if type(value) is Fraction:
        return _plain(as_decimal(value))
    return str(value)


_ONE = Decimal(1)
_LARGE = Decimal("1e15")


def _plain(value: Decimal) -> str:
    """Every digit the computation carried, so a reader can redo the arithmetic exactly (no cut, no `…`)."""
    if value == value.to_integral_value() and abs(value) < _LARGE:
        return str(value.quantize(_ONE))
    return format(value.normalize(_SHOWN), "f")


class EvalError(Exception):
    """An expression cannot be evaluated (a bug in the contract the checker should have caught)."""


class DivisionByZero(EvalError):
    """A quotient whose divisor is zero: it has no value. The evaluator decides, where it reads the
    expression, what follows (docs/semantics.md, "Division by zero"); `expr` is the quotient."""

    def __init__(self, expr):
        super().__init__("division by zero")
        self.expr = expr


class Scope:
    """What names mean while one expression is evaluated.

    `resolve(name, point, trace)` is supplied by the evaluator: it returns the
    value of a measure, attribute, `let` or group mean at `point`, or raises
    KeyError when the name is none of those. Such a bare name is a named value
    (an enum value, a table row) only where the language puts one — see
    `_operand` — and an error anywhere else.
    """

    __slots__ = ("resolve", "point", "tables", "roundings", "previous", "count", "deviation", "aggregate", "trace",
                 "three_valued", "size", "returns")

    def __init__(self, resolve, point, tables, roundings, previous=None, count=None, deviation=None, aggregate=None,
                 trace=None, three_valued=False, size=None, returns=None):
        self.resolve = resolve
        self.point = point
        self.tables = tables
        self.roundings = roundings
        self.previous = previous
        self.count = count
        self.deviation = deviation
        self.aggregate = aggregate
        self.trace = trace
        self.three_valued = three_valued  # a goal's `conditions three-valued`: and/or decide despite a missing value
        self.size = size  # size(group) in a comparison: the number of the group's observed subjects at the point
        self.returns = returns  # irr(party), multiple(party) in a figure: the party's cash flows (evaluate_returns)


def evaluate(expr, scope: Scope, point: str | None = None):
    """Evaluate `expr` at `point` (default: the scope's point)."""
    point = point or scope.point
    t = type(expr)
    if t is m.Quantity:
        return quantity_value(expr)
    if t is m.Ref:
        try:
            return scope.resolve(expr.name, point, scope.trace)
        except KeyError:
            raise EvalError(undefined(expr.name)) from None
    if t is m.At:
        return evaluate(expr.expr, scope, expr.point)
    if t is m.BoolOp:
        values = [evaluate(o, scope, point) for o in expr.operands]
        if scope.three_valued:  # one false operand decides an `and`, one true operand an `or`, missing or not
            decided = [v for v in values if v is not MISSING and bool(v) == (expr.op == "or")]
            if decided:
                return expr.op == "or"
        if any(v is MISSING for v in values):
            return MISSING
        return all(values) if expr.op == "and" else any(values)
    if t is m.Binary:
        if expr.op in COMPARISONS:
            left, right = _compared(expr.left, expr.right, scope, point)
        else:
            left, right = evaluate(expr.left, scope, point), evaluate(expr.right, scope, point)
        if left is MISSING or right is MISSING:
            return MISSING
        return _binary(expr, left, right)
    if t is m.In:
        v = evaluate(expr.operand, scope, point)
        return MISSING if v is MISSING else v in expr.values
    if t is m.Between:
        v = evaluate(expr.operand, scope, point)
        _, lo = _compared(expr.operand, expr.low, scope, point, v)
        _, hi = _compared(expr.operand, expr.high, scope, point, v)
        if MISSING in (v, lo, hi) or v is None:
            return MISSING
        kinds = {KINDS.get(type(x)) for x in (v, lo, hi)}
        if len(kinds) != 1 or None in kinds:
            raise EvalError("'between' compares " + " and ".join(_KIND_WORDS.get(KINDS.get(type(x)), "a value")
                                                                  for x in (v, lo, hi)))
        return lo <= v <= hi
    if t is m.Not:
        v = evaluate(expr.operand, scope, point)
        return MISSING if v is MISSING else not v
    if t is m.Neg:
        v = evaluate(expr.operand, scope, point)
        return MISSING if v is MISSING else negate(_numbers("a minus sign negates", v)[0])
    if t is m.Lookup:
        return _lookup(expr, scope, point)
    if t is m.Call:
        return _call(expr, scope, point)
    if t is m.Match:
        v = evaluate(expr.subject, scope, point)
        if v is MISSING:
            return MISSING
        for arm in expr.arms:
            if v in arm.values:
                return evaluate(arm.result, scope, point)
        raise EvalError(f"no arm of the match covers '{v}'")
    if t is m.If:
        c = evaluate(expr.cond, scope, point)
        if c is MISSING:
            return MISSING
        return evaluate(expr.then if c else expr.else_, scope, point)
    if t is m.DateLit:
        return expr.value
    if t is m.Count:
        return scope.count(expr, scope)
    raise EvalError(f"cannot evaluate {t.__name__} here")


COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_NOT_READ = object()


def undefined(name: str) -> str:
    """The message for a name that names nothing where it is used."""
    return (f"'{name}' is not defined here: nothing of that name can be read here (a measure of a subject, an "
            "attribute, a let, a figure or a metric), and it does not stand where a named value (an enum value, a "
            "table row) is expected")


def _operand(expr, scope: Scope, point):
    """A comparison's operand or a lookup's key: its value, or `Symbol(name)` for a bare name that names
    nothing (`flexjob` in `benefit_type == flexjob`, `total` in `table.column[total]`)."""
    if type(expr) is m.Ref:
        try:
            return scope.resolve(expr.name, point, scope.trace)
        except KeyError:
            return Symbol(expr.name)
    return evaluate(expr, scope, point)


class Symbol(str):
    """A bare name read as a named value (an enum value or a table row): it stands for its own text."""

    __slots__ = ()


def _compared(a, b, scope: Scope, point, left=_NOT_READ):
    """The two sides of a comparison. A bare name that names nothing is a named value only when the other
    side is one (text) or missing; beside a number, a date, a condition or another such name it is an error.
    (Whether it is one of the values the other side can hold is the checker's CL010.)"""
    left = _operand(a, scope, point) if left is _NOT_READ else left
    right = _operand(b, scope, point)
    for this, other in ((left, right), (right, left)):
        if type(this) is Symbol and (type(other) is Symbol or not (other is MISSING or isinstance(other, str))):
            raise EvalError(undefined(this))
    return left, right


def evaluate_condition(expr, scope: Scope, point: str | None = None):
    """A condition (or a count's, a share's total): its value, or MISSING where it divides by zero — a
    condition without a value, as one that reads a missing value."""
    try:
        return evaluate(expr, scope, point)
    except DivisionByZero:
        return MISSING


KINDS = {bool: "bool", Decimal: "num", Fraction: "num", str: "str", Symbol: "str", dt.date: "date"}
_KIND_WORDS = {"bool": "a yes/no condition", "str": "a named value", "date": "a date", "num": "a number"}
_ARITH_WORDS = {"+": "'+' adds", "-": "'-' subtracts", "*": "'*' multiplies", "/": "'/' divides"}


def not_a_number(what: str, kind: str) -> str:
    """The message for a condition, a named value or a date where a number is needed (`kind` as in KINDS)."""
    return f"{what} {_KIND_WORDS.get(kind, 'a value')}, which is not a number"


def _numbers(what: str, *values) -> tuple:
    """`values`, each a number (Decimal or Fraction); else EvalError — never a Python TypeError."""
    for v in values:
        if type(v) is not Decimal and type(v) is not Fraction:
            raise EvalError(not_a_number(what, KINDS.get(type(v), "")))
    return values


def _binary(expr: m.Binary, left, right):
    op = expr.op
    if op in _ARITH_WORDS:
        if op in "+-" and isinstance(left, dt.date) and isinstance(expr.right, m.Quantity) \
                and expr.right.canonical_unit == "months":
            return add_months(left, int(right) if op == "+" else -int(right))
        _numbers(_ARITH_WORDS[op], left, right)
        if op != "/":
            return arith(op, left, right)
        if right == 0:
            raise DivisionByZero(expr)
        return divide(left, right)
    a, b = KINDS.get(type(left)), KINDS.get(type(right))
    if a != b or a is None:
        raise EvalError(f"'{op}' compares {_KIND_WORDS.get(a, 'a value')} with {_KIND_WORDS.get(b, 'a value')}")
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    raise EvalError(f"unknown operator {op}")


_PERCENT_UNITS = frozenset({"%", "percentage_points", "percentage_point"})
_HUNDRED = Decimal(100)


def quantity_value(q: m.Quantity) -> Decimal:
    """A quantity's value in an expression: `50 %` (and `5 percentage_points`) is a fraction, 0.5 (0.05)."""
    return _WIDE.divide(q.value, _HUNDRED) if q.unit in _PERCENT_UNITS else q.value


def cell_value(cell):
    """A table cell as a value: Decimal for quantities (percentages as fractions), str for symbols, MISSING for '-'."""
    if isinstance(cell, m.Quantity):
        return quantity_value(cell)
    if isinstance(cell, m.Symbol):
        return cell.name
    return MISSING


def _lookup(expr: m.Lookup, scope: Scope, point):
    table = scope.tables[expr.table]
    if type(expr.key) is m.Ref and any(r.id == expr.key.name for r in table.rows):
        key = expr.key.name  # inside a table's brackets the name of one of its rows is that row
    else:
        key = _operand(expr.key, scope, point)  # a value naming a row; a bare name naming nothing is a row's name
    if key is MISSING:
        return MISSING
    key = str(key) if type(key) is Symbol else key
    index = next(i for i, c in enumerate(table.columns) if c.id == expr.column)
    row = next((r for r in table.rows if r.id == key), None)
    if row is None:
        raise EvalError(f"table {table.id} has no row '{key}'")
    value = cell_value(row.cells[index])
    if scope.trace is not None:
        scope.trace.append({"kind": "value", "name": f"{expr.table}.{expr.column}[{key}]",
                            "expr": f"table {table.id}, row {row.label or row.id}", "value": show(value),
                            "facts": {"table": table.id, "column": expr.column, "key": key,
                                      "row": row.label or row.id}})
    return value


def _call(expr: m.Call, scope: Scope, point):
    f = expr.func
    if f == "previous":  # the default: a named value, or a number (a numeric measure's)
        default = expr.args[1] if len(expr.args) > 1 else None
        if default is not None:
            default = default.name if isinstance(default, m.Ref) else evaluate(default, scope, point)
        return scope.previous(expr.args[0].name, point, default, scope.trace)
    if f == "deviation":
        return scope.deviation(expr, scope)
    if f in ("irr", "multiple"):
        if scope.returns is None:
            raise EvalError(f"{f}() reads the settlement's payments; it can only be used in a figure")
        return scope.returns(f, expr.args[0].name, scope.trace)
    if f == "size":
        if scope.size is None:
            raise EvalError("size() counts a group of a comparison; it can only be used in a goal that compares groups")
        return scope.size(expr.args[0].name, point, scope.trace)
    if f in ("total", "mean"):
        if scope.aggregate is None:
            raise EvalError(f"{f}() sums over the ledger; it can only be used in a figure")
        return scope.aggregate(f, expr.args[0], point, scope.trace)
    if f == "round":
        value = evaluate(expr.args[0], scope, point)
        if value is MISSING:
            return value
        _numbers("round() rounds", value)
        rule = scope.roundings[expr.args[1].name]
        after = round_decimal(value, rule.places, rule.mode)
        if scope.trace is not None:
            scope.trace.append({"kind": "round", "rule": rule.id, "places": rule.places, "mode": rule.mode,
                                "before": show(value), "after": format(after, "f"), "clause": rule.clause, "point": point})
        return after
    values = [evaluate(a, scope, point) for a in expr.args]
    if any(v is MISSING for v in values):
        return MISSING
    if f in ("max", "min"):
        if not all(type(v) is dt.date for v in values):  # the latest or earliest of dates, else of numbers
            _numbers(f"{f}() takes the {f}imum of", *values)
        return max(values) if f == "max" else min(values)
    if f == "abs":
        value = _numbers("abs() takes the absolute value of", values[0])[0]
        return negate(value) if value < 0 else value
    raise EvalError(f"unknown function {f}")
