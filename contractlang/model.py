"""The contract model: immutable attrs classes, one per construct of the language.

Both the DSL parser and the YAML loader produce these objects. Every node carries a
`span` (where it came from) that takes no part in equality, so the DSL and YAML
forms of one contract compare equal.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Union

import attrs
from attrs import field


@attrs.frozen
class SourceSpan:
    """A position in a source file (1-based lines and columns)."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def cut(self, lines: list[str]) -> str:
        """The text this span covers in the source `lines`, joined into one line ('' when it has no end)."""
        if self.end_line is None:
            return ""
        part = lines[self.line - 1:self.end_line]
        if not part:
            return ""
        if len(part) == 1:
            return part[0][self.column - 1:self.end_column - 1]
        part[0] = part[0][self.column - 1:]
        part[-1] = part[-1][:self.end_column - 1]
        return " ".join(x.strip() for x in part)


def _span():
    return field(default=None, eq=False, repr=False)


def node(cls):
    """Decorator: a frozen, keyword-only attrs class (every model node)."""
    return attrs.frozen(kw_only=True)(cls)


# ---- literals ------------------------------------------------------------------

#: The units a quantity may have besides a currency (`is_currency`: DKK, GBP, EUR).
UNITS = ("%", "count", "months", "month", "days", "years", "weeks",
         "percentage_points", "percentage_point", "text")


def is_currency(unit: str | None) -> bool:
    """Whether a unit is a currency: three capital letters, as ISO 4217 writes them (`check` holds it to the
    codes that exist and to the contract's own currency)."""
    return unit is not None and len(unit) == 3 and unit.isascii() and unit.isalpha() and unit.isupper()


@node
class Quantity:
    """A number with an optional unit; `assumption` marks a figure the seed does not give."""

    value: Decimal
    unit: str | None = None
    assumption: str | None = None
    span: SourceSpan | None = _span()

    @property
    def canonical_unit(self) -> str | None:
        return {"month": "months", "percentage_point": "percentage_points"}.get(self.unit, self.unit)


@node
class Symbol:
    """A bare name used as a table cell (e.g. a criterion)."""

    name: str
    span: SourceSpan | None = _span()


@node
class Empty:
    """A table cell left blank (`-`): the original states no figure there."""

    span: SourceSpan | None = _span()


Cell = Union[Quantity, Symbol, Empty]


# ---- expressions -----------------------------------------------------------------

@node
class DateLit:
    value: dt.date
    span: SourceSpan | None = _span()


@node
class Ref:
    """A name: a measure (at the current point), a `let`, an attribute or an enum value."""

    name: str
    span: SourceSpan | None = _span()


@node
class At:
    """`expr@point`: evaluate `expr` at another measurement point."""

    expr: "Expr"
    point: str
    span: SourceSpan | None = _span()


@node
class ColumnRef:
    """`table.column`: a whole column (used by `deviation`)."""

    table: str
    column: str
    span: SourceSpan | None = _span()


@node
class Lookup:
    """`table.column[key]`: the cell of the row named by `key`."""

    table: str
    column: str
    key: "Expr"
    span: SourceSpan | None = _span()


@node
class Call:
    """A built-in function: max, min, round, previous, deviation, abs."""

    func: str
    args: tuple["Expr", ...]
    span: SourceSpan | None = _span()


@node
class Count:
    """`count(households where cond)`: an aggregate over the programme's households or persons."""

    level: str
    where: "Expr"
    span: SourceSpan | None = _span()


@node
class Binary:
    """Arithmetic or comparison: op in + - * / == != < <= > >=."""

    op: str
    left: "Expr"
    right: "Expr"
    span: SourceSpan | None = _span()


@node
class Neg:
    operand: "Expr"
    span: SourceSpan | None = _span()


@node
class BoolOp:
    """`and` / `or` over two or more operands (missing values propagate)."""

    op: str
    operands: tuple["Expr", ...]
    span: SourceSpan | None = _span()


@node
class Not:
    operand: "Expr"
    span: SourceSpan | None = _span()


@node
class In:
    operand: "Expr"
    values: tuple[str, ...]
    span: SourceSpan | None = _span()


@node
class Between:
    operand: "Expr"
    low: "Expr"
    high: "Expr"
    span: SourceSpan | None = _span()


@node
class MatchArm:
    values: tuple[str, ...]
    result: "Expr"
    span: SourceSpan | None = _span()


@node
class Match:
    """`match expr { a, b => ... }`: only the chosen arm is evaluated."""

    subject: "Expr"
    arms: tuple[MatchArm, ...]
    span: SourceSpan | None = _span()


