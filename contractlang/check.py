"""check: what a contract means, verified without data.

`check(contract)` runs every function in `CHECKS` — each a small
`(Contract) -> list[Diagnostic]` — and returns all findings sorted by place.
Errors (CL010–CL017) make a contract unusable (the expressions are typed in
`check_types`); the warnings and notes of
`check_consistency` (CL020–CL024) compare stated figures with figures derived
from the contract itself.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import attrs

from . import model as m
from .ledger.vocabulary import FILES as LEDGER_FILES
from .vocabulary import HOUSEHOLD_ATTRIBUTES, PERSON_ATTRIBUTES
from .check_consistency import FIGURE_CHECKS, Run, did_you_mean, fmt, listing, shown
from .check_stated import CONSISTENCY_CHECKS
from .check_types import BOOL, _HOUSEHOLD, check_expressions, figure_units  # noqa: F401  (figure_units: read from here)
from .errors import Diagnostic, error, warning
from .limits import MAX_AMOUNT, MAX_INTEGER_DIGITS, MAX_MONTHS, date_problem, decimal_problem
from .keywords import in_language
from .vocabulary import DURATIONS, END_REASONS, GROUPS, ROUNDING_MODES



# ---- names declared twice ---------------------------------------------------------------

def _dupes(r: Run, items, kind: str, key=lambda x: x.id, of: str = ""):
    first: dict = {}
    for x in items:
        k = key(x)
        if k in first:
            line = first[k].span.line if first[k].span else "?"
            r.err("CL011", f"the {kind} '{k}'{of} is declared twice; the first declaration is on line {line}",
                  r.src.find(x.span, str(k)) if isinstance(k, str) else x.span, getattr(x, "clause", None),
                  "give each one its own name, or remove one")
        else:
            first[k] = x


def check_duplicates(c: m.Contract) -> list[Diagnostic]:
    """CL011: ids are unique per kind; rows, columns and enum values unique within their table or measure."""
    r = Run(c)
    for kind, items in (("party", c.parties), ("table", c.tables), ("point", c.points), ("measure", c.measures),
                        ("attribute", c.attributes), ("rounding", c.roundings), ("goal", c.goals), ("flag", c.flags),
                        ("metric", c.metrics), ("figure", c.figures)):
        _dupes(r, items, kind)
    # An attribute is a column of its file beside LEDGER.md's, read by name as measures and the built-in ones are.
    for a in c.attributes:
        file = "persons.csv" if a.level == "person" else "households.csv"
        taken = ("a measure" if a.id in {x.id for x in c.measures} else
                 "a built-in attribute" if a.id in PERSON_ATTRIBUTES + HOUSEHOLD_ATTRIBUTES else
                 f"a column of {file}" if a.id in LEDGER_FILES[file] else None)
        if taken:
            r.err("CL011", f"the attribute '{a.id}' has the name of {taken}", r.src.find(a.span, a.id), a.clause,
                  "give it another name (and its column in the ledger)")
    for t in c.tables:
        _dupes(r, t.columns, "column", of=f" of table '{t.id}'")
        _dupes(r, t.rows, "row", of=f" of table '{t.id}'")
    for meas in (*c.measures, *c.attributes):
        seen = set()
        for v in meas.values:
            if v in seen:
                what = "measure" if isinstance(meas, m.Measure) else "attribute"
                r.err("CL011", f"the {what} '{meas.id}' lists the value '{v}' twice", meas.span, meas.clause)
            seen.add(v)
    _dupes(r, c.caps, "cap on goal", key=lambda cap: cap.goal if cap.per is None else f"{cap.goal} per {cap.per}")
    return r.out


# ---- programme, points, measures, roundings ----------------------------------------------

def check_programme(c: m.Contract) -> list[Diagnostic]:
    """Dates in order, stays and replacement windows in months, replacement reasons known."""
    p = c.programme
    if p is None:
        return []
    r = Run(c)
    at = r.src.find(p.span, pattern=r"intervention\s[^\n]*")
    if p.intervention_end < p.intervention_start:
        r.err("CL013", f"the intervention ends ({p.intervention_end}) before it starts ({p.intervention_start})",
              at, p.intervention_clause)
    if p.data_collection_end is not None and p.data_collection_end < p.intervention_end:
        r.err("CL013", f"data collection ends ({p.data_collection_end}) before the intervention ends "
              f"({p.intervention_end}); the last measurements could never be made",
              r.src.find(p.span, pattern=r"data\s+collection[^\n]*"), p.data_collection_clause)
    r.unit(p.minimum_stay, "months", "a number of months", "the minimum stay", p.span, p.minimum_stay_clause, 0)
    r.unit(p.replacement_within, "months", "a number of months", "the replacement window", p.span,
           p.replacement_clause, 0)
    for reason in p.replacement_unless:
        if reason not in END_REASONS:
            r.err("CL010", f"the replacement rule names the end reason '{reason}'; the end reasons are "
                  f"{listing(END_REASONS)}", r.src.find(p.span, reason, after=r"\bunless\b"),
                  p.replacement_clause, did_you_mean(reason, END_REASONS))
    return r.out


def _offset(r: Run, q: m.Quantity | None, what: str, node) -> None:
    """An offset from a date (a point's, an adjustment's): a whole number of days, weeks, months or years, not
    negative; `node` is the declaration it is in."""
    if q is None:
        return
    if q.canonical_unit not in DURATIONS:
        r.err("CL012", f"{what} is {shown(q)}; expected days, weeks, months or years", q.span or node.span,
              node.clause, f"write it as {fmt(q.value)} months" if q.unit is None else None)
    elif q.value < 0:
        r.err("CL013", f"{what} is {shown(q)}; it must be at least 0", q.span or node.span, node.clause)
    elif q.value != q.value.to_integral_value():
        unit = q.canonical_unit
        finer = {"years": "months", "months": "days or weeks", "weeks": "days"}.get(unit)
        r.err("CL013", f"{what} is {shown(q)}; it is a whole number of {unit} (a calendar has no "
              f"{fmt(q.value)} {unit})", q.span or node.span, node.clause,
              f"write it in {finer}" if finer else None)


#: What each adjustment rule takes: in words, and as the (date given, offset given) pairs it allows.
_ADJUSTMENT_TAKES = {"each": ("neither a date nor an offset", {(False, False)}),
                     "once": ("a date and no offset", {(True, False)}),
                     "until": ("a date or an offset after the due date, not both", {(True, False), (False, True)})}


def check_settlement_dates(c: m.Contract) -> list[Diagnostic]:
    """CL013 unless a settlement's year begins on the first of a month (`periods quarterly from 04-01`), and unless
    its adjustment rule says when (a date for `until` or `once`, or an offset for `until`)."""
    r = Run(c)
    s = c.settlement
    if s is not None and s.year_start is not None:
        month, day = int(s.year_start[:2]), int(s.year_start[3:])
        if not 1 <= month <= 12 or day != 1:
            r.err("CL013", f"the settlement's year begins on {s.year_start}; a year of periods begins on the first of "
                  "a month (MM-01)", r.src.find(s.span, s.year_start), s.clause,
                  f"write {month:02d}-01" if 1 <= month <= 12 else None)
    a = s.adjustment if s is not None else None
    if a is not None:
        _offset(r, a.offset, "the time a paid period is adjusted after its due date", a)
        wants, allowed = _ADJUSTMENT_TAKES[a.rule]
        if (a.date is not None, a.offset is not None) not in allowed:
            r.err("CL013", f"the adjustment rule '{a.rule}' takes {wants}", a.span or s.span, a.clause)
    return r.out


def check_tiers_and_links(c: m.Contract) -> list[Diagnostic]:
    """A goal's tiers continue a stated price, each beyond the last (CL013), in the contract's money (CL012);
    its links name other goals (CL010) of subjects, not cohorts, once each, and `requires` is not circular."""
    r = Run(c)
    for g in c.goals:
        t = g.tiers
        if t is not None:
            if g.rate is None or not isinstance(g.rate.amount, m.Quantity):
                r.err("CL013", f"goal '{g.id}' has tiers, which continue a stated price; its 'pay' is "
                      + ("missing" if g.rate is None else "an expression"), t.span or g.span, t.clause,
                      "write the price of the first tier: pay 1_000 GBP per success")
            last = Decimal(0)
            for tier in t.tiers:
                r.amount(tier.amount, f"the price beyond {fmt(tier.beyond)} of goal '{g.id}'", tier.span, t.clause)
                if tier.beyond <= last:
                    r.err("CL013", f"the tier beyond {fmt(tier.beyond)} of goal '{g.id}' must begin beyond the one "
                          f"before it ({fmt(last)})" if last else f"a tier of goal '{g.id}' begins beyond "
                          f"{fmt(tier.beyond)}; it must be more than 0", tier.span or t.span, t.clause)
                last = max(last, tier.beyond)
        kinds = [x.kind for x in g.links]
        for x in g.links:
            if kinds.count(x.kind) > 1 and x is not g.link(x.kind):
                r.err("CL004", f"goal '{g.id}' says '{x.kind}' twice; name every goal in one", x.span, x.clause)
            compares = g.comparison is not None
            if compares and x.kind != "replaces":  # a cohort's line has no subject's lines to depend on
                r.err("CL013", f"goal '{g.id}' compares cohorts; '{x.kind}' is about a subject's lines",
                      x.span, x.clause)
            for other in x.goals:
                if r.ref("goal", other, r.ix.goals, x.span, x.clause, f"'{x.kind}' in goal '{g.id}'"):
                    if other == g.id and x.kind in ("requires", "replaces"):
                        r.err("CL013", f"goal '{g.id}' {x.kind} itself", x.span, x.clause)
                    elif (r.ix.goals[other].comparison is not None) != compares:
                        r.err("CL013", f"'{x.kind}' in goal '{g.id}' names '{other}', which "
                              + ("does not compare cohorts" if compares else "compares cohorts, not subjects"),
                              x.span, x.clause)
            if x.kind == "replaces" and len(x.goals) != 1:
                r.err("CL013", f"goal '{g.id}' replaces one goal, not {len(x.goals)}", x.span, x.clause)
    needs = {g.id: set((g.link("requires").goals if g.link("requires") else ())) for g in c.goals}
    for g in c.goals:
        seen, todo = set(), list(needs[g.id])
        while todo:
            other = todo.pop()
            if other == g.id:
                link = g.link("requires")
                r.err("CL013", f"goal '{g.id}' requires itself through other goals: no line of it could be paid",
                      link.span, link.clause)
                break
            if other not in seen:
                seen.add(other)
                todo += needs.get(other, ())
    return r.out


def check_comparison_weights(c: m.Contract) -> list[Diagnostic]:
    """A comparison `weighted by` a declared numeric attribute of persons (CL010, CL012)."""
    r = Run(c)
    attributes = {a.id: a for a in c.attributes}
    for g in c.goals:
        k = g.comparison
        if k is None or k.weight is None:
            continue
        a = attributes.get(k.weight)
        if a is None:
            r.err("CL010", f"goal '{g.id}' weights its groups by '{k.weight}', which is not a declared attribute",
                  r.src.find(k.span, k.weight, after=r"\bby\b"), g.clause, did_you_mean(k.weight, attributes))
        elif a.level != "person" or a.kind not in ("integer", "decimal"):
            r.err("CL012", f"goal '{g.id}' weights its groups by '{k.weight}', which is not a number of each person "
                  f"(it is a {a.kind} attribute of each {a.level})", r.src.find(k.span, k.weight), g.clause)
    return r.out


#: What an amendment cannot change: the money, the parties, the data a ledger is read against, who counts, and the
#: periods and the order of the lines (one account and one running total across the versions).
_UNAMENDABLE = (("currency", "the currency"), ("parties", "the parties"), ("points", "the points"),
                ("measures", "the measures"), ("programme", "the programme"), ("settlement", "the settlement block"))


def check_amendment(c: m.Contract) -> list[Diagnostic]:
    """CL026 unless a contract that amends another (`amends "FILE" effective DATE`) amends one without errors,
    keeps what a version cannot change, and keeps its goals (changed or not; it may add others); CL013 unless it
    takes effect after the version it amends."""
    a, old = c.amends, c.amended
    if a is None or old is None:  # not an amendment, or read from text without its file
        return []
    r = Run(c)
    errors = [d for d in check(old) if d.severity == "error"]
    if errors:
        r.err("CL026", f"the contract it amends, {a.file}, has {len(errors)} error(s)", a.span, a.clause,
              f"contractlang check {old.path or a.file}")
    if old.amends is not None and a.effective <= old.amends.effective:
        r.err("CL013", f"the amendment takes effect on {a.effective}, not after the version it amends (in effect from "
              f"{old.amends.effective})", r.src.find(a.span, a.effective.isoformat()), a.clause)
    for name, what in _UNAMENDABLE:
        if getattr(c, name) != getattr(old, name):
            r.err("CL026", f"an amendment cannot change {what}; this file's differ from {a.file}'s", a.span, a.clause,
                  "an amendment changes goals, prices, caps, tranches, tables, figures and flags; for more, write "
                  "a new contract")
    dropped = [g.id for g in old.goals if c.goal(g.id) is None]
    if dropped:
        r.err("CL026", f"an amendment keeps the goals of the version it amends; {listing(dropped)} "
              f"{'is' if len(dropped) == 1 else 'are'} not here", a.span, a.clause,
              "to stop paying a goal from a date, keep it and change its price or outcome")
    return r.out


def check_points_and_measures(c: m.Contract) -> list[Diagnostic]:
    """Points are start/end plus months; measures are taken at declared points; roundings are sane."""
    r = Run(c)
    ix = r.ix
    for p in c.points:
        if p.anchor not in ("start", "end"):
            r.err("CL013", f"the point '{p.id}' counts from '{p.anchor}'; expected start or end", p.span, p.clause)
        _offset(r, p.offset, f"the offset of point '{p.id}'", p)
    for meas in c.measures:
        for point in meas.points:
            r.ref("point", point, ix.points, meas.span, meas.clause, f"the measure '{meas.id}'", after=r"\bat\b")
        if meas.low is not None and meas.high is not None and meas.low > meas.high:
            r.err("CL013", f"the range of the measure '{meas.id}' runs from {fmt(meas.low)} to {fmt(meas.high)}; "
                  "the low end must not be above the high end", meas.span, meas.clause)
        if meas.kind == "enum" and not meas.values:
            r.err("CL013", f"the measure '{meas.id}' has no values", meas.span, meas.clause)
    for rd in c.roundings:
        if not 0 <= rd.places <= 10:
            r.err("CL013", f"the rounding '{rd.id}' rounds to {rd.places} places; expected 0 to 10",
                  r.src.find(rd.span, str(rd.places)), rd.clause)
        if rd.mode not in ROUNDING_MODES:
            r.err("CL013", f"the rounding '{rd.id}' has the mode '{rd.mode}'; the modes are {listing(ROUNDING_MODES, 9)}",
                  r.src.find(rd.span, rd.mode, after=r"places"), rd.clause, did_you_mean(rd.mode, ROUNDING_MODES))
    return r.out


#: What each adjustment rule takes: in words, and as the (date given, offset given) pairs it allows.
_ADJUSTMENT_TAKES = {"each": ("neither a date nor an offset", {(False, False)}),
                     "once": ("a date and no offset", {(True, False)}),
                     "until": ("a date or an offset after the due date, not both", {(True, False), (False, True)})}


def check_settlement(c: m.Contract) -> list[Diagnostic]:
    """`order lines by` names each of date, goal and subject at most once."""
    st = c.settlement
    if st is None:
        return []
    r = Run(c)
    seen: dict[str, int] = {}
    for key in st.order:
        n = seen[key] = seen.get(key, 0) + 1
        word = rf"(?<!\w){re.escape(key)}(?!\w)"
        # The keyword `by` in the file's language, then the names (which are not translated) as they are.
        at = r.src.find(st.span, key, after=re.compile(in_language(r"\bby\b", r.src.language)
                                                       + rf"(?:.|\n)*?{word}" * (n - 1)))
        if key not in m.LINE_ORDER_KEYS:
            if n == 1:
                r.err("CL010", f"the lines cannot be ordered by '{key}'; they are ordered by "
                      f"{listing(m.LINE_ORDER_KEYS)} (the keys left out follow those named, in that order)",
                      at, st.clause, did_you_mean(key, m.LINE_ORDER_KEYS))
        elif n == 2:
            r.err("CL011", f"'order lines by' names '{key}' twice", at, st.clause, "name each key once")
    return r.out


# ---- goals --------------------------------------------------------------------------------

def _payer_shares(r: Run, g: m.Goal) -> None:
    """A goal paid by several payers: each a party, named once, with a percentage; the shares make 100 % (CL014)."""
    if not g.shares:
        return
    seen: set[str] = set()
    for x in g.shares:
        r.ref("party", x.party, r.ix.parties, x.span or g.span, g.clause, f"the payers of goal '{g.id}'")
        if x.party in seen:
            r.err("CL011", f"goal '{g.id}' names the payer '{x.party}' twice", x.span or g.span, g.clause)
        seen.add(x.party)
        if x.percent.canonical_unit != "%":
            r.err("CL012", f"the share of payer '{x.party}' in goal '{g.id}' is {shown(x.percent)}; expected a "
                  "percentage", x.percent.span or g.span, g.clause, f"write it as {fmt(x.percent.value)} %")
    total = sum((x.percent.value for x in g.shares), Decimal(0))
    if total != 100:
        r.err("CL014", f"the payers' shares of goal '{g.id}' make {fmt(total)} %, not 100 %",
              g.shares[0].span or g.span, g.clause)


def check_goals(c: m.Contract) -> list[Diagnostic]:
    """CL015 every goal has a payer, points, an outcome and a price; its names are declared."""
    r = Run(c)
    ix = r.ix
    for g in c.goals:
        lacks = [(part, how) for part, ok, how in (
            ("payer", g.payer, "payer PARTY"), ("measurement points", g.points, "points P1, P2"),
            ("outcome", g.outcome is not None, "outcome EXPRESSION"),
            ("price", g.rate is not None, "pay AMOUNT DKK per UNIT")) if not ok]
        if lacks:
            r.err("CL015", f"the goal '{g.id}' has {listing(['no ' + p for p, _ in lacks])}; a payment "
                  "goal needs a payer, measurement points, an outcome and a price", r.src.find(g.span, g.id),
                  g.clause, "add " + listing([f"'{h}'" for _, h in lacks]) + " to the goal")
        if g.payer and not g.shares:
            r.ref("party", g.payer, ix.parties, g.span, g.clause, f"the goal '{g.id}'", after=r"\bpayer\b")
        _payer_shares(r, g)
        for point in g.points:
            r.ref("point", point, ix.points, g.span, g.clause, f"the goal '{g.id}'", after=r"\bpoints\b")
        if g.rate is not None and isinstance(g.rate.amount, m.Quantity):
            r.amount(g.rate.amount, f"the price of goal '{g.id}'", g.rate.span, g.clause)
        cmp = g.comparison
        if cmp is not None:
            r.ref("measure", cmp.measure, ix.measures, cmp.span, g.clause, f"the comparison of goal '{g.id}'")
            for grp in (cmp.treated, cmp.control):
                if grp not in GROUPS:
                    r.err("CL010", f"the comparison of goal '{g.id}' names the group '{grp}'; the groups are "
                          "intervention and control", r.src.find(cmp.span, grp, after=r"\bof\b"), g.clause,
                          did_you_mean(grp, GROUPS))
        miss = g.missing
        flags = [n for n, ty in _HOUSEHOLD.items() if ty is BOOL]
        if miss is not None and miss.exempt is not None and miss.exempt not in flags:
            r.err("CL010", f"the missing-data rule of goal '{g.id}' exempts '{miss.exempt}'; expected one of "
                  f"{listing(flags, conj='or')}", r.src.find(miss.span, miss.exempt, after=r"\bexcept\b"),
                  miss.clause or g.clause, did_you_mean(miss.exempt, flags))
    for mt in c.metrics:
        if mt.target is not None:
            r.unit(mt.target, "%", "a percentage", f"the target of metric '{mt.id}'", mt.span, mt.clause, 0, 100)
    return r.out


# ---- currencies: one per contract, and one that exists ------------------------------------------

def check_currencies(c: m.Contract) -> list[Diagnostic]:
    """CL013 for a `currency` that is no ISO 4217 code; CL012 for an amount in any other currency than the
    contract's (a GBP contract with a DKK amount would otherwise settle the DKK figure as pounds)."""
    from babel.numbers import list_currencies

    r = Run(c)
    known = list_currencies()
    if c.currency not in known:
        close = _currency_meant(c.currency, known)
        r.err("CL013", f"the contract's currency '{c.currency}' is not a currency code of ISO 4217",
              r.src.find(m.SourceSpan(c.span.file, 1, 1), c.currency, after=r"\bcurrency\b") if c.span else None,
              c.clause,
              close or "write the three capital letters of ISO 4217: DKK, EUR, GBP, SEK, NOK, USD …")
    seen: set = set()
    for value, owner in _walk(c, c):
        if type(value) is m.Quantity and m.is_currency(value.unit) and value.unit != c.currency:
            where = value.span or getattr(owner, "span", None) or c.span
            if (where, value.unit) in seen:
                continue
            seen.add((where, value.unit))
            unknown = "" if value.unit in known else f" ('{value.unit}' is not a currency code of ISO 4217)"
            r.err("CL012", f"the amount {shown(value)} is in {value.unit}{unknown}; every amount of this contract is "
                  f"in its currency, {c.currency}", where, getattr(owner, "clause", None),
                  f"write {shown(m.Quantity(value=value.value, unit=c.currency))}, or change the contract's "
                  f"currency (currency {value.unit})" if value.unit in known else _currency_meant(value.unit, known))
    return r.out


