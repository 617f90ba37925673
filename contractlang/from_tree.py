"""The parse tree → the model: one method per grammar rule (`_Builder`), each building frozen
model nodes with their spans. Meaning is not checked here (that is `check`); a value the
model cannot hold (a date that does not exist, a number beyond the limits) is a located
diagnostic.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from lark import Token, Tree
from lark.exceptions import VisitError

from . import model as m
from .errors import ParseError, error


def _span(path: str, line: int, column: int, width: int = 1) -> m.SourceSpan:
    return m.SourceSpan(path, line, column, line, column + width)


# ---- tree → model ------------------------------------------------------------------

def _dec(tok: Token | str) -> Decimal:
    try:
        return Decimal(str(tok).replace("_", ""))
    except InvalidOperation:  # pragma: no cover - the grammar only admits digits
        raise ValueError(tok) from None


def _date(tok: Token, path: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(tok))
    except ValueError:
        raise ParseError([error("CL013", f"'{tok}' is not a calendar date", _span(path, tok.line, tok.column, len(tok)))])


def _unquote(tok: Token) -> str:
    s = str(tok)[1:-1]
    return s.replace('\\"', '"').replace("\\\\", "\\")


class _Builder:
    """Builds model objects; every method receives (meta, children)."""

    def __init__(self, path: str):
        self.path = path

    def transform(self, tree):
        """Build bottom-up, calling `rule(meta, children)` directly.

        Same result as Lark's `Transformer.transform`, without its per-node
        wrapper machinery (a third of the time of checking a contract).
        Errors are wrapped in `VisitError` as Lark would.
        """
        try:
            return self._build(tree)
        except VisitError:
            raise
        except Exception as exc:
            raise VisitError(getattr(tree, "data", "?"), tree, exc) from exc

    def _build(self, tree):
        build = self._build
        children = [build(c) if type(c) is Tree else c for c in tree.children]
        return getattr(self, tree.data)(tree.meta, children)

    def _sp(self, meta) -> m.SourceSpan | None:
        if getattr(meta, "empty", True):
            return None
        return m.SourceSpan(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_sp(self, tok: Token) -> m.SourceSpan:
        return m.SourceSpan(self.path, tok.line, tok.column, tok.end_line, tok.end_column)

    @staticmethod
    def _split(children):
        """Separate optional STRING title, clause and the rest."""
        title = clause = None
        rest = []
        for c in children:
            if isinstance(c, Token) and c.type == "STRING" and title is None:
                title = _unquote(c)
            elif type(c) is _Clause:
                clause = c.text
            else:
                rest.append(c)
        return title, clause, rest

    # -- small pieces
    def clause(self, meta, ch):
        return _Clause(_unquote(ch[0]))

    def decision(self, meta, ch):
        return _Decision(_unquote(ch[0]))

    def acknowledge(self, meta, ch):
        code, *rest = ch
        clause = rest.pop().text if rest and isinstance(rest[-1], _Clause) else None
        reason = _unquote(rest.pop())
        return m.Acknowledgement(code=str(code), subject=str(rest[0]) if rest else None, reason=reason,
                                 clause=clause, span=self._sp(meta))

    def assumption(self, meta, ch):
        return _Assumption(_unquote(ch[0]) if ch else "")

    def quantity(self, meta, ch):
        unit = assumption = None
        for c in ch[1:]:
            if isinstance(c, _Assumption):
                assumption = c.text or "assumed"
            else:
                unit = str(c)
        return m.Quantity(value=_dec(ch[0]), unit=unit, assumption=assumption, span=self._sp(meta))

    def signed_number(self, meta, ch):
        return _dec(ch[0])

    def negative_number(self, meta, ch):
        return -_dec(ch[0])

    def empty_cell(self, meta, ch):
        return m.Empty(span=self._sp(meta))

    def symbol(self, meta, ch):
        return m.Symbol(name=str(ch[0]), span=self._sp(meta))

    # -- declarations
    def contract_header(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        return ("header", str(ch[0]), title, clause, self._sp(meta))

    def currency(self, meta, ch):
        return ("currency", str(ch[0]))

    def amends(self, meta, ch):
        _, clause, rest = self._split(ch[1:])
        return m.Amendment(file=_unquote(ch[0]), effective=_date(rest[0], self.path), clause=clause,
                           span=self._sp(meta))

    def party(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        return m.Party(id=str(ch[0]), name=title, role=str(rest[0]), clause=clause, span=self._sp(meta))

    def grant(self, meta, ch):
        _, clause, rest = self._split(ch)
        return m.Grant(party=str(rest[0]), amount=rest[1], clause=clause, span=self._sp(meta))

    def party_amount(self, meta, ch):
        return m.PartyAmount(party=str(ch[0]), amount=ch[1], span=self._sp(meta))

    def instalment(self, meta, ch):
        title, clause, rest = self._split(ch)
        return m.Instalment(label=title, date=_date(rest[0], self.path), amounts=tuple(rest[1:]),
                            clause=clause, span=self._sp(meta))

    def disbursement(self, meta, ch):
        _, clause, rest = self._split(ch)
        return m.Disbursement(instalments=tuple(rest), clause=clause, span=self._sp(meta))

    def column(self, meta, ch):
        title, _, rest = self._split(ch[1:])
        return m.Column(id=str(ch[0]), label=title, unit=str(rest[0]), span=self._sp(meta))

    def columns(self, meta, ch):
        return ("columns", tuple(ch))

    def table_check(self, meta, ch):
        return m.TableCheck(target=str(ch[0]), terms=tuple(str(c) for c in ch[1:]), span=self._sp(meta))

    def sum_of(self, meta, ch):
        return ("of", tuple(str(c) for c in ch))

    def weighted(self, meta, ch):
        return ("weighted", str(ch[0]))

    def _row(self, meta, ch, kind):
        title, clause, rest = self._split(ch[1:])
        of = weighted = None
        cells = []
        for c in rest:
            if isinstance(c, tuple) and c[0] == "of":
                of = c[1]
            elif isinstance(c, tuple) and c[0] == "weighted":
                weighted = c[1]
            else:
                cells.append(c)
        return m.Row(id=str(ch[0]), label=title, kind=kind, of=of, weighted_by=weighted, cells=tuple(cells),
                     clause=clause, span=self._sp(meta))

    def row(self, meta, ch):
        return self._row(meta, ch, "row")

    def sum_row(self, meta, ch):
        return self._row(meta, ch, "sum")

    def table(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        columns = next(c[1] for c in rest if isinstance(c, tuple))
        checks = tuple(c for c in rest if isinstance(c, m.TableCheck))
        rows = tuple(c for c in rest if isinstance(c, m.Row))
        return m.Table(id=str(ch[0]), title=title, columns=columns, checks=checks, rows=rows,
                       clause=clause, span=self._sp(meta))

    def intervention(self, meta, ch):
        _, clause, rest = self._split(ch)
        assumed = next((c.text or "assumed" for c in rest[2:] if isinstance(c, _Assumption)), None)
        return ("intervention", _date(rest[0], self.path), _date(rest[1], self.path), clause, assumed)

    def data_collection(self, meta, ch):
        assumption = next((c.text or "assumed" for c in ch if isinstance(c, _Assumption)), None)
        _, clause, rest = self._split([c for c in ch if not isinstance(c, _Assumption)])
        return ("data_collection", _date(rest[0], self.path), assumption, clause)

    def minimum_stay(self, meta, ch):
        _, clause, rest = self._split(ch)
        return ("minimum_stay", rest[0], clause)

    def replacement(self, meta, ch):
        _, clause, rest = self._split(ch)
        return ("replacement", rest[0], tuple(str(c) for c in rest[1:]), clause)

    def programme(self, meta, ch):
        _, clause, rest = self._split(ch)
        kw: dict = {"clause": clause, "span": self._sp(meta)}
        decisions = []
        for item in rest:
            if isinstance(item, _Decision):
                decisions.append(item.text)
            elif item[0] == "intervention":
                kw.update(intervention_start=item[1], intervention_end=item[2], intervention_clause=item[3],
                          intervention_assumption=item[4])
            elif item[0] == "data_collection":
                kw.update(data_collection_end=item[1], data_collection_assumption=item[2], data_collection_clause=item[3])
            elif item[0] == "minimum_stay":
                kw.update(minimum_stay=item[1], minimum_stay_clause=item[2])
            elif item[0] == "replacement":
                kw.update(replacement_within=item[1], replacement_unless=item[2], replacement_clause=item[3])
        if "intervention_start" not in kw:
            raise ParseError([error("CL016", "the programme has no 'intervention FROM to TO' period", self._sp(meta))])
        return m.Programme(decisions=tuple(decisions), **kw)

    def table_ref(self, meta, ch):
        return tuple(str(c) for c in ch)

    def reduction(self, meta, ch):
        _, clause, rest = self._split(ch)
        t, r, c = rest[0]
        return m.Reduction(table=t, row=r, column=c, clause=clause, span=self._sp(meta))

    def offset(self, meta, ch):
        return ch[0]

    def point(self, meta, ch):
        _, clause, rest = self._split(ch[1:])
        offset = rest[1] if len(rest) > 1 else None
        return m.Point(id=str(ch[0]), anchor=str(rest[0]), offset=offset, clause=clause, span=self._sp(meta))

    def boolean_type(self, meta, ch):
        return ("boolean", None)

    def integer_type(self, meta, ch):
        return ("integer", ch[0] if ch else None)

    def decimal_type(self, meta, ch):
        return ("decimal", ch[0] if ch else None)

    def range(self, meta, ch):
        return (ch[0], ch[1])

    def values(self, meta, ch):
        return ("enum", tuple(str(c) for c in ch))

    def point_list(self, meta, ch):
        return ("points", tuple(str(c) for c in ch))

    def measure(self, meta, ch):
        _, clause, rest = self._split(ch[2:])
        kw: dict = {}
        for item in rest:
            if item[0] == "points":
                kw["points"] = item[1]
            elif item[0] == "enum":
                kw.update(kind="enum", values=item[1])
            else:
                kw["kind"] = item[0]
                if item[1]:
                    kw.update(low=item[1][0], high=item[1][1])
        if "kind" not in kw or "points" not in kw:
            raise ParseError([error("CL016", f"measure {ch[0]} has no type and points: write e.g. "
                                    f"'measure {ch[0]} {ch[1]} boolean at m12' or a '{{ values … at … }}' block",
                                    self._sp(meta))])
        return m.Measure(id=str(ch[0]), level=str(ch[1]), clause=clause, span=self._sp(meta), **kw)

    def date_type(self, meta, ch):
        return ("date", None)

    def attribute(self, meta, ch):
        _, clause, rest = self._split(ch[2:])
        kind = rest[0]
        kw = {"kind": "enum", "values": kind[1]} if kind[0] == "enum" else {"kind": kind[0]}
        if kind[0] != "enum" and kind[1]:
            kw.update(low=kind[1][0], high=kind[1][1])
        return m.Attribute(id=str(ch[0]), level=str(ch[1]), clause=clause, span=self._sp(meta), **kw)

    def rounding(self, meta, ch):
        _, clause, rest = self._split(ch)
        return m.Rounding(id=str(rest[0]), places=int(rest[1]), mode=str(rest[2]), clause=clause, span=self._sp(meta))

    # -- goals
    def payer(self, meta, ch):
        if isinstance(ch[0], m.Share):
            return ("shares", tuple(ch))
        return ("payer", str(ch[0]))

    def subjects(self, meta, ch):
        return ("subjects", str(ch[0]), ch[1] if len(ch) > 1 else None)

    def from_cohort(self, meta, ch):
        return "from_cohort"

    def goal_points(self, meta, ch):
        return ("points", tuple(str(c) for c in ch if c != "from_cohort"), "from_cohort" in ch)

    def compare(self, meta, ch):
        weight = next((c[1] for c in ch[3:] if isinstance(c, tuple)), None)
        pooled = any(isinstance(c, Token) and c.type == "POOLED" for c in ch[3:])
        return m.Comparison(measure=str(ch[0]), treated=str(ch[1]), control=str(ch[2]), pooled=pooled, weight=weight,
                            span=self._sp(meta))

    def if_(self, meta, ch):
        return m.If(cond=ch[0], then=ch[1], else_=ch[2], span=self._sp(meta))

    def let(self, meta, ch):
        return m.Let(name=str(ch[0]), expr=ch[1], span=self._sp(meta))

    def outcome(self, meta, ch):
        return ("outcome", ch[0])

    def conditions(self, meta, ch):
        return ("conditions", str(ch[0]))

    def rate(self, meta, ch):
        return m.Rate(amount=ch[0], per=str(ch[1]), span=self._sp(meta))

    def missing(self, meta, ch):
        _, clause, rest = self._split(ch)
        return m.Missing(method=" ".join(str(rest[0]).split()), exempt=str(rest[1]) if len(rest) > 1 else None,
                         clause=clause, span=self._sp(meta))

    def tier(self, meta, ch):
        return m.Tier(beyond=ch[0], amount=ch[1], span=self._sp(meta))

    def tiers(self, meta, ch):
        _, clause, rest = self._split(ch)
        return m.Tiers(tiers=tuple(rest), clause=clause, span=self._sp(meta))

    def link(self, meta, ch):
        _, clause, rest = self._split(ch[1:])
        return m.Link(kind=str(ch[0]), goals=tuple(str(x) for x in rest), clause=clause, span=self._sp(meta))

    def dated(self, meta, ch):
        return ("dated", True)

    def once(self, meta, ch):
        _, clause, _ = self._split(ch)
        return m.Link(kind="once", clause=clause, span=self._sp(meta))

    def goal(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        kw: dict = {}
        lets, decisions, links = [], [], []
        for item in rest:
            if isinstance(item, m.Let):
                lets.append(item)
            elif isinstance(item, m.Link):
                links.append(item)
            elif isinstance(item, m.Tiers):
                kw["tiers"] = item
            elif isinstance(item, m.Comparison):
                kw["comparison"] = item
            elif isinstance(item, m.Rate):
                kw["rate"] = item
            elif isinstance(item, m.Missing):
                kw["missing"] = item
            elif isinstance(item, _Decision):
                decisions.append(item.text)
            elif item[0] == "payer":
                kw["payer"] = item[1]
            elif item[0] == "shares":
                kw.update(payer=item[1][0].party, shares=item[1])
            elif item[0] == "subjects":
                kw.update(level=item[1], where=item[2])
            elif item[0] == "points":
                kw.update(points=item[1], from_cohort=item[2])
            elif item[0] == "outcome":
                kw["outcome"] = item[1]
            elif item[0] == "conditions":
                kw["conditions"] = item[1]
            elif item[0] == "dated":
                kw["dated_by_evidence"] = True
        return m.Goal(id=str(ch[0]), title=title, clause=clause, lets=tuple(lets), decisions=tuple(decisions),
                      links=tuple(links), span=self._sp(meta), **kw)

    # -- caps, tranches, settlement, flags
    def per_period(self, meta, ch):
        return ("per", str(ch[0]))

    def cap(self, meta, ch):
        _, clause, rest = self._split(ch[1:])
        per = next((c[1] for c in rest if isinstance(c, tuple)), None)
        return m.Cap(goal=str(ch[0]), amount=rest[0], per=per, clause=clause, span=self._sp(meta))

    def interest(self, meta, ch):
        return m.Interest(rate=ch[0], day_count=int(ch[1]), capitalisation=str(ch[2]), span=self._sp(meta))

    def cap_base(self, meta, ch):
        return ("base", tuple(str(c) for c in ch))

    def return_cap_body(self, meta, ch):
        return ("body", ch)

    def return_cap(self, meta, ch):
        _, clause, rest = self._split(ch[2:])
        goals, interest, base = [], None, ()
        for c in rest:
            if isinstance(c, tuple):
                for inner in c[1]:
                    if isinstance(inner, m.Interest):
                        interest = inner
                    else:
                        base = inner[1]
            else:
                goals.append(str(c))
        return m.ReturnCap(payer=str(ch[0]), amount=ch[1], goals=tuple(goals), interest=interest, base=base,
                           clause=clause, span=self._sp(meta))

    def share(self, meta, ch):
        return m.Share(party=str(ch[0]), percent=ch[1], span=self._sp(meta))

    def tranche(self, meta, ch):
        until = next((c for c in ch[1:] if isinstance(c, m.Quantity)), None)
        shares = tuple(c for c in ch[1:] if isinstance(c, m.Share))
        return m.Tranche(number=int(ch[0]), until=until, shares=shares, span=self._sp(meta))

    def split_rule(self, meta, ch):
        return ("split", str(ch[0]), str(ch[1]))

    def tranches(self, meta, ch):
        _, clause, rest = self._split(ch)
        split = rest[-1]
        return m.Tranches(tranches=tuple(rest[:-1]), rounding=split[1], remainder=split[2], clause=clause,
                          span=self._sp(meta))

    def periods(self, meta, ch):
        return (str(ch[0]), ch[1] if len(ch) > 1 else None)

    def year_start(self, meta, ch):
        return str(ch[0])

    def due(self, meta, ch):
        return "end of following " + str(ch[0])

    def order(self, meta, ch):
        return tuple(str(c) for c in ch)

    def adjust_each(self, meta, ch):
        return {"rule": "each"}

    def adjust_until(self, meta, ch):
        if isinstance(ch[0], m.Quantity):
            return {"rule": "until", "offset": ch[0]}
        return {"rule": "until", "date": _date(ch[0], self.path)}

    def adjust_once(self, meta, ch):
        return {"rule": "once", "date": _date(ch[0], self.path)}

    def adjustment(self, meta, ch):
        _, clause, rest = self._split(ch)
        return m.Adjustment(**rest[0], clause=clause, span=self._sp(meta))

    def floor(self, meta, ch):
        _, clause, rest = self._split(ch)
        return ("floor", " ".join(str(rest[0]).split()), clause)

    def settlement(self, meta, ch):
        _, clause, rest = self._split(ch)
        (periods, year_start), due, order, *more = rest
        floor = next((x for x in more if isinstance(x, tuple) and x[0] == "floor"), (None, None, None))
        adjustment = next((x for x in more if isinstance(x, m.Adjustment)), None)
        return m.Settlement(periods=periods, due=due, order=order, year_start=year_start, floor=floor[1],
                            floor_clause=floor[2], adjustment=adjustment, clause=clause, span=self._sp(meta))

    def for_each(self, meta, ch):
        return ("for_each", str(ch[0]))

    def flag_on(self, meta, ch):
        return ("on", _date(ch[0], self.path))

    def flag(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        kw = {}
        for c in rest[:-1]:
            kw[c[0]] = c[1]
        return m.Flag(id=str(ch[0]), title=title, when=rest[-1], clause=clause, span=self._sp(meta), **kw)

    def target(self, meta, ch):
        return ("target", ch[0])

    def metric_rounding(self, meta, ch):
        return ("rounding", str(ch[0]))

    def metric(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        kw: dict = {}
        for c in rest:
            if isinstance(c, tuple) and c[0] == "subjects":
                kw.update(level=c[1], where=c[2])
            elif isinstance(c, tuple) and c[0] in ("target", "rounding"):
                kw[c[0]] = c[1]
            else:
                kw["share"] = c
        return m.Metric(id=str(ch[0]), title=title, clause=clause, span=self._sp(meta), **kw)

    def figure(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        return m.Figure(id=str(ch[0]), title=title, expr=rest[0], clause=clause, span=self._sp(meta))

    # -- expressions
    def _bin(op):
        def method(self, meta, ch):
            return m.Binary(op=op, left=ch[0], right=ch[1], span=self._sp(meta))
        return method

    add, sub, mul, div = _bin("+"), _bin("-"), _bin("*"), _bin("/")
    eq, ne, lt, le, gt, ge = _bin("=="), _bin("!="), _bin("<"), _bin("<="), _bin(">"), _bin(">=")

    def or_(self, meta, ch):
        return self._flatten("or", ch, meta)

    def and_(self, meta, ch):
        return self._flatten("and", ch, meta)

    def _flatten(self, op, ch, meta):
        operands = []
        for c in ch:
            operands.extend(c.operands if isinstance(c, m.BoolOp) and c.op == op else (c,))
        return m.BoolOp(op=op, operands=tuple(operands), span=self._sp(meta))

    def not_(self, meta, ch):
        return m.Not(operand=ch[0], span=self._sp(meta))

    def neg(self, meta, ch):
        return m.Neg(operand=ch[0], span=self._sp(meta))

    def in_(self, meta, ch):
        return m.In(operand=ch[0], values=ch[1], span=self._sp(meta))

    def set_literal(self, meta, ch):
        return tuple(str(c) for c in ch)

    def between(self, meta, ch):
        return m.Between(operand=ch[0], low=ch[1], high=ch[2], span=self._sp(meta))

    def at(self, meta, ch):
        return m.At(expr=ch[0], point=str(ch[1]), span=self._sp(meta))

    def ref(self, meta, ch):
        return m.Ref(name=str(ch[0]), span=self._tok_sp(ch[0]))

    def date(self, meta, ch):
        return m.DateLit(value=_date(ch[0], self.path), span=self._tok_sp(ch[0]))

    def column_ref(self, meta, ch):
        return m.ColumnRef(table=str(ch[0]), column=str(ch[1]), span=self._sp(meta))

    def lookup(self, meta, ch):
        return m.Lookup(table=str(ch[0]), column=str(ch[1]), key=ch[2], span=self._sp(meta))

    def call(self, meta, ch):
        return m.Call(func=str(ch[0]), args=tuple(c for c in ch[1:] if c is not None), span=self._sp(meta))

    def count(self, meta, ch):
        return m.Count(level=str(ch[0]), where=ch[1], span=self._sp(meta))

    def match_arm(self, meta, ch):
        return m.MatchArm(values=tuple(str(c) for c in ch[:-1]), result=ch[-1], span=self._sp(meta))

    def match(self, meta, ch):
        return m.Match(subject=ch[0], arms=tuple(ch[1:]), span=self._sp(meta))

    # -- the whole file
    def start(self, meta, ch):
        kw: dict = {}
        lists = {m.Party: "parties", m.Grant: "grants", m.Table: "tables", m.Point: "points",
                 m.Measure: "measures", m.Attribute: "attributes", m.Rounding: "roundings", m.Goal: "goals", m.Cap: "caps",
                 m.Flag: "flags", m.Metric: "metrics", m.Figure: "figures", m.Acknowledgement: "acknowledgements"}
        singles = {m.Amendment: "amends", m.Disbursement: "disbursement", m.Programme: "programme", m.Reduction: "reduction",
                   m.ReturnCap: "return_cap", m.Tranches: "tranches", m.Settlement: "settlement"}
        collected: dict[str, list] = {name: [] for name in lists.values()}
        decisions, dupes = [], []
        header = None
        for item in ch:
            if type(item) in lists:
                collected[lists[type(item)]].append(item)
            elif type(item) in singles:
                name = singles[type(item)]
                if name in kw:
                    dupes.append(error("CL004", f"a contract has one '{name.replace('_', ' ')}' declaration; "
                                       "this is a second one", item.span))
                kw[name] = item
            elif isinstance(item, _Decision):
                decisions.append(item.text)
            elif item[0] == "header":
                if header is not None:
                    dupes.append(error("CL004", "a file holds one contract; this is a second 'contract' line",
                                       item[4]))
                header = item
            elif item[0] == "currency":
                kw["currency"] = item[1]
        if header is None:
            dupes.append(error("CL016", "the file has no 'contract NAME \"title\"' line",
                               m.SourceSpan(self.path, 1, 1)))
        if dupes:
            raise ParseError(dupes)
        return m.Contract(id=header[1], title=header[2], clause=header[3], decisions=tuple(decisions),
                          span=header[4], **kw, **{k: tuple(v) for k, v in collected.items()})


class _Clause:
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


class _Decision(_Clause):
    __slots__ = ()


class _Assumption(_Clause):
    __slots__ = ()
