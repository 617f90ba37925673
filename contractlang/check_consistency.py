"""The checks of a contract's figures, and the helpers every check shares.

`FIGURE_CHECKS` hold amounts, shares, thresholds and table cells to their units
and ranges and tables to their shape (CL012–CL016). `CONSISTENCY_CHECKS`
compare the figures the contract states with figures derived from the contract
itself (warnings CL020–CL022) and list what is only assumed (notes CL023–CL024);
they never change a figure, they tell the reader where the original's own
numbers disagree. `check` runs both.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

import attrs

from . import model as m
from .errors import Diagnostic, error, note, warning

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
        if q.canonical_unit not in ("DKK", cur):
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

    def find(self, span: m.SourceSpan | None, word: str | None = None, after: str | None = None,
             pattern: str | None = None) -> m.SourceSpan | None:
        """The span of `word` (a whole word) or `pattern` inside `span`, searched from the end of
        the regex `after`; `span` itself when it cannot be found (e.g. a YAML contract)."""
        if span is None or not self.text or span.file != self.path:
            return span
        start = self._offset(span.line, span.column)
        end = self._offset(span.end_line, span.end_column) if span.end_line else len(self.text)
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
    payers = {g.payer: g for g in c.goals if g.payer}
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

_UNIT_WORDS = {"DKK": "amounts in DKK", "%": "percentages", "count": "numbers", "text": "names",
               "percentage_points": "percentage points", "percentage_point": "percentage points"}


def _cell_problem(cell, unit: str, cur: str) -> str | None:
    if isinstance(cell, m.Empty):
        return None
    if unit == "text":
        return None if isinstance(cell, m.Symbol) else f"the figure {shown(cell)} where a name is expected"
    if isinstance(cell, m.Symbol):
        return f"the name '{cell.name}' where a figure is expected"
    canon = {"month": "months", "percentage_point": "percentage_points"}.get(unit, unit)
    if cell.canonical_unit == canon or (cell.unit is None and canon in ("count", "DKK", cur)):
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
                    found = "which the table does not have" if col is None else f"which holds {_UNIT_WORDS.get(col.unit, col.unit)}"
                    r.err("CL016", f"the sum '{row.id}' of table '{t.id}' is weighted by the column "
                          f"'{row.weighted_by}', {found}; expected a count column",
                          r.src.find(row.span, row.weighted_by, after=r"\bby\b"), clause,
                          did_you_mean(row.weighted_by, cols) if col is None else None)
            for col, cell in zip(t.columns, row.cells):
                problem = _cell_problem(cell, col.unit, c.currency)
                if problem:
                    r.err("CL012", f"table '{t.id}', row '{row.id}', column '{col.id}' holds {problem}; the column "
                          f"{col.label or col.id!r} holds {_UNIT_WORDS.get(col.unit, col.unit)}",
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


# ---- CL020: the disbursement schedule against the grants --------------------------

def check_schedule(c: m.Contract) -> list[Diagnostic]:
    """Per party, the instalments of the disbursement schedule add up to the party's grant."""
    d = c.disbursement
    if d is None or not c.grants:
        return []
    granted: dict[str, Decimal] = {}
    grant_of: dict[str, m.Grant] = {}
    for g in c.grants:
        granted[g.party] = granted.get(g.party, Decimal(0)) + g.amount.value
        grant_of.setdefault(g.party, g)
    paid: dict[str, list[m.PartyAmount]] = {}
    for inst in d.instalments:
        for pa in inst.amounts:
            paid.setdefault(pa.party, []).append(pa)
    cur, out = c.currency, []
    for party, total in granted.items():
        amounts = paid.get(party, [])
        got = sum((a.amount.value for a in amounts), Decimal(0))
        if got == total:
            continue
        values = [a.amount.value for a in amounts]
        if not values:
            how = "nothing"
        elif len(values) > 1 and len(set(values)) == 1:
            how = f"{len(values)} × {fmt(values[0])} = {fmt(got)} {cur}"
        elif len(values) > 1:
            how = " + ".join(fmt(v) for v in values) + f" = {fmt(got)} {cur}"
        else:
            how = f"{fmt(got)} {cur}"
        diff = got - total
        more = f"{fmt(abs(diff))} {cur} {'more' if diff > 0 else 'less'} than the grant"
        out.append(warning(
            "CL020", f"the disbursement schedule{_in_clause(d.clause)} pays {party} {how}, but {party}'s grant"
            f"{_in_clause(grant_of[party].clause)} is {fmt(total)} {cur}: the instalments come to {more}",
            amounts[0].span if amounts else d.span, d.clause,
            hint="correct the instalments or the grant so that they agree, or record which one is binding"))
    for party, amounts in paid.items():
        if party not in granted:
            got = sum((a.amount.value for a in amounts), Decimal(0))
            out.append(warning("CL020", f"the disbursement schedule{_in_clause(d.clause)} pays {party} "
                               f"{fmt(got)} {cur}, but the contract grants {party} nothing",
                               amounts[0].span, d.clause))
    return out