def _currency_meant(code: str, known) -> str | None:
    """The hint for a misspelt currency code: one with the same letters (`GPB` → GBP), or else the closest."""
    same = sorted(k for k in known if sorted(k) == sorted(code))
    return f"did you mean '{same[0]}'?" if same else did_you_mean(code, sorted(known))


# ---- limits: what the engine and every report can carry (contractlang/limits.py) ---------------

def _walk(node, owner):
    """Every (value, nearest node with a span) below `node`: model nodes, numbers, dates."""
    for a in attrs.fields(type(node)):
        if a.name in ("span", "source", "path"):
            continue
        value = getattr(node, a.name)
        for item in (value if isinstance(value, tuple) else (value,)):
            if attrs.has(type(item)):
                inner = item if getattr(item, "span", None) is not None else owner
                yield item, inner
                yield from _walk(item, inner)
            elif item is not None and not isinstance(item, (str, bool)):
                yield item, owner


#: How many months a duration counts at least (a month has at most 31 days), to hold it to MAX_MONTHS.
_MONTHS_IN = {"months": Decimal(1), "years": Decimal(12), "weeks": Decimal(7) / 31, "days": Decimal(1) / 31}


def check_limits(c: m.Contract) -> list[Diagnostic]:
    """CL018: every number, amount, count of months and date within the limits of `contractlang.limits`.

    A contract beyond them would pass the other checks and fail while settling or writing a report.
    """
    r = Run(c)
    for value, owner in _walk(c, c):
        where, clause = getattr(owner, "span", None) or c.span, getattr(owner, "clause", None)
        if type(value) is m.Quantity:
            problem = decimal_problem(value.value)
            if problem:
                r.err("CL018", f"a number here {problem}", where, clause)
            elif m.is_currency(value.unit) and abs(value.value) > MAX_AMOUNT:
                r.err("CL018", f"the amount {shown(value)} is above {fmt(MAX_AMOUNT)} {value.unit}, the largest amount "
                      "a contract may state (a report could not show larger sums to the øre)", where, clause,
                      "is the figure written wrongly?")
            elif (value.canonical_unit in _MONTHS_IN and abs(value.value) * _MONTHS_IN[value.canonical_unit]
                  > MAX_MONTHS):
                r.err("CL018", f"{shown(value)} is more than {MAX_MONTHS} months (a hundred years), the longest span "
                      "a contract may count", where, clause, "is the figure written wrongly?")
        elif type(value) is Decimal:
            problem = decimal_problem(value)
            if problem:
                r.err("CL018", f"a number here {problem}", where, clause)
        elif type(value) is int:
            if abs(value) >= 10 ** MAX_INTEGER_DIGITS:
                r.err("CL018", f"a whole number here has more than {MAX_INTEGER_DIGITS} digits", where, clause)
        elif type(value) is dt.date:
            problem = date_problem(value)
            if problem:
                r.err("CL018", f"the date {value.isoformat()} {problem}", r.src.find(where, value.isoformat()), clause,
                      "is the year written wrongly?")
    return r.out


