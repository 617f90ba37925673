"""check_types: the expressions of a contract, typed without data.

Every outcome, price, condition, let, flag, figure and metric is walked once (`_Exprs`):
each name must resolve (a measure, let, table, figure, attribute), each operator must
receive what it can work with (numbers, units, dates, enums), each function its arity
(`vocabulary.FUNCTIONS`). Findings are CL010-CL017 diagnostics; `figure_units` tells how
each figure reads (an amount, a count, a share) for the reports.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import attrs

from . import model as m
from .check_consistency import Run, did_you_mean, listing
from .errors import Diagnostic, warning
from .expressions import arith, divide, negate, quantity_value, round_decimal
from .vocabulary import (DURATIONS, END_REASONS, FUNCTIONS, GROUPS, HOUSEHOLD_ATTRIBUTES, PERSON_ATTRIBUTES,
                         ROUNDING_MODES)

FOR_EACH = {"household": "households", "cohort": None}  # what a flag can be raised for, and its subjects


# ---- expressions ----------------------------------------------------------------------

class _Ty(NamedTuple):
    """What an expression yields: unit is None (a plain number), '?' (unknown), 'DKK', '%', 'pp',
    'date', 'duration', 'bool' or 'enum' (then `values` and `what` say which)."""

    unit: str | None
    values: tuple | None = None
    what: str = ""


NUM, UNKNOWN, BOOL, DATE = _Ty(None), _Ty("?"), _Ty("bool"), _Ty("date")
_PERSON = {"age": NUM, "school_grade": NUM}
_HOUSEHOLD = {"start_date": DATE, "end_date": DATE, "ended": BOOL, "replaced": BOOL, "cohort": UNKNOWN,
              "end_reason": _Ty("enum", END_REASONS, "a household's end reason"),
              "group": _Ty("enum", GROUPS, "a household's group")}
# A person is read with its household, so a person also has the household's attributes (`attribute_types`).
assert tuple(_PERSON) == PERSON_ATTRIBUTES and set(_HOUSEHOLD) == set(HOUSEHOLD_ATTRIBUTES)
# "DKK" is the type of an amount of money, in whatever currency the contract has (`check_currencies` holds
# every amount to it); `_Exprs.words` names the contract's currency.
_WORDS = {"DKK": "an amount in DKK", "%": "a percentage", "pp": "percentage points", "date": "a date",
          "duration": "a duration", None: "a plain number", "bool": "a yes/no condition", "enum": "a named value"}
_STRONG = ("DKK", "%", "pp", "date", "duration")
_ARITH_VERBS = {"+": "adds", "-": "subtracts", "*": "multiplies", "/": "divides"}


def _qty_ty(unit: str | None) -> _Ty:
    unit = {"month": "months", "percentage_point": "percentage_points"}.get(unit, unit)
    if unit in DURATIONS:
        return _Ty("duration")
    if m.is_currency(unit):
        return _Ty("DKK")
    return {"%": _Ty("%"), "percentage_points": _Ty("pp"), "text": UNKNOWN}.get(unit, NUM)


def _compatible(a: _Ty, b: _Ty) -> bool:
    if "?" in (a.unit, b.unit) or a.unit == b.unit:
        return True
    if {a.unit, b.unit} & {"bool", "enum"}:  # a condition or a named value is not a number, nor a date
        return False
    if None in (a.unit, b.unit):
        return "date" not in (a.unit, b.unit)
    return not (a.unit in _STRONG and b.unit in _STRONG)


@dataclasses.dataclass(frozen=True)
class _Scope:
    """What names mean where an expression stands."""

    clause: str | None
    place: str
    level: str | None = None
    lets: dict = dataclasses.field(default_factory=dict)
    later: dict = dataclasses.field(default_factory=dict)
    groups: dict = dataclasses.field(default_factory=dict)
    this: bool = False
    figures: frozenset = frozenset()
    points: tuple | None = None
    figures_only: bool = False
    figure_types: dict = dataclasses.field(default_factory=dict)  # figure id -> _Ty, where already known
    attributes_only: bool = False  # a goal's `subjects … where`: what a subject is at the household's start


def attribute_types(c: m.Contract) -> dict[str, dict[str, "_Ty"]]:
    """The attributes of persons and of households: the built-in ones and those the contract declares (a person
    has its household's too)."""
    declared = {"person": {}, "household": {}}
    for a in c.attributes:
        declared[a.level][a.id] = (_Ty("enum", a.values, f"the attribute '{a.id}'") if a.kind == "enum" else
                                   BOOL if a.kind == "boolean" else DATE if a.kind == "date" else NUM)
    households = {**_HOUSEHOLD, **declared["household"]}
    return {"persons": {**_PERSON, **declared["person"], **households}, "households": households}


class _Exprs(Run):
    """Walks an expression: every name resolves, units fit, enum values exist. Returns its `_Ty`."""

    @property
    def attrs(self) -> dict[str, dict[str, _Ty]]:
        """The attributes a subject of each level has (`attribute_types`), worked out once per contract."""
        if getattr(self, "_attrs", None) is None:
            self._attrs = attribute_types(self.c)
        return self._attrs

    def words(self, unit: str | None) -> str | None:
        """A type in words: `an amount in GBP` (the contract's currency), `a percentage`."""
        return f"an amount in {self.c.currency}" if unit == "DKK" else _WORDS.get(unit, unit)

    def walk(self, e, sc: _Scope) -> _Ty:
        method = getattr(self, "_" + type(e).__name__, None)
        return method(e, sc) if method else UNKNOWN

    def resolve(self, name: str, sc: _Scope) -> _Ty | None:
        if name in sc.lets:
            return sc.lets[name]
        if name in sc.groups:
            return sc.groups[name]
        meas = self.ix.measures.get(name)
        if meas is not None and sc.level is not None and not sc.attributes_only:  # a measure is read of a subject
            return self.measure_ty(meas)
        if sc.level and name in self.attrs[sc.level]:
            return self.attrs[sc.level][name]
        if name in sc.figure_types:
            return sc.figure_types[name]
        if (name == "this" and sc.this) or name in sc.figures:
            return UNKNOWN
        return None

    @staticmethod
    def measure_ty(meas: m.Measure) -> _Ty:
        if meas.kind == "enum":
            return _Ty("enum", meas.values, f"the measure '{meas.id}'")
        return BOOL if meas.kind == "boolean" else NUM

    def _Quantity(self, e, sc):
        return _qty_ty(e.unit)

    def _DateLit(self, e, sc):
        return DATE

    def _Ref(self, e: m.Ref, sc):
        ty = self.resolve(e.name, sc)
        if ty is None:
            self.undefined(e.name, e.span, sc)
            return UNKNOWN
        meas = self.ix.measures.get(e.name)
        if meas is not None and e.name not in sc.lets and e.name not in sc.groups and sc.points:
            missing = [p for p in sc.points if p not in meas.points]
            if missing:
                self.err("CL017", f"the measure '{meas.id}' is read at {listing(missing)} in {sc.place}, but it is "
                         f"only taken at {listing(meas.points)}", e.span, sc.clause,
                         f"add the point to 'at …' of the measure, or write {meas.id}@POINT")
        return ty

    def undefined(self, name: str, span, sc: _Scope):
        measures = self.ix.measures if sc.level is not None and not sc.attributes_only else ()
        names = [*sc.lets, *sc.groups, *measures, *(self.attrs[sc.level] if sc.level else ()), *sc.figures]
        hint = did_you_mean(name, names)
        if name in self.ix.measures and sc.attributes_only:
            msg = f"'{name}' is a measure, but {sc.place} are chosen by what they are at the household's start " \
                  f"({listing(self.attrs[sc.level], 10)}), not by what is measured"
            hint = "test the measure in the outcome (or in a metric's 'share where')"
        elif name in self.ix.measures and name not in sc.lets:
            msg = f"'{name}' is a measure, but {sc.place} is not about single subjects, so there is no one to read " \
                  "it of"
            hint = f"count(persons where …) reads it of each subject; a figure may use total({name}) or mean({name})"
        elif name == "this":
            msg = f"'this' names the item of a flag's 'for each', but {sc.place} has no 'for each'"
        elif name in sc.later:
            msg = f"'{name}' is used in {sc.place} before it is defined (line {sc.later[name]}); a let can only " \
                  "use the lets written above it"
        elif name in self.attrs["persons"]:
            whose = "households" if name in self.attrs["households"] else "persons"
            msg = f"'{name}' is an attribute of {whose}, but {sc.place} is not about single {whose}"
            hint = f"use it inside count({whose} where …)" + (" or in a flag 'for each household'"
                                                               if whose == "households" else "")
        else:
            expected = (["a measure"] if measures else []) + (["a let of this goal"] if sc.lets or sc.later else []) + \
                       ([f"an attribute of {sc.level} ({listing(self.attrs[sc.level], 10)})"] if sc.level else []) + \
                       ([f"the group {' or '.join(sc.groups)}"] if sc.groups else []) + \
                       (["a figure"] if sc.figures else []) + (["'this'"] if sc.this else [])
            msg = f"'{name}' is not defined in {sc.place}; expected {listing(expected, conj='or')}"
        self.err("CL010", msg, span, sc.clause, hint)

    def value(self, name: str, span, ty: _Ty, sc: _Scope):
        """`name` stands where a value of `ty` is expected: it must be one of its named values."""
        if ty.unit == "?":
            return
        if ty.unit != "enum" or ty.values is None:
            return self.undefined(name, span, sc)
        if name not in ty.values:
            self.err("CL010", f"'{name}' is not a value of {ty.what}; its values are {listing(ty.values)}", span,
                     sc.clause, did_you_mean(name, ty.values))

    def operand(self, e, sc) -> _Ty | None:
        """The type of `e`, or None when `e` is a bare name that resolves to nothing (an enum value?)."""
        if isinstance(e, m.Ref) and self.resolve(e.name, sc) is None:
            return None
        return self.walk(e, sc)

    def compare(self, a, b, span, sc, ta=False) -> _Ty:
        """`a` against `b`: a bare undefined name on one side must be a value of the other side."""
        ta = self.operand(a, sc) if ta is False else ta
        tb = self.operand(b, sc)
        if ta is None and tb is None:
            self.walk(a, sc), self.walk(b, sc)
        elif ta is None:
            self.value(a.name, a.span, tb, sc)
        elif tb is None:
            self.value(b.name, b.span, ta, sc)
        elif not _compatible(ta, tb):
            self.err("CL012", f"{sc.place} compares {self.words(ta.unit)} with {self.words(tb.unit)}", span, sc.clause)
        return BOOL

    def _Binary(self, e: m.Binary, sc):
        if e.op in ("==", "!=", "<", "<=", ">", ">="):
            return self.compare(e.left, e.right, e.span, sc)
        a, b = self.walk(e.left, sc), self.walk(e.right, sc)
        if not (self.number(a, e.left, sc, _ARITH_VERBS[e.op]) & self.number(b, e.right, sc, _ARITH_VERBS[e.op])):
            return UNKNOWN
        if e.op == "/" and self.constant(e.right, sc) == 0:
            self.err("CL019", f"{sc.place} divides by zero: the divisor is 0 whatever the data, so the quotient "
                     "never has a value", e.right.span or e.span, sc.clause,
                     "divide by a value that can be other than zero")
        if "?" in (a.unit, b.unit):
            return UNKNOWN
        units = {a.unit, b.unit}
        if e.op in "+-":
            if a.unit == "date" and b.unit == "duration" or (e.op == "+" and a.unit == "duration" and b.unit == "date"):
                return DATE
            if e.op == "-" and a.unit == b.unit == "date":
                return _Ty("duration")
            if units == {"%", "pp"}:
                return _Ty("%")
            if "date" not in units and (a.unit == b.unit or None in units):
                return b if a.unit is None else a
            verb = "adds" if e.op == "+" else "subtracts"
            self.err("CL012", f"{sc.place} {verb} {self.words(b.unit)} {'to' if e.op == '+' else 'from'} "
                     f"{self.words(a.unit)}", e.span, sc.clause)
            return UNKNOWN
        if "date" in units:
            self.err("CL012", f"{sc.place} {'multiplies' if e.op == '*' else 'divides'} a date", e.span, sc.clause)
            return UNKNOWN
        if e.op == "*":
            return b if a.unit is None else a if b.unit is None else _Ty("DKK") if "DKK" in units else UNKNOWN
        return a if b.unit is None else NUM if a.unit == b.unit else UNKNOWN

    def constant(self, e, sc: _Scope, busy: frozenset = frozenset()):
        """The value of `e` when the contract alone fixes it — numbers, table cells, roundings and figures
        made of those — else None (it reads the ledger, or cannot be known here)."""
        t = type(e)
        try:
            if t is m.Quantity:
                return quantity_value(e)
            if t is m.Neg:
                v = self.constant(e.operand, sc, busy)
                return None if v is None else negate(v)
            if t is m.Binary and e.op in ("+", "-", "*", "/"):
                a, b = self.constant(e.left, sc, busy), self.constant(e.right, sc, busy)
                if a is None or b is None or (e.op == "/" and b == 0):
                    return None
                return divide(a, b) if e.op == "/" else arith(e.op, a, b)
            if t is m.Lookup and isinstance(e.key, m.Ref) and self.resolve(e.key.name, sc) is None:
                table = self.ix.tables.get(e.table)
                row = self.ix.rows(table).get(e.key.name) if table is not None else None
                ids = [c.id for c in table.columns] if table is not None else []
                if row is None or e.column not in ids or ids.index(e.column) >= len(row.cells):
                    return None
                cell = row.cells[ids.index(e.column)]
                return quantity_value(cell) if isinstance(cell, m.Quantity) else None
            if t is m.Call and e.func in ("max", "min", "abs") and e.args:
                values = [self.constant(a, sc, busy) for a in e.args]
                if None in values:
                    return None
                return max(values) if e.func == "max" else min(values) if e.func == "min" else abs(values[0])
            if t is m.Call and e.func == "round" and len(e.args) == 2 and isinstance(e.args[1], m.Ref):
                v, rule = self.constant(e.args[0], sc, busy), self.ix.roundings.get(e.args[1].name)
                if v is None or rule is None or rule.mode not in ROUNDING_MODES or not 0 <= rule.places <= 10:
                    return None
                return round_decimal(v, rule.places, rule.mode)
            if t is m.Ref and e.name not in busy and e.name not in sc.lets and e.name not in sc.groups:
                f = next((f for f in self.c.figures if f.id == e.name), None)
                if f is not None and e.name in sc.figures:
                    inner = _Scope(f.clause, f"the figure '{f.id}'", figures=frozenset(x.id for x in self.c.figures))
                    return self.constant(f.expr, inner, busy | {e.name})
        except (ArithmeticError, ValueError, TypeError):
            return None
        return None

    def number(self, ty: _Ty, e, sc: _Scope, verb: str) -> bool:
        """CL012 where a yes/no condition or a named value stands where a number is needed; False then."""
        if ty.unit not in ("bool", "enum"):
            return True
        hint = ("a condition that is the whole outcome pays once when it holds; to pay for each condition met, "
                "give each condition its own goal" if ty.unit == "bool" else
                "compare it (== or in {…}), or look its number up in a table: table.column[value]")
        self.err("CL012", f"{sc.place} {verb} {self.words(ty.unit)}, which is not a number", getattr(e, "span", None),
                 sc.clause, hint)
        return False

    def _Neg(self, e, sc):
        ty = self.walk(e.operand, sc)
        return ty if self.number(ty, e.operand, sc, "negates") else UNKNOWN

    def _Not(self, e, sc):
        self.walk(e.operand, sc)
        return BOOL

    def _BoolOp(self, e, sc):
        for x in e.operands:
            self.walk(x, sc)
        return BOOL

    def _Between(self, e, sc):
        ta = self.walk(e.operand, sc)
        self.compare(e.operand, e.low, e.span, sc, ta)
        self.compare(e.operand, e.high, e.span, sc, ta)
        return BOOL

    def _In(self, e: m.In, sc):
        ty = self.walk(e.operand, sc)
        if ty.unit == "enum" and ty.values is not None:
            for v in e.values:
                self.value(v, self.src.find(e.span, v, after=r"\{"), ty, sc)
        elif ty.unit != "?":
            self.err("CL017", f"'in {{…}}' compares with named values, but {sc.place} uses it on "
                     f"{self.words(ty.unit)}", e.span, sc.clause)
        return BOOL

    def _If(self, e: m.If, sc):
        cond = self.walk(e.cond, sc)
        if cond.unit not in ("bool", "?"):
            self.err("CL017", f"'if' chooses by a condition, but in {sc.place} it is given {self.words(cond.unit)}",
                     e.span, sc.clause)
        then, other = self.walk(e.then, sc), self.walk(e.else_, sc)
        if then.unit != "?" and other.unit != "?" and not _compatible(then, other):
            self.err("CL012", f"the branches of the 'if' in {sc.place} give {self.words(then.unit)} and "
                     f"{self.words(other.unit)}", e.span, sc.clause)
            return UNKNOWN
        return then if then.unit != "?" else other

    def _Match(self, e: m.Match, sc):
        ty = self.walk(e.subject, sc)
        named = ty.unit == "enum" and ty.values is not None
        seen, results = set(), []
        for arm in e.arms:
            for v in arm.values:
                if named:
                    self.value(v, self.src.find(arm.span, v), ty, sc)
                seen.add(v)
            results.append(self.walk(arm.result, sc))
        if ty.unit not in ("enum", "?"):
            self.err("CL017", f"'match' chooses by named values, but in {sc.place} it is used on "
                     f"{self.words(ty.unit)}", e.span, sc.clause)
        if named:
            uncovered = [v for v in ty.values if v not in seen]
            if uncovered:
                self.out.append(warning("CL017", f"the match in {sc.place} has no arm for {listing(uncovered)}, "
                                        f"which {ty.what} can hold; such a subject would have no outcome",
                                        e.span, sc.clause, "add an arm for these values"))
        known = [t for t in results if t.unit != "?"]
        for t in known[1:]:
            if not _compatible(known[0], t):
                self.err("CL012", f"the arms of the match in {sc.place} give {self.words(known[0].unit)} and "
                         f"{self.words(t.unit)}", e.span, sc.clause)
                return UNKNOWN
        return known[0] if known else UNKNOWN

    def _At(self, e: m.At, sc):
        if e.point not in self.ix.points:
            self.err("CL010", f"'@{e.point}' in {sc.place} names a point that is not declared; the points are "
                     f"{listing(self.ix.points)}", self.src.find(e.span, e.point, after="@"), sc.clause,
                     did_you_mean(e.point, self.ix.points))
            return self.walk(e.expr, dataclasses.replace(sc, points=None))
        return self.walk(e.expr, dataclasses.replace(sc, points=(e.point,)))

    def table(self, name, span, sc, col: str | None = None):
        """The table (and column index) named at `span`, or None after reporting CL010."""
        t = self.ix.tables.get(name)
        if t is None:
            self.err("CL010", f"{sc.place} names the table '{name}', which is not declared; the tables are "
                     f"{listing(self.ix.tables)}", self.src.find(span, name), sc.clause,
                     did_you_mean(name, self.ix.tables))
            return None, None
        ids = [c.id for c in t.columns]
        if col not in ids:
            self.err("CL010", f"the table '{name}' has no column '{col}'; its columns are {listing(ids)}",
                     self.src.find(span, col, after=r"\."), sc.clause, did_you_mean(col, ids))
            return t, None
        return t, ids.index(col)

    def rows_cover(self, t: m.Table, ty: _Ty, span, sc):
        if ty.unit == "enum" and ty.values:
            rows = self.ix.rows(t)
            missing = [v for v in ty.values if v not in rows]
            if missing:
                self.err("CL010", f"the table '{t.id}' has no row for {listing(missing)}, which {ty.what} can "
                         f"hold", span, sc.clause, "add a row for each value")

    def _ColumnRef(self, e, sc):
        self.table(e.table, e.span, sc, e.column)
        return UNKNOWN

    def _Lookup(self, e: m.Lookup, sc):
        t, ci = self.table(e.table, e.span, sc, e.column)
        key = e.key
        if isinstance(key, m.Ref) and t is not None and key.name in self.ix.rows(t):
            if self.resolve(key.name, sc) is not None:  # inside the brackets the row wins (docs/language.md)
                what = ("a let" if key.name in sc.lets else "a group" if key.name in sc.groups else
                        "a measure" if key.name in self.ix.measures else
                        "an attribute" if sc.level and key.name in self.attrs[sc.level] else "a figure or metric")
                self.out.append(warning(
                    "CL011", f"the row '{key.name}' of table '{t.id}' has the name of {what}; in "
                    f"{t.id}.{e.column}[{key.name}] it means the row, not {what}", key.span, sc.clause,
                    f"rename the row, or the other name, if {what} was meant"))
        elif isinstance(key, m.Ref) and self.resolve(key.name, sc) is None:
            if t is not None and key.name not in self.ix.rows(t):
                self.err("CL010", f"the table '{t.id}' has no row '{key.name}'", key.span, sc.clause,
                         did_you_mean(key.name, self.ix.rows(t)))
        else:
            kt = self.walk(key, sc)
            if t is not None:
                self.rows_cover(t, kt, key.span or e.span, sc)
        if ci is None:
            return UNKNOWN
        col = t.columns[ci]
        if col.unit == "text":
            return _Ty("enum", self.ix.text_values(t, ci), f"the column '{col.id}' of table '{t.id}'")
        return _qty_ty(col.unit)

    def _Count(self, e: m.Count, sc):
        self.walk(e.where, dataclasses.replace(sc, level=e.level, points=None))
        return NUM

    def _Call(self, e: m.Call, sc):
        if e.func not in FUNCTIONS:
            self.err("CL010", f"'{e.func}' is not a function contractlang knows; the functions are "
                     f"{listing(FUNCTIONS, len(FUNCTIONS))}", self.src.find(e.span, e.func), sc.clause,
                     did_you_mean(e.func, FUNCTIONS))
            for a in e.args:
                self.walk(a, sc)
            return UNKNOWN
        low, high, usage = FUNCTIONS[e.func]
        if not low <= len(e.args) <= high:
            self.err("CL017", f"{e.func}() takes {usage}; in {sc.place} it is given {len(e.args)} "
                     f"argument{'s' if len(e.args) != 1 else ''}", e.span, sc.clause)
            for a in e.args:
                self.walk(a, sc)
            return UNKNOWN
        return getattr(self, "_fn_" + e.func)(e, sc)

    def _fn_max(self, e, sc):
        types = [self.walk(a, sc) for a in e.args]
        if not all([self.number(t, a, sc, f"takes the {e.func}() of") for t, a in zip(types, e.args)]):
            return UNKNOWN
        known = [t for t in types if t.unit not in ("?", None)]
        for t in known[1:]:
            if not _compatible(known[0], t):
                self.err("CL012", f"{e.func}() in {sc.place} compares {self.words(known[0].unit)} with "
                         f"{self.words(t.unit)}", e.span, sc.clause)
        return known[0] if known else types[0]

    _fn_min = _fn_max

    def _fn_abs(self, e, sc):
        ty = self.walk(e.args[0], sc)
        return ty if self.number(ty, e.args[0], sc, "takes the abs() of") else UNKNOWN

    def _fn_round(self, e, sc):
        name = e.args[1]
        if not isinstance(name, m.Ref):
            self.err("CL017", "the second argument of round() must name a rounding declared with "
                     "'rounding NAME PLACES places MODE'", e.span, sc.clause)
        elif name.name not in self.ix.roundings:
            self.err("CL010", f"round() in {sc.place} names the rounding '{name.name}', which is not declared; the "
                     f"roundings are {listing(self.ix.roundings)}", name.span, sc.clause,
                     did_you_mean(name.name, self.ix.roundings))
        ty = self.walk(e.args[0], sc)
        return ty if self.number(ty, e.args[0], sc, "rounds") else UNKNOWN

    def _fn_size(self, e, sc):
        arg = e.args[0]
        if not (isinstance(arg, m.Ref) and arg.name in sc.groups):
            groups = listing(sc.groups) if sc.groups else "none here"
            self.err("CL017", f"size() takes a group of the goal's comparison ({groups}); in {sc.place} it is given "
                     "something else", getattr(arg, "span", None) or e.span, sc.clause,
                     None if sc.groups else "size() is read in a goal that compares groups (compare mean …)")
        return NUM

    def _fn_previous(self, e, sc):
        arg = e.args[0]
        meas = self.ix.measures.get(arg.name) if isinstance(arg, m.Ref) else None
        if meas is None:
            if isinstance(arg, m.Ref) and self.resolve(arg.name, sc) is None:
                self.err("CL010", f"previous() in {sc.place} names '{arg.name}', which is not a declared measure",
                         arg.span, sc.clause, did_you_mean(arg.name, self.ix.measures))
            else:
                self.err("CL017", "previous() takes the name of a measure (its latest earlier observation)",
                         getattr(arg, "span", None) or e.span, sc.clause)
            return UNKNOWN
        ty = self.measure_ty(meas)
        if len(e.args) > 1:
            default = e.args[1]
            where = getattr(default, "span", None) or e.span
            if meas.kind in ("integer", "decimal"):  # a number the measure could hold: `previous(score, 0)`
                value = self.constant(default, sc)
                if value is None or (type(default) is m.Quantity and default.unit is not None):
                    self.err("CL017", f"the default of previous({meas.id}) must be a plain number (the measure is "
                             f"{meas.kind}), known from the contract", where, sc.clause)
                elif meas.kind == "integer" and value != value.to_integral_value():
                    self.err("CL012", f"the default of previous({meas.id}) is {value}; the measure holds whole "
                             "numbers", where, sc.clause)
                elif (meas.low is not None and value < meas.low) or (meas.high is not None and value > meas.high):
                    self.err("CL013", f"the default of previous({meas.id}) is {value}, outside the measure's range "
                             f"{meas.low} to {meas.high}", where, sc.clause)
            elif isinstance(default, m.Ref):
                self.value(default.name, default.span, ty, sc)
            else:
                self.err("CL017", f"the default of previous({meas.id}) must be a named value of the measure",
                         where, sc.clause)
        return ty

    def _fn_total(self, e, sc):
        arg = e.args[0]
        inner, point = (arg.expr, arg.point) if isinstance(arg, m.At) else (arg, None)
        meas = self.ix.measures.get(inner.name) if isinstance(inner, m.Ref) else None
        if not sc.figures_only:
            self.err("CL017", f"{e.func}() sums over the ledger; it belongs in a figure, not in {sc.place}",
                     e.span, sc.clause, "define a figure with it and use the figure's name here")
        if meas is None:
            self.err("CL017", f"{e.func}() takes the name of a measure, e.g. {e.func}(grant_dkk) or "
                     f"{e.func}(grant_dkk@end)", getattr(arg, "span", None) or e.span, sc.clause,
                     did_you_mean(inner.name, self.ix.measures) if isinstance(inner, m.Ref) else None)
            return UNKNOWN
        if point is None and len(meas.points) != 1:
            self.err("CL017", f"the measure '{meas.id}' is taken at {listing(meas.points)}; say which point "
                     f"{e.func}() reads, e.g. {e.func}({meas.id}@{meas.points[0]})", e.span, sc.clause)
        if meas.kind not in ("integer", "decimal"):
            self.err("CL012", f"{e.func}() adds numbers, but the measure '{meas.id}' is {meas.kind}", e.span,
                     sc.clause, "count(persons where …) counts subjects")
        level = "households" if meas.level == "household" else "persons"
        self.walk(arg, dataclasses.replace(sc, level=level))  # read of each subject, then summed
        return NUM

    _fn_mean = _fn_total

    def _fn_irr(self, e, sc):
        arg = e.args[0]
        if not sc.figures_only:
            self.err("CL017", f"{e.func}() reads what a party invests and is repaid; it belongs in a figure, not in "
                     f"{sc.place}", e.span, sc.clause, "define a figure with it")
        funders = {p.id for p in self.c.parties if p.role == "funder"} | set(self.c.recipients())
        if not isinstance(arg, m.Ref) or arg.name not in funders:
            self.err("CL010", f"{e.func}() takes a party that invests and is repaid ({listing(sorted(funders))})",
                     getattr(arg, "span", None) or e.span, sc.clause,
                     did_you_mean(arg.name, funders) if isinstance(arg, m.Ref) else None)
        return NUM  # irr in per cent a year, as a plain number; multiple a ratio

    _fn_multiple = _fn_irr

    def _fn_deviation(self, e, sc):
        goal, at, column, *total = e.args
        g = None
        if not isinstance(goal, m.Ref):
            self.err("CL017", "the first argument of deviation() must name a goal", e.span, sc.clause)
        else:
            g = self.ix.goals.get(goal.name)
            if g is None:
                self.err("CL010", f"deviation() in {sc.place} names the goal '{goal.name}', which is not declared; "
                         f"the goals are {listing(self.ix.goals)}", goal.span, sc.clause,
                         did_you_mean(goal.name, self.ix.goals))
        if not (isinstance(at, m.At) and isinstance(at.expr, m.Ref) and at.expr.name in self.ix.measures):
            self.err("CL017", "the second argument of deviation() must be a measure at a point, e.g. "
                     "benefit_type@baseline", getattr(at, "span", None) or e.span, sc.clause)
        ty = self.walk(at, dataclasses.replace(sc, level=g.level if g else sc.level))
        if not isinstance(column, m.ColumnRef):
            self.err("CL017", "the third argument of deviation() must be a table column, e.g. "
                     "benefit_types.expected", getattr(column, "span", None) or e.span, sc.clause)
        else:
            t, ci = self.table(column.table, column.span, sc, column.column)
            if t is not None:
                self.rows_cover(t, ty, column.span, sc)
        if total and self.walk(total[0], sc).unit not in (None, "?"):
            self.err("CL017", "the fourth argument of deviation() is the total the expected counts are divided "
                     "by, a number such as staircase.expected[total]", getattr(total[0], "span", None) or e.span,
                     sc.clause)
        return _Ty("pp")


def check_expressions(c: m.Contract) -> list[Diagnostic]:
    """CL010/CL012/CL017 in the expressions of goals, flags, metrics and figures."""
    x = _Exprs(c)
    names = frozenset(f.id for f in (*c.figures, *c.metrics))
    for g in c.goals:
        place = f"goal '{g.id}'"
        base = _Scope(g.clause, place, level=g.level, figures=names)
        if g.where is not None:
            x.walk(g.where, dataclasses.replace(base, place=f"the subjects of goal '{g.id}'", figures=frozenset(),
                                                attributes_only=True))
        groups = {}
        if g.comparison is not None:
            meas = x.ix.measures.get(g.comparison.measure)
            ty = x.measure_ty(meas) if meas else NUM
            groups = {g.comparison.treated: ty, g.comparison.control: ty}
            if meas is not None and g.points:
                missing = [p for p in g.points if p not in meas.points]
                if missing:
                    x.err("CL017", f"goal '{g.id}' compares '{meas.id}' at {listing(missing)}, but it is only "
                          f"taken at {listing(meas.points)}", g.comparison.span, g.clause)
        points = tuple(p for p in g.points if p in x.ix.points) or None
        lets: dict = {}
        for i, let in enumerate(g.lets):
            later = {later.name: later.span.line if later.span else "?" for later in g.lets[i:]}
            sc = dataclasses.replace(base, lets=dict(lets), later=later, groups=groups, points=points,
                                     place=f"the let '{let.name}' of goal '{g.id}'")
            lets[let.name] = x.walk(let.expr, sc)
        if g.outcome is not None:
            ty = x.walk(g.outcome, dataclasses.replace(base, lets=lets, groups=groups, points=points,
                                                       place=f"the outcome of goal '{g.id}'"))
            if ty.unit in ("enum", "date", "duration"):
                x.err("CL012", f"the outcome of goal '{g.id}' gives {x.words(ty.unit)}; an outcome is a number (units "
                      "paid for) or a yes/no condition (paid once when it holds)", g.outcome.span, g.clause,
                      "compare it, e.g. level == high, or look its number up in a table: table.column[level]")
        if g.rate is not None and not isinstance(g.rate.amount, m.Quantity):
            ty = x.walk(g.rate.amount, dataclasses.replace(base, lets=lets, points=points,
                                                           place=f"the price of goal '{g.id}'"))
            if ty.unit not in ("DKK", "?"):
                x.err("CL012", f"the price of goal '{g.id}' gives {x.words(ty.unit)}; expected an amount "
                      f"in {c.currency}", g.rate.span, g.clause, f"a price is an amount, e.g. 8_600 {c.currency} or "
                      f"rates.price[outcome_level] from a table whose column is in {c.currency}")
    for f in c.flags:
        if f.for_each is not None and f.for_each not in FOR_EACH:
            x.err("CL010", f"the flag '{f.id}' is raised for each '{f.for_each}'; expected household or cohort",
                  x.src.find(f.span, f.for_each, after=r"\beach\b"), f.clause, did_you_mean(f.for_each, FOR_EACH))
        x.walk(f.when, _Scope(f.clause, f"the flag '{f.id}'", level=FOR_EACH.get(f.for_each),
                              this=f.for_each is not None, figures=names))
    for mt in c.metrics:
        sc = _Scope(mt.clause, f"the metric '{mt.id}'", level=mt.level, figures=names - {mt.id})
        if mt.rounding is not None and mt.rounding not in x.ix.roundings:
            x.err("CL010", f"the metric '{mt.id}' is rounded by '{mt.rounding}', which is not declared; the roundings "
                  f"are {listing(x.ix.roundings)}", x.src.find(mt.span, mt.rounding, after=r"\brounding\b"),
                  mt.clause, did_you_mean(mt.rounding, x.ix.roundings))
        if mt.where is not None:
            x.walk(mt.where, sc)
        x.walk(mt.share, sc)
    for f in c.figures:
        x.walk(f.expr, _Scope(f.clause, f"the figure '{f.id}'", figures=names - {f.id}, figures_only=True))
    _figure_cycles(x, c)
    values = {v: meas.id for meas in c.measures for v in meas.values}
    for item in (*c.figures, *c.metrics):
        if item.id in values:
            kind = "figure" if isinstance(item, m.Figure) else "metric"
            x.err("CL010", f"the {kind} '{item.id}' has the name of a value of the measure '{values[item.id]}'; in an "
                  f"expression '{item.id}' could mean either", x.src.find(item.span, item.id), item.clause,
                  f"rename the {kind}, e.g. '{kind}_{item.id}' or 'share_{item.id}'")
    return x.out


def figure_units(c: m.Contract) -> dict[str, str | None]:
    """How each figure's value reads: 'DKK' for an amount, '%' for a percentage, None for a plain number.

    An amount is known through arithmetic (`weekly_benefit * investor_share` is in DKK when the first
    is), since figures are typed in the order they use each other. A percentage is kept only for a figure
    written as one (`= 60 %`): arithmetic on a fraction (`share_job * 100`) reads as a plain number.
    Assumes the contract checks (a figure defined in terms of itself is left a plain number).
    """
    x = _Exprs(c)
    names = frozenset(f.id for f in (*c.figures, *c.metrics))
    by_id = {f.id: f for f in c.figures}
    types: dict[str, _Ty] = {}

    def ty(fid: str, busy: frozenset) -> _Ty:
        if fid not in types:
            f = by_id[fid]
            for ref in _refs(f.expr):
                if ref.name in by_id and ref.name not in busy:
                    ty(ref.name, busy | {fid})
            types[fid] = x.walk(f.expr, _Scope(f.clause, f"the figure '{fid}'", figures=names - {fid},
                                               figures_only=True, figure_types=dict(types)))
        return types[fid]

    units: dict[str, str | None] = {}
    for f in c.figures:
        unit = ty(f.id, frozenset()).unit
        units[f.id] = c.currency if unit == "DKK" else "%" if isinstance(f.expr, m.Quantity) and unit == "%" else None
    return units


def _figure_cycles(x: _Exprs, c: m.Contract) -> None:
    """CL017 for a figure that is defined, through other figures, in terms of itself."""
    uses = {f.id: {r.name for r in _refs(f.expr)} for f in c.figures}
    for f in c.figures:
        path, todo, seen = {}, [(f.id, (f.id,))], set()
        while todo:
            name, via = todo.pop()
            for used in sorted(uses.get(name, ())):
                if used == f.id:
                    path = via + (f.id,)
                    todo = []
                    break
                if used in uses and used not in seen:
                    seen.add(used)
                    todo.append((used, via + (used,)))
        if path:
            x.err("CL017", f"the figure '{f.id}' is defined in terms of itself: {' → '.join(path)}", f.span, f.clause)


def _refs(e):
    """Every name read by an expression."""
    if isinstance(e, m.Ref):
        yield e
    if attrs.has(type(e)):
        for a in attrs.fields(type(e)):
            v = getattr(e, a.name)
            for item in (v if isinstance(v, tuple) else (v,)):
                if attrs.has(type(item)):
                    yield from _refs(item)