# ---- CL021: table sums ---------------------------------------------------------------

def _num(cell) -> Decimal | None:
    return cell.value if isinstance(cell, m.Quantity) else None


def _unit(col: m.Column, cur: str) -> str:
    return "" if col.unit in ("count", "text") else (" %" if col.unit == "%" else f" {col.unit}")


def _name(row: m.Row) -> str:
    return f'"{row.label}" ({row.id})' if row.label else f"row '{row.id}'"


def _col_name(col: m.Column) -> str:
    return f'"{col.label}"' if col.label else f"'{col.id}'"


def _places(d: Decimal) -> int:
    exp = d.as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def check_table_sums(c: m.Contract) -> list[Diagnostic]:
    """`check total = a + b` holds in every stated row; every `sum` row equals the sum of its rows."""
    out: list[Diagnostic] = []
    for t in c.tables:
        width = len(t.columns)
        col_ix = {col.id: i for i, col in enumerate(t.columns)}
        rows = t.rows
        if any(len(r.cells) != width for r in rows) or len(col_ix) != width:
            continue  # the table's shape is wrong (CL016, CL011): its sums mean nothing yet
        for chk in t.checks:
            if chk.target not in col_ix or any(term not in col_ix for term in chk.terms):
                continue  # a table-shape error (CL016) already says so
            out += _row_checks(c, t, chk, rows, col_ix)
        out += _sum_rows(c, t, rows)
    return out


def _row_checks(c, t: m.Table, chk: m.TableCheck, rows, col_ix) -> list[Diagnostic]:
    out = []
    ti = col_ix[chk.target]
    target_col = t.columns[ti]
    for r in rows:
        if r.kind != "row":  # sum rows are checked column by column against their items
            continue
        total = _num(r.cells[ti])
        stated = [(term, _num(r.cells[col_ix[term]])) for term in chk.terms]
        stated = [(term, v) for term, v in stated if v is not None]
        if total is None or not stated:
            continue
        got = sum((v for _, v in stated), Decimal(0))
        if got != total:
            u = _unit(target_col, c.currency)
            parts = " + ".join(fmt(v) for _, v in stated)
            cols = " + ".join(_col_name(t.columns[col_ix[term]]) for term, _ in stated)
            out.append(warning(
                "CL021", f"table '{t.id}'{_in_clause(r.clause or t.clause)}, row {_name(r)}: the row states "
                f"{_col_name(target_col)} {fmt(total)}{u}, but {cols} = {parts} = {fmt(got)}{u} "
                f"(difference {fmt(abs(total - got))}{u})", r.cells[ti].span or r.span, r.clause or t.clause))
    return out


def _sum_rows(c, t: m.Table, rows) -> list[Diagnostic]:
    out = []
    by_id = {r.id: r for r in rows}
    width = len(t.columns)
    running = [Decimal(0)] * width     # sums over all preceding `row` rows (the default `of`)
    counted = [0] * width
    preceding: list[m.Row] = []
    for r in rows:
        if r.kind == "row":
            for i, cell in enumerate(r.cells):
                v = _num(cell)
                if v is not None:
                    running[i] += v
                    counted[i] += 1
            preceding.append(r)
            continue
        if r.of is not None and any(i not in by_id for i in r.of):
            continue  # names a row the table does not have (CL016)
        items = [by_id[i] for i in r.of] if r.of is not None else None
        weight_ix = next((j for j, cc in enumerate(t.columns) if cc.id == r.weighted_by and cc.unit == "count"), None)
        if r.weighted_by is not None and weight_ix is None:
            continue  # weighted by a column that is not a count (CL016)
        for i, col in enumerate(t.columns):
            stated = _num(r.cells[i])
            if stated is None or col.unit == "text":
                continue
            if col.unit == "%" and weight_ix is not None:
                out += _weighted(c, t, r, i, weight_ix, items if items is not None else preceding, stated)
                continue
            named = items if items is not None else preceding if len(preceding) <= 8 else None
            if named is None:  # many rows above: use the running sums, never add them up again
                got, n, terms = running[i], counted[i], None
            else:
                terms = [v for v in (_num(x.cells[i]) for x in named) if v is not None]
                got, n = sum(terms, Decimal(0)), len(terms)
            if n == 0 or got == stated:
                continue
            u = _unit(col, c.currency)
            which = f"the rows {listing([x.id for x in named])}" if named is not None else "the rows above it"
            detail = f"{' + '.join(fmt(v) for v in terms)} = " if terms and 1 < len(terms) <= 8 else ""
            blank = [x.id for x in named or () if _num(x.cells[i]) is None]
            blank = f"; {listing(blank)} state{'s' if len(blank) == 1 else ''} no figure here" if blank else ""
            out.append(warning(
                "CL021", f"table '{t.id}'{_in_clause(r.clause or t.clause)}, {_name(r)}, column {_col_name(col)}: "
                f"the table states {fmt(stated)}{u}, but {which} add up to {detail}{fmt(got)}{u} "
                f"(difference {fmt(abs(stated - got))}{u}{blank})", r.cells[i].span or r.span, r.clause or t.clause))
    return out


