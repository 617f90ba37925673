"""The checks of a contract's figures, and the helpers every check shares.

`FIGURE_CHECKS` hold amounts, shares, thresholds and table cells to their units
and ranges and tables to their shape (CL012–CL016). The figures the contract
states are compared with figures derived from the contract itself in
`check_stated` (CL020–CL024). `check` runs both.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import re
from decimal import Decimal

from . import model as m
from .errors import Diagnostic, error
from .keywords import in_language, language_of

HUNDRED = Decimal(100)


def fmt(d: Decimal | int) -> str:
    """A figure with thousands separators: 3912501 → '3,912,501', 26.237 → '26.237'."""
    d = Decimal(d)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return f"{d:,}"


def shown(q: m.Quantity) -> str:
    """A quantity as written, with its unit: '1,304,167 DKK', '74 %', '3 (no unit)'."""
    return f"{fmt(q.value)} {q.unit}" if q.unit else f"{fmt(q.value)} (no unit)"


def did_you_mean(name: str, candidates) -> str | None:
    """A 'did you mean' hint for a misspelt name, or None."""
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f"did you mean '{close[0]}'?" if close else None


def listing(names, limit: int = 8, conj: str = "and") -> str:
    """'a, b and c' (at most `limit` names, then '…')."""
    names = list(dict.fromkeys(names))
    if not names:
        return "none (nothing is declared)"
    if len(names) > limit:
        return ", ".join(names[:limit]) + ", …"
    return names[0] if len(names) < 2 else ", ".join(names[:-1]) + f" {conj} " + names[-1]


_PLURAL = {"party": "parties"}


class Index:
    """Declarations by id (first one wins), built once per contract."""

    _last: tuple = (None, None)

    def __init__(self, c: m.Contract):
        def by_id(items):
            d = {}
            for x in items:
                d.setdefault(x.id, x)
            return d
        self.parties, self.tables, self.points = by_id(c.parties), by_id(c.tables), by_id(c.points)
        self.measures, self.roundings, self.goals = by_id(c.measures), by_id(c.roundings), by_id(c.goals)
        self._rows: dict = {}
        self._texts: dict = {}

    @classmethod
    def of(cls, c: m.Contract) -> "Index":
        if cls._last[0] is not c:
            cls._last = (c, cls(c))
        return cls._last[1]

    def rows(self, t: m.Table) -> dict:
        if id(t) not in self._rows:
            self._rows[id(t)] = {r.id: r for r in t.rows}
        return self._rows[id(t)]

    def text_values(self, t: m.Table, col: int) -> tuple:
        """The names that occur in a `text` column, in order."""
        key = (id(t), col)
        if key not in self._texts:
            names = (r.cells[col].name for r in t.rows if len(r.cells) > col and isinstance(r.cells[col], m.Symbol))
            self._texts[key] = tuple(dict.fromkeys(names))
        return self._texts[key]


class Run:
    """The state one check function works with: the contract, its index, its source and the findings."""

    def __init__(self, c: m.Contract):
        self.c, self.ix, self.src, self.out = c, Index.of(c), Source.of(c), []

    def err(self, code, msg, span, clause=None, hint=None):
        self.out.append(error(code, msg, span, clause, hint))

    def ref(self, kind: str, name: str, table: dict, span, clause, what: str, after: str | None = None):
        """CL010 unless `name` is declared in `table`; `what` says where the name is used."""
        if name in table:
            return True
        self.err("CL010", f"{what} names the {kind} '{name}', which is not declared; the "
                 f"{_PLURAL.get(kind, kind + 's')} are "
                 f"{listing(table)}", self.src.find(span, name, after), clause, did_you_mean(name, table))
        return False

    def amount(self, q: m.Quantity | None, what: str, span, clause):
        """CL012 unless an amount in the contract's currency; CL013 if negative."""
        if q is None:
            return
        cur = self.c.currency
        if q.canonical_unit != cur and not (m.is_currency(q.unit) and m.is_currency(cur)):
            # (an amount in another currency is reported once, for every quantity: `check_currencies`)
            self.err("CL012", f"{what} is {shown(q)}; expected an amount in {cur}", q.span or span, clause,
                     f"write it as {fmt(q.value)} {cur}" if q.unit is None else None)
        if q.value < 0:
            self.err("CL013", f"{what} is negative ({shown(q)}); an amount must be zero or more", q.span or span, clause)

    def unit(self, q: m.Quantity | None, unit: str, words: str, what: str, span, clause, low=None, high=None):
        """CL012 unless `q` is in `unit`; CL013 outside [low, high]."""
        if q is None:
            return
        if q.canonical_unit != unit:
            return self.err("CL012", f"{what} is {shown(q)}; expected {words}", q.span or span, clause,
                            f"write it as {fmt(q.value)} {unit}" if q.unit is None else None)
        if (low is not None and q.value < low) or (high is not None and q.value > high):
            bounds = f"between {fmt(low)} and {fmt(high)}" if high is not None else f"at least {fmt(low)}"
            self.err("CL013", f"{what} is {shown(q)}; it must be {bounds}", q.span or span, clause)