CHECKS = (check_duplicates, check_programme, check_points_and_measures, check_settlement, check_goals,
          check_expressions) \
    + FIGURE_CHECKS + CONSISTENCY_CHECKS + (check_currencies, check_settlement_dates, check_tiers_and_links,
                                            check_comparison_weights, check_amendment, check_limits)


def _key(d: Diagnostic):
    s = d.span
    return (s.file or "", s.line or 0, s.column or 0) if s else ("", 0, 0)


def check(contract: m.Contract) -> list[Diagnostic]:
    """Every diagnostic for `contract` (errors, warnings, notes), sorted by file, line and column."""
    out: list[Diagnostic] = []
    for fn in CHECKS:
        try:
            out.extend(fn(contract))
        except Exception as exc:  # a checker bug must never hide the other findings
            out.append(error("CL017", f"the check '{fn.__name__}' could not finish on this contract "
                             f"({type(exc).__name__}: {exc}); please report this", contract.span))
    return sorted(acknowledged(contract, out), key=_key)


def acknowledged(contract: m.Contract, diags: list[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics with each warning the contract acknowledges marked with its reason (shown, not
    silenced); an acknowledgement that matches no warning is itself a warning (CL025), so that one left
    behind after the figures were corrected does not hide a new finding of the same code."""
    out, used = [], set()
    for d in diags:
        ack = next((a for a in contract.acknowledgements if d.severity == "warning" and a.code == d.code
                    and (a.subject is None or a.subject == d.subject)), None)
        if ack is not None:
            used.add(id(ack))
            d = attrs.evolve(d, acknowledged=ack.reason)
        out.append(d)
    for a in contract.acknowledgements:
        if id(a) not in used:
            on = f" on {a.subject}" if a.subject is not None else ""
            out.append(warning("CL025", f"'acknowledge {a.code}{on}' matches no warning of the contract: the "
                               "warning it accepted is gone (or it names an error, which cannot be acknowledged)",
                               a.span, a.clause, hint="delete the acknowledgement, or correct its code or name"))
    return out