def _weighted(c, t, r, i, w, items, stated) -> list[Diagnostic]:
    pairs = [(_num(x.cells[i]), _num(x.cells[w])) for x in items]
    pairs = [(v, wt) for v, wt in pairs if v is not None and wt is not None]
    weight = sum((wt for _, wt in pairs), Decimal(0))
    if not pairs or weight == 0:
        return []
    with localcontext() as ctx:
        ctx.prec = 28
        mean = sum((v * wt for v, wt in pairs), Decimal(0)) / weight
    places = _places(stated)
    shown_mean = mean.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if shown_mean == stated:
        return []
    col = t.columns[i]
    return [warning(
        "CL021", f"table '{t.id}'{_in_clause(r.clause or t.clause)}, {_name(r)}, column {_col_name(col)}: the "
        f"table states {fmt(stated)} %, but the mean of the rows weighted by '{t.columns[w].id}' is "
        f"{fmt(mean.quantize(Decimal('0.001'), rounding=ROUND_HALF_UP))} %, which is {fmt(shown_mean)} % "
        f"to {places} decimal{'s' if places != 1 else ''}", r.cells[i].span or r.span, r.clause or t.clause)]


# ---- CL022: tranche shares against grant shares --------------------------------------

def check_tranche_shares(c: m.Contract) -> list[Diagnostic]:
    """Tranche 1's shares against each funder's share of the grants: who recovers more than it granted."""
    tr = c.tranches
    if tr is None or not tr.tranches or not c.grants:
        return []
    first = tr.tranches[0]
    granted: dict[str, Decimal] = {}
    for g in c.grants:
        granted[g.party] = granted.get(g.party, Decimal(0)) + g.amount.value
    parties = [s.party for s in first.shares]
    if len(parties) < 2 or any(p not in granted for p in parties) or len(set(parties)) != len(parties):
        return []
    base = sum((granted[p] for p in parties), Decimal(0))
    if base <= 0:
        return []
    cur = c.currency
    with localcontext() as ctx:
        ctx.prec = 28
        grant_pct = {p: granted[p] / base * HUNDRED for p in parties}
        if first.until is not None:
            recovered = {s.party: (s.percent.value / HUNDRED * first.until.value) for s in first.shares}
            differs = any(recovered[p] != granted[p] for p in parties)
        else:
            differs = any(s.percent.value != grant_pct[s.party] for s in first.shares)
    if not differs:
        return []
    two = Decimal("0.01")
    stated = " / ".join(f"{s.party} {fmt(s.percent.value)} %" for s in first.shares)
    grants = " and ".join(f"{p} {fmt(granted[p])} {cur} ({fmt(grant_pct[p].quantize(two, ROUND_HALF_UP))} %)"
                          for p in parties)
    msg = f"tranche {first.number}{_in_clause(tr.clause)} splits repayments {stated}, but the grants are {grants}"
    if first.until is not None:
        parts = []
        for p in parties:
            got, diff = recovered[p], recovered[p] - granted[p]
            rel = "exactly its grant" if diff == 0 else \
                f"{fmt(abs(diff))} {cur} {'more' if diff > 0 else 'less'} than its grant"
            parts.append(f"{p} recovers {fmt(got)} {cur}, {rel}")
        msg += f": over the {fmt(first.until.value)} {cur} of tranche {first.number} " + ", and ".join(parts)
    return [warning("CL022", msg, first.span or tr.span, tr.clause,
                    hint="if the rounded shares are intended, record it as a decision; otherwise state the exact shares")]


# ---- CL023: the return cap against its interest formula ------------------------------

def _whole_years(start: dt.date, end: dt.date) -> int:
    after = end + dt.timedelta(days=1)
    months = (after.year - start.year) * 12 + after.month - start.month - (1 if after.day < start.day else 0)
    return max(months, 0) // 12