def _in_clause(clause: str | None) -> str:
    return f" (§ {clause})" if clause else ""


class Source:
    """The contract's text, to point a caret at one word inside a node's span."""

    _last: tuple = (None, None)

    def __init__(self, contract: m.Contract):
        self.text = contract.source or ""
        self.path = contract.path
        self._starts: list[int] | None = None
        dsl = self.text and not (self.path or "").endswith((".yaml", ".yml"))
        self.language = language_of(self.text)[0] if dsl else "en"

    @classmethod
    def of(cls, contract: m.Contract) -> "Source":
        """The (cached) source of `contract`; checks of one contract share it."""
        if cls._last[0] is not contract:
            cls._last = (contract, cls(contract))
        return cls._last[1]

    def _offset(self, line: int, column: int) -> int:
        if self._starts is None:
            self._starts = [0] + [mo.end() for mo in re.finditer("\n", self.text)]
        if line < 1 or line > len(self._starts):
            return len(self.text)
        return min(self._starts[line - 1] + column - 1, len(self.text))

    def find(self, span: m.SourceSpan | None, word: str | None = None, after: str | re.Pattern | None = None,
             pattern: str | re.Pattern | None = None) -> m.SourceSpan | None:
        """The span of `word` (a whole word) or `pattern` inside `span`, searched from the end of
        the regex `after`; `span` itself when it cannot be found (e.g. a YAML contract). The keywords a
        regex given as text names are read in the file's language (compiled ones are taken as they are)."""
        if span is None or not self.text or span.file != self.path:
            return span
        start = self._offset(span.line, span.column)
        end = self._offset(span.end_line, span.end_column) if span.end_line else len(self.text)
        if self.language != "en":  # patterns given as text name English keywords (`\\bunless\\b`)
            after, pattern = (in_language(rx, self.language) if isinstance(rx, str) else rx for rx in (after, pattern))
        if after:
            mo = re.compile(after).search(self.text, start, end)
            if mo:
                start = mo.end()
        rx = re.compile(pattern if pattern else r"(?<!\w)" + re.escape(word or "") + r"(?!\w)")
        mo = rx.search(self.text, start, end)
        if not mo or mo.end() == mo.start():
            return span
        line = bisect.bisect_right(self._starts, mo.start())
        column = mo.start() - self._starts[line - 1] + 1
        width = len(mo.group(0).split("\n")[0])
        return m.SourceSpan(span.file, line, column, line, column + width)


# ---- money: grants, instalments, caps, return cap, tranches ------------------------------

#: What a goal's cap may be kept per: a calendar year, or each subject (a maximum per participant).
CAP_PER = ("year", "subject")