@node
class If:
    """`if cond then a else b`: only the chosen branch is evaluated; a missing condition is a missing value."""

    cond: "Expr"
    then: "Expr"
    else_: "Expr"
    span: SourceSpan | None = _span()


Expr = Union[Quantity, DateLit, Ref, At, ColumnRef, Lookup, Call, Count, Binary, Neg,
             BoolOp, Not, In, Between, Match, If]


def subexpressions(e):
    """`e` and every expression inside it, depth first."""
    yield e
    if attrs.has(type(e)):
        for f in attrs.fields(type(e)):
            v = getattr(e, f.name)
            for x in (v if isinstance(v, tuple) else (v,)):
                if attrs.has(type(x)):
                    yield from subexpressions(x)


# ---- declarations -------------------------------------------------------------

@node
class Party:
    """A party to the contract: funder, payer or recipient."""

    id: str
    name: str | None = None
    role: str
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Grant:
    """Money a funder grants to the programme."""

    party: str
    amount: Quantity
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class PartyAmount:
    party: str
    amount: Quantity
    span: SourceSpan | None = _span()


@node
class Instalment:
    label: str | None = None
    date: dt.date
    amounts: tuple[PartyAmount, ...]
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Disbursement:
    """The schedule on which the grants are paid out."""

    instalments: tuple[Instalment, ...]
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Column:
    id: str
    label: str | None = None
    unit: str
    span: SourceSpan | None = _span()


@node
class TableCheck:
    """`check total = a + b + c`: in every row the first column is the sum of the others."""

    target: str
    terms: tuple[str, ...]
    span: SourceSpan | None = _span()


@node
class Row:
    """A row of a table. `kind` is `row` (stated figures) or `sum` (a stated total)."""

    id: str
    label: str | None = None
    kind: str = "row"
    of: tuple[str, ...] | None = None
    weighted_by: str | None = None
    cells: tuple[Cell, ...]
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Table:
    """A table of stated figures (budgets, expected distributions, lookups)."""

    id: str
    title: str | None = None
    columns: tuple[Column, ...]
    checks: tuple[TableCheck, ...] = ()
    rows: tuple[Row, ...]
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Programme:
    """The intervention period, data collection, minimum stay and replacement rule."""

    intervention_start: dt.date
    intervention_end: dt.date
    intervention_clause: str | None = None
    intervention_assumption: str | None = None
    data_collection_end: dt.date | None = None
    data_collection_assumption: str | None = None
    data_collection_clause: str | None = None
    minimum_stay: Quantity | None = None
    minimum_stay_clause: str | None = None
    replacement_within: Quantity | None = None
    replacement_unless: tuple[str, ...] = ()
    replacement_clause: str | None = None
    decisions: tuple[str, ...] = ()
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Reduction:
    """Relative reduction of the grants by enrolled versus expected households (reported only)."""

    table: str
    row: str
    column: str
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Point:
    """A measurement point: `start` or `end` of the subject's course, plus months."""

    id: str
    anchor: str
    offset: Quantity | None = None
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Measure:
    """An entry of the data dictionary: level, type and points at which it is taken."""

    id: str
    level: str
    kind: str  # enum | boolean | integer | decimal
    values: tuple[str, ...] = ()
    low: Decimal | None = None
    high: Decimal | None = None
    points: tuple[str, ...]
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Attribute:
    """What the ledger says of each person or household besides its measures (gender, provider, referral date):
    a column of persons.csv or households.csv, checked like a measure; an empty cell is missing."""

    id: str
    level: str
    kind: str  # enum | boolean | integer | decimal | date
    values: tuple[str, ...] = ()
    low: Decimal | None = None
    high: Decimal | None = None
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Rounding:
    """A named rounding rule: places and mode (half_up, half_even, half_away_from_zero, down, up)."""

    id: str
    places: int
    mode: str
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Let:
    name: str
    expr: Expr
    span: SourceSpan | None = _span()


@node
class Comparison:
    """`compare mean M of intervention against control by cohort` (a line per cohort), or `… pooled` (one line
    for the subjects of every cohort together)."""

    measure: str
    treated: str
    control: str
    pooled: bool = False
    weight: str | None = None  # `weighted by ATTRIBUTE`: each subject's weight in its group's mean (matched controls)
    span: SourceSpan | None = _span()


@node
class Rate:
    """`pay AMOUNT per UNIT`: the amount is a money expression, most often a plain quantity."""

    amount: Expr
    per: str
    span: SourceSpan | None = _span()