def check_return_cap(c: m.Contract) -> list[Diagnostic]:
    """How many years of interest the stated return cap implies, and what the formula gives."""
    rc = c.return_cap
    if rc is None or rc.interest is None or not c.grants:
        return []
    base_parties = rc.base or tuple(dict.fromkeys(g.party for g in c.grants))
    grants = [g for g in c.grants if g.party in base_parties]
    if not grants:
        return []
    base = sum((g.amount.value for g in grants), Decimal(0))
    rate, cap, cur = rc.interest.rate.value, rc.amount.value, c.currency
    if base <= 0 or cap <= 0 or rate <= 0:
        return []
    with localcontext() as ctx:
        ctx.prec = 34
        factor = 1 + rate / HUNDRED
        years = (cap / base).ln() / factor.ln()
        msg = (f"the return cap of {fmt(cap)} {cur} on {rc.payer}{_in_clause(rc.clause)} equals the base of "
               f"{fmt(base)} {cur} (the grants of {listing(dict.fromkeys(g.party for g in grants))}) with "
               f"{fmt(rate)} % interest a year for {years.quantize(Decimal('0.01'), ROUND_HALF_UP)} years")
        p = c.programme
        if p is not None and p.intervention_end > p.intervention_start:
            n = _whole_years(p.intervention_start, p.intervention_end)
            amount = (base * factor ** n).quantize(Decimal("0.01"), ROUND_HALF_UP)
            msg += (f"; the {n} whole years of the intervention period ({p.intervention_start} to "
                    f"{p.intervention_end}) would give {fmt(base)} × {fmt(factor)}^{n} = {fmt(amount)} {cur}")
    msg += f". The stated amount of {fmt(cap)} {cur} is binding" + _in_clause(rc.clause)
    return [note("CL023", msg, rc.span, rc.clause)]


# ---- CL024: assumptions --------------------------------------------------------------

_LABELS = {m.Party: "party", m.Table: "table", m.Goal: "goal", m.Measure: "measure", m.Point: "point",
           m.Flag: "flag", m.Metric: "metric", m.Figure: "figure", m.Rounding: "rounding", m.Row: "row"}


_DESCRIBE = {m.Grant: lambda n: f"the grant of {n.party}", m.Cap: lambda n: f"the cap on goal '{n.goal}'",
             m.ReturnCap: lambda n: f"the return cap of {n.payer}", m.Tranche: lambda n: f"tranche {n.number}",
             m.Instalment: lambda n: f"the instalment of {n.date}", m.Rate: lambda n: "the rate",
             m.Programme: lambda n: "the programme", m.PartyAmount: lambda n: n.party,
             m.Interest: lambda n: "the interest"}


def _label(node) -> str | None:
    t = type(node)
    if t in _LABELS:
        return f"{_LABELS[t]} '{node.id}'"
    describe = _DESCRIBE.get(t)
    return describe(node) if describe else None


_FIELD_CACHE: dict = {}


def _fields(t: type) -> tuple | None:
    """The fields of a model class that may hold nodes; None for anything that is not a node."""
    if t not in _FIELD_CACHE:
        _FIELD_CACHE[t] = tuple(a.name for a in attrs.fields(t) if a.name not in ("span", "source", "path")) \
            if attrs.has(t) else None
    return _FIELD_CACHE[t]


def check_assumptions(c: m.Contract) -> list[Diagnostic]:
    """One note per figure the seed does not give (marked `assumed`), so readers see them."""
    out: list[Diagnostic] = []
    seen: set = set()
    p = c.programme
    if p is not None and p.intervention_assumption is not None:
        span = Source.of(c).find(p.span, pattern=r"intervention\s+\S+\s+to\s+\S+")
        out.append(note("CL024", f"assumption: the intervention runs {p.intervention_start} to {p.intervention_end} — "
                        f"{p.intervention_assumption}", span, p.intervention_clause))
    if p is not None and p.data_collection_assumption is not None and p.data_collection_end is not None:
        span = Source.of(c).find(p.span, pattern=r"data\s+collection\s+ends\s+\S+")
        out.append(note("CL024", f"assumption: data collection ends {p.data_collection_end} — "
                        f"{p.data_collection_assumption}", span, p.data_collection_clause))

    def walk(node, where: tuple, clause):
        if type(node) is tuple:
            for x in node:
                walk(x, where, clause)
            return
        if type(node) is m.Quantity:
            key = (node.span, node.value, node.unit, node.assumption)
            if node.assumption is not None and key not in seen:
                seen.add(key)
                text = node.assumption if node.assumption != "assumed" else "the original does not give this figure"
                place = f" ({', '.join(where)})" if where else ""
                out.append(note("CL024", f"assumption: {fmt(node.value)}{' ' + node.unit if node.unit else ''}"
                                f"{place} — {text}", node.span, clause))
            return
        names = _fields(type(node))
        if names is None:
            return
        label = _label(node)
        where = where + (label,) if label else where
        clause = getattr(node, "clause", None) or clause
        for name in names:
            walk(getattr(node, name), where, clause)

    walk(c, (), c.clause)
    return out


FIGURE_CHECKS = (check_money, check_tranches, check_tables)
CONSISTENCY_CHECKS = (check_schedule, check_table_sums, check_tranche_shares, check_return_cap, check_assumptions)