def check_money(c: m.Contract) -> list[Diagnostic]:
    """Grants, instalments and caps name declared parties and goals and are amounts in the currency."""
    r = Run(c)
    ix = r.ix
    for g in c.grants:
        r.ref("party", g.party, ix.parties, g.span, g.clause, "a grant", after=r"grant")
        r.amount(g.amount, f"the grant of {g.party}", g.span, g.clause)
    d = c.disbursement
    for inst in d.instalments if d else ():
        for pa in inst.amounts:
            r.ref("party", pa.party, ix.parties, pa.span, inst.clause or d.clause, f"the instalment of {inst.date}")
            r.amount(pa.amount, f"{pa.party}'s instalment of {inst.date}", pa.span, inst.clause or d.clause)
    payers = set(c.payers())
    for cap in c.caps:
        on = f"payer '{cap.goal}'" if cap.goal in payers and cap.goal not in ix.goals else f"goal '{cap.goal}'"
        if cap.goal not in payers:
            r.ref("goal", cap.goal, ix.goals, cap.span, cap.clause, "a cap", after=r"cap")
        r.amount(cap.amount, f"the cap on {on}", cap.span, cap.clause)
        if cap.per is not None and cap.per not in CAP_PER:
            r.err("CL010", f"the cap on {on} is kept per '{cap.per}'; expected "
                  f"{listing(CAP_PER, conj='or')}", r.src.find(cap.span, cap.per, after=r"\bper\b"), cap.clause,
                  did_you_mean(cap.per, CAP_PER))
    rc = c.return_cap
    if rc is not None:
        what = f"the return cap of {rc.payer}"
        r.ref("party", rc.payer, ix.parties, rc.span, rc.clause, "the return cap", after=r"cap")
        for goal in rc.goals:
            r.ref("goal", goal, ix.goals, rc.span, rc.clause, "the return cap", after=r"\bon\b")
        for party in rc.base:
            r.ref("party", party, ix.parties, rc.span, rc.clause, "the base of the return cap", after=r"\bbase\b")
        r.amount(rc.amount, what, rc.span, rc.clause)
        i = rc.interest
        if i is not None:
            r.unit(i.rate, "%", "a percentage a year", f"the interest of {what}", i.span, rc.clause, low=0)
            if i.day_count not in (360, 365, 366):
                r.err("CL013", f"the interest of {what} counts {i.day_count} days a year; expected 360, 365 or 366",
                      i.span, rc.clause)
            try:
                month, day = (int(x) for x in i.capitalisation.split("-"))
                dt.date(2000, month, day)
            except ValueError:
                r.err("CL013", f"interest is capitalised on '{i.capitalisation}', which is not a day of the year "
                      "(expected MM-DD, e.g. 12-31)", i.span, rc.clause)
    return r.out


def check_tranches(c: m.Contract) -> list[Diagnostic]:
    """Tranches: parties declared, shares in % summing to 100, thresholds in DKK and increasing."""
    tr = c.tranches
    if tr is None:
        return []
    r, cl = Run(c), tr.clause
    ix = r.ix
    previous = None
    for n, t in enumerate(tr.tranches, 1):
        if t.number != n:
            r.err("CL013", f"tranche {t.number} is tranche number {n} in the list; tranches are numbered 1, 2, 3 …",
                  t.span, cl)
        for s in t.shares:
            r.ref("party", s.party, ix.parties, s.span, cl, f"tranche {t.number}")
            r.unit(s.percent, "%", "a percentage", f"{s.party}'s share in tranche {t.number}", s.span, cl, 0, 100)
        total = sum((s.percent.value for s in t.shares), Decimal(0))
        if t.shares and total != 100 and all(s.percent.unit == "%" for s in t.shares):
            parts = " + ".join(f"{s.party} {fmt(s.percent.value)} %" for s in t.shares)
            r.err("CL014", f"the shares of tranche {t.number} add up to {fmt(total)} % ({parts}), not 100 %",
                  t.span, cl, "every krone of repayment must go to someone: make the shares add up to 100 %")
        last = n == len(tr.tranches)
        if t.until is not None:
            r.amount(t.until, f"the threshold of tranche {t.number}", t.span, cl)
            if last:
                r.err("CL013", f"the last tranche ({t.number}) has a threshold ('until {shown(t.until)}'); "
                      "the last tranche takes everything above the previous threshold", t.until.span or t.span, cl,
                      "remove 'until …' from the last tranche, or add a tranche after it")
            elif previous is not None and t.until.value <= previous:
                r.err("CL013", f"the threshold of tranche {t.number} ({shown(t.until)}) is not above the threshold "
                      f"of the tranche before it ({fmt(previous)} {c.currency})", t.until.span or t.span, cl)
            previous = t.until.value
        elif not last:
            r.err("CL013", f"tranche {t.number} has no threshold ('until AMOUNT'), so the tranches after it can "
                  "never be reached", t.span, cl)
    r.ref("rounding", tr.rounding, ix.roundings, tr.span, cl, "the tranche split", after=r"\brounding\b")
    r.ref("party", tr.remainder, ix.parties, tr.span, cl, "the tranche split", after=r"\bremainder\b")
    return r.out