@node
class Tier:
    """`beyond N: AMOUNT`: the units of outcome beyond the Nth (of the goal, in the order of the lines) are paid
    AMOUNT each."""

    beyond: Decimal
    amount: Quantity
    span: SourceSpan | None = _span()


@node
class Tiers:
    """A goal's marginal prices by order of achievement: its `pay` amount up to the first tier, then each tier's."""

    tiers: tuple[Tier, ...]
    clause: str | None = None
    span: SourceSpan | None = _span()


#: How a goal's line for a subject depends on the subject's other lines (`Link.kind`).
LINK_KINDS = ("once", "requires", "excludes", "replaces")


@node
class Link:
    """`once per subject` (at most one paying line a subject), `requires G` (only after a paying line of G),
    `excludes G` (not after a paying line of G), `replaces G` (paying the difference to what G paid)."""

    kind: str
    goals: tuple[str, ...] = ()
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Missing:
    """What replaces a missing outcome: `mean` of the observed, `zero`, `none`, or `observed only`."""

    method: str
    exempt: str | None = None
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Goal:
    """A payment goal: who is measured, when, what counts as an outcome and its price."""

    id: str
    title: str | None = None
    payer: str | None = None
    level: str = "persons"
    where: Expr | None = None
    points: tuple[str, ...] = ()
    from_cohort: bool = False
    comparison: Comparison | None = None
    lets: tuple[Let, ...] = ()
    outcome: Expr | None = None
    # How `and`/`or` read a missing value: None or "strict" (a missing input makes the condition missing), or
    # "three-valued" (`false and missing` is false, `true or missing` is true).
    conditions: str | None = None
    rate: Rate | None = None
    # Several payers, each paying its share of every line (`payer A 70 %, B 30 %`; `payer` is then the first).
    shares: tuple["Share", ...] = ()
    # `dated by evidence`: a line is dated by the latest date of the ledger rows its outcome reads (a claim dated
    # by its evidence), else by its point's.
    dated_by_evidence: bool = False
    tiers: Tiers | None = None
    links: tuple[Link, ...] = ()
    missing: Missing | None = None
    decisions: tuple[str, ...] = ()
    clause: str | None = None
    span: SourceSpan | None = _span()

    def link(self, kind: str) -> Link | None:
        return next((x for x in self.links if x.kind == kind), None)

    @property
    def three_valued(self) -> bool:
        return self.conditions == "three-valued"


@node
class Cap:
    """A cap on one goal's payments, or on all of a payer's (`goal` then names the payer); optionally per period."""

    goal: str
    amount: Quantity
    per: str | None = None
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Interest:
    rate: Quantity
    day_count: int
    capitalisation: str  # MM-DD
    span: SourceSpan | None = _span()


@node
class ReturnCap:
    """The cap on one payer's cumulative repayment over a set of goals."""

    payer: str
    amount: Quantity
    goals: tuple[str, ...]
    interest: Interest | None = None
    base: tuple[str, ...] = ()
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Share:
    party: str
    percent: Quantity
    span: SourceSpan | None = _span()


@node
class Tranche:
    number: int
    until: Quantity | None = None
    shares: tuple[Share, ...]
    span: SourceSpan | None = _span()


@node
class Tranches:
    """How the repayment pool is shared between recipients, switching at thresholds."""

    tranches: tuple[Tranche, ...]
    rounding: str
    remainder: str
    clause: str | None = None
    span: SourceSpan | None = _span()


#: What `order lines by` may name: the point's date, the goal (in the order goals are declared) and the
#: subject id (plain string order). The keys a contract leaves out follow the ones it names, in this order.
LINE_ORDER_KEYS = ("date", "goal", "subject")


