"""The figures a contract states against figures derived from the contract itself.

`CONSISTENCY_CHECKS` compare the disbursement schedule with the grants (CL020), a table's
stated sums with its rows (CL021) and the tranche shares with the grant shares (CL022),
as warnings, and list what is only assumed: the return cap against its interest formula
(CL023) and every `assumed` figure (CL024), as notes. They never change a figure; they tell
the reader where the original's own numbers disagree. `check` runs them after the
figure checks of `check_consistency`.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext

import attrs

from . import model as m
from .check_consistency import HUNDRED, Source, _in_clause, fmt, listing
from .errors import Diagnostic, note, warning


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
            hint="correct the instalments or the grant so that they agree, or record which one is binding",
            subject=party))
    for party, amounts in paid.items():
        if party not in granted:
            got = sum((a.amount.value for a in amounts), Decimal(0))
            out.append(warning("CL020", f"the disbursement schedule{_in_clause(d.clause)} pays {party} "
                               f"{fmt(got)} {cur}, but the contract grants {party} nothing",
                               amounts[0].span, d.clause, subject=party))
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
                f"(difference {fmt(abs(total - got))}{u})", r.cells[ti].span or r.span, r.clause or t.clause,
                subject=t.id))
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
                f"(difference {fmt(abs(stated - got))}{u}{blank})", r.cells[i].span or r.span, r.clause or t.clause,
                subject=t.id))
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
        f"to {places} decimal{'s' if places != 1 else ''}", r.cells[i].span or r.span, r.clause or t.clause,
        subject=t.id)]


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


_DESCRIBE = {m.Grant: lambda n: f"the grant of {n.party}",
             m.ReturnCap: lambda n: f"the return cap of {n.payer}", m.Tranche: lambda n: f"tranche {n.number}",
             m.Instalment: lambda n: f"the instalment of {n.date}", m.Rate: lambda n: "the rate",
             m.Programme: lambda n: "the programme", m.PartyAmount: lambda n: n.party,
             m.Interest: lambda n: "the interest"}


def _label(node, c: m.Contract) -> str | None:
    t = type(node)
    if t is m.Cap:  # a cap names a goal, or a payer (a cap on all of its goals)
        per = f" per {node.per}" if node.per else ""
        return f"the cap on {'payer' if c.party(node.goal) is not None else 'goal'} '{node.goal}'{per}"
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
        label = _label(node, c)
        where = where + (label,) if label else where
        clause = getattr(node, "clause", None) or clause
        for name in names:
            walk(getattr(node, name), where, clause)

    walk(c, (), c.clause)
    return out


CONSISTENCY_CHECKS = (check_schedule, check_table_sums, check_tranche_shares, check_return_cap, check_assumptions)