# ---- tables ---------------------------------------------------------------------------------

_UNIT_WORDS = {"%": "percentages", "count": "numbers", "text": "names",
               "percentage_points": "percentage points", "percentage_point": "percentage points"}


def _unit_words(unit: str | None) -> str:
    return f"amounts in {unit}" if m.is_currency(unit) else _UNIT_WORDS.get(unit, unit)


def _cell_problem(cell, unit: str, cur: str) -> str | None:
    if isinstance(cell, m.Empty):
        return None
    if unit == "text":
        return None if isinstance(cell, m.Symbol) else f"the figure {shown(cell)} where a name is expected"
    if isinstance(cell, m.Symbol):
        return f"the name '{cell.name}' where a figure is expected"
    canon = {"month": "months", "percentage_point": "percentage_points"}.get(unit, unit)
    if cell.canonical_unit == canon or (cell.unit is None and (canon in ("count", cur) or m.is_currency(canon))):
        return None
    return f"{shown(cell)}"


def check_tables(c: m.Contract) -> list[Diagnostic]:
    """CL016 table shape, CL012 cell units, and the table named by the relative reduction."""
    r = Run(c)
    ix = r.ix
    for t in c.tables:
        cols = {col.id: col for col in t.columns}
        rows = ix.rows(t)
        for chk in t.checks:
            for name in (chk.target, *chk.terms):
                if name not in cols:
                    r.err("CL016", f"the check of table '{t.id}' names the column '{name}', which the table does "
                          f"not have; its columns are {listing(cols)}", r.src.find(chk.span, name), t.clause,
                          did_you_mean(name, cols))
        for row in t.rows:
            clause = row.clause or t.clause
            if len(row.cells) != len(t.columns):
                r.err("CL016", f"row '{row.id}' of table '{t.id}' has {len(row.cells)} cells, but the table has "
                      f"{len(t.columns)} columns ({', '.join(cols)})", row.span, clause,
                      "write '-' for a cell the original leaves empty")
            for name in row.of or ():
                if name not in rows:
                    r.err("CL016", f"the sum '{row.id}' of table '{t.id}' adds up the row '{name}', which the table "
                          f"does not have", r.src.find(row.span, name, after=r"\bof\b"), clause,
                          did_you_mean(name, rows))
            if row.weighted_by is not None:
                col = cols.get(row.weighted_by)
                if col is None or col.unit != "count":
                    found = "which the table does not have" if col is None else f"which holds {_unit_words(col.unit)}"
                    r.err("CL016", f"the sum '{row.id}' of table '{t.id}' is weighted by the column "
                          f"'{row.weighted_by}', {found}; expected a count column",
                          r.src.find(row.span, row.weighted_by, after=r"\bby\b"), clause,
                          did_you_mean(row.weighted_by, cols) if col is None else None)
            for col, cell in zip(t.columns, row.cells):
                problem = _cell_problem(cell, col.unit, c.currency)
                if problem:
                    r.err("CL012", f"table '{t.id}', row '{row.id}', column '{col.id}' holds {problem}; the column "
                          f"{col.label or col.id!r} holds {_unit_words(col.unit)}",
                          getattr(cell, "span", None) or row.span, clause,
                          f"write {fmt(cell.value)} {col.unit}" if isinstance(cell, m.Quantity)
                          and cell.unit is None and col.unit != "text" else None)
    red = c.reduction
    if red is not None:
        what = "the relative reduction"
        if r.ref("table", red.table, ix.tables, red.span, red.clause, what, after=r"\bby\b"):
            t = ix.tables[red.table]
            r.ref("row", red.row, ix.rows(t), red.span, red.clause, what, after=re_word(red.table))
            r.ref("column", red.column, {col.id: col for col in t.columns}, red.span, red.clause, what,
                  after=re_word(red.row))
    return r.out


def re_word(word: str) -> str:
    """A regex for `word` as a whole word."""
    return r"(?<!\w)" + word + r"(?!\w)"


FIGURE_CHECKS = (check_money, check_tranches, check_tables)