@node
class Adjustment:
    """How a period already paid is adjusted when its entitlement moves (`adjust paid periods …`).

    `rule`: `each` (trued up at each settlement), `until` (adjusted until `date`, or until `offset` after the
    period's due date; locked after), `once` (not adjusted until `date`, then trued up once and for all)."""

    rule: str
    date: dt.date | None = None
    offset: Quantity | None = None
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Settlement:
    """Settlement periods, due dates and the order in which lines meet the caps."""

    periods: str
    due: str
    order: tuple[str, ...]
    year_start: str | None = None  # MM-DD: the first day of the settlement's year (a financial year); None: 1 January
    # `floor per period zero|carried forward`: what a payer owes for a period is at least nothing; None: no floor
    floor: str | None = None
    floor_clause: str | None = None
    adjustment: Adjustment | None = None
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Flag:
    """A condition that is reported (renegotiate, withhold), never paid."""

    id: str
    title: str | None = None
    for_each: str | None = None
    on: dt.date | None = None
    when: Expr
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Metric:
    """A reported share of subjects meeting a condition, with an optional target."""

    id: str
    title: str | None = None
    level: str = "persons"
    where: Expr | None = None
    share: Expr
    rounding: str | None = None
    target: Quantity | None = None
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Figure:
    """A named figure computed from the contract's own numbers (a business case)."""

    id: str
    title: str | None = None
    expr: Expr
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Acknowledgement:
    """A checker warning the parties accept, with their reason (`acknowledge CL021 on budget "…"`): `check`
    still shows it, marked acknowledged, and `check --strict` does not fail on it. `subject` narrows it to
    the warnings about one party, table or tranche; without it, every warning of the code is meant."""

    code: str
    subject: str | None = None
    reason: str
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Amendment:
    """`amends "FILE" effective DATE`: this contract is a new version of the one in `file` (a path relative to
    this file's directory), in force for the lines dated from `effective`."""

    file: str
    effective: dt.date
    clause: str | None = None
    span: SourceSpan | None = _span()


@node
class Contract:
    """A whole contract file. `amended`: the contract it amends (`amends`), loaded with it by `contractlang.load`
    (None when it was not loaded, e.g. from text without a file)."""

    id: str
    title: str | None = None
    clause: str | None = None
    amends: Amendment | None = None
    currency: str = "DKK"
    parties: tuple[Party, ...] = ()
    grants: tuple[Grant, ...] = ()
    disbursement: Disbursement | None = None
    tables: tuple[Table, ...] = ()
    programme: Programme | None = None
    reduction: Reduction | None = None
    points: tuple[Point, ...] = ()
    measures: tuple[Measure, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    roundings: tuple[Rounding, ...] = ()
    goals: tuple[Goal, ...] = ()
    caps: tuple[Cap, ...] = ()
    return_cap: ReturnCap | None = None
    tranches: Tranches | None = None
    settlement: Settlement | None = None
    flags: tuple[Flag, ...] = ()
    metrics: tuple[Metric, ...] = ()
    figures: tuple[Figure, ...] = ()
    decisions: tuple[str, ...] = ()
    acknowledgements: tuple[Acknowledgement, ...] = ()
    source: str | None = field(default=None, eq=False, repr=False)
    path: str | None = field(default=None, eq=False, repr=False)
    amended: "Contract | None" = field(default=None, eq=False, repr=False)
    span: SourceSpan | None = _span()

    def versions(self) -> list[tuple["Contract", dt.date | None]]:
        """This contract and those it amends, oldest first, each with the date it is in force from (None: the
        first)."""
        chain, c = [], self
        while c is not None:
            chain.append((c, c.amends.effective if c.amends else None))
            c = c.amended
        return chain[::-1]

    # Lookups by id; contracts are small, a linear scan is clear and fast enough.
    def party(self, id: str) -> Party | None:
        return next((p for p in self.parties if p.id == id), None)

    def table(self, id: str) -> Table | None:
        return next((t for t in self.tables if t.id == id), None)

    def measure(self, id: str) -> Measure | None:
        return next((m for m in self.measures if m.id == id), None)

    def point(self, id: str) -> Point | None:
        return next((p for p in self.points if p.id == id), None)

    def goal(self, id: str) -> Goal | None:
        return next((g for g in self.goals if g.id == id), None)

    def rounding(self, id: str) -> Rounding | None:
        return next((r for r in self.roundings if r.id == id), None)

    def single_recipient(self) -> str:
        """Who receives every payment of a contract without tranches: its first funder."""
        funders = [p.id for p in self.parties if p.role == "funder"]
        return funders[0] if funders else "recipient"

    def recipients(self) -> tuple[str, ...]:
        """Every party a payment can be split to: the tranches' parties, or the single recipient."""
        t = self.tranches
        if t is None:
            return (self.single_recipient(),)
        return tuple(sorted({s.party for tr in t.tranches for s in tr.shares} | {t.remainder}))

    def payers(self) -> tuple[str, ...]:
        """Every party that pays a goal, or a share of one."""
        return tuple(sorted({g.payer for g in self.goals if g.payer} | {x.party for g in self.goals for x in g.shares}))

    def line_order(self) -> tuple[str, ...]:
        """The keys lines meet the caps in: those `order lines by` names, then the others of
        `LINE_ORDER_KEYS` (lines equal in all three follow the order of their goal's points)."""
        named = dict.fromkeys(k for k in (self.settlement.order if self.settlement else ()) if k in LINE_ORDER_KEYS)
        return (*named, *(k for k in LINE_ORDER_KEYS if k not in named))
