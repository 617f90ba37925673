"""printer: model → canonical contract text (`contractlang fmt`).

`format_contract` writes a `Contract` back as DSL text that parses to an equal
model (`parse_text(format_contract(c)) == c`) and is a fixed point of itself.
The model holds no comments, so formatting drops them. The layout follows
`contracts/viborg/viborg.contract`: declarations in the order of the model's
fields, two-space indentation, money grouped with `_` (`1_400_000 DKK`),
decimals as written (`5.07 %`), expressions with the fewest parentheses that
keep the tree, `match` on several lines, long `and`/`or` chains wrapped.
"""

from __future__ import annotations

import re
from decimal import Decimal

from . import model as m
from .keywords import language_of, translate, word

#: Lines longer than this are wrapped where the layout allows (enum values, and/or chains).
WIDTH = 100
IND = "  "

# Binding strength, loosest first; mirrors the `?expr` ladder of grammar/contract.lark.
IF, OR, AND, NOT, CMP, SUM, PRODUCT, UNARY, POSTFIX, ATOM = range(0, 10)
_CMP_OPS = ("==", "!=", "<", "<=", ">", ">=")


# ---- literals --------------------------------------------------------------------

def quote(text: str) -> str:
    """A DSL string literal for `text` (backslash and double quote escaped)."""
    if "\n" in text:
        raise ValueError(f"a contract text cannot hold a line break: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_number(value: Decimal) -> str:
    """A non-negative decimal as written, its whole part grouped by `_` (`1_400_000`, `5.07`)."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a number a contract can state")
    if value.is_signed():
        if value != 0:
            raise ValueError(f"{value}: a quantity is never negative (write -x as an expression)")
        value = abs(value)
    text = format(value, "f")
    whole, dot, frac = text.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return "_".join([whole, *groups]) + dot + frac


def format_quantity(q: m.Quantity) -> str:
    """`1_400_000 DKK`, `26 %`, `18_000 DKK assumed "…"`."""
    number = format_number(q.value)
    if m.is_currency(q.unit) and re.fullmatch(r"\d{1,3}\.\d{3}", number):
        number += "0"  # `1.500 DKK` reads as Danish thousands to the parser; 1.5000 is the same value
    parts = [number]
    if q.unit:
        parts.append(q.unit)
    if q.assumption is not None:
        parts.append("assumed " + quote(q.assumption))
    return " ".join(parts)


def _signed(value: Decimal) -> str:
    return ("-" + format_number(-value)) if value < 0 else format_number(value)


def _cell(cell: m.Cell) -> str:
    if isinstance(cell, m.Quantity):
        return format_quantity(cell)
    if isinstance(cell, m.Symbol):
        return cell.name
    if isinstance(cell, m.Empty):
        return "-"
    raise TypeError(f"not a table cell: {cell!r}")


# ---- expressions -------------------------------------------------------------------

def _prec(e) -> int:
    if isinstance(e, m.If):
        return IF
    if isinstance(e, m.BoolOp):
        return OR if e.op == "or" else AND
    if isinstance(e, m.Not):
        return NOT
    if isinstance(e, (m.In, m.Between)) or (isinstance(e, m.Binary) and e.op in _CMP_OPS):
        return CMP
    if isinstance(e, m.Binary):
        return SUM if e.op in ("+", "-") else PRODUCT
    if isinstance(e, m.Neg):
        return UNARY
    if isinstance(e, m.At):
        return POSTFIX
    return ATOM


def format_expr(e, indent: str = "", column: int | None = None) -> str:
    """An expression with minimal parentheses; `indent` is the indentation of the line it is on.

    When `column` (where the expression starts) is given, a top-level and/or chain that
    would run past WIDTH is wrapped, each continuation line starting with its operator.
    """
    if column is not None and isinstance(e, m.BoolOp):
        one_line = _expr(e, indent)
        if "\n" not in one_line and column + len(one_line) > WIDTH:
            need = AND if e.op == "or" else NOT
            parts = [_sub(x, need, indent) for x in e.operands]
            lines, line = [], parts[0]
            for part in parts[1:]:
                if "\n" in line or column + len(line) + len(e.op) + 2 + len(part) > WIDTH:
                    lines.append(line)
                    line = f"{e.op} {part}"
                else:
                    line += f" {e.op} {part}"
            lines.append(line)
            return ("\n" + " " * column).join(lines)
    return _expr(e, indent)


def _sub(e, need: int, indent: str) -> str:
    text = _expr(e, indent)
    return f"({text})" if _prec(e) < need else text


def _expr(e, ind: str) -> str:
    if isinstance(e, m.Quantity):
        return format_quantity(e)
    if isinstance(e, m.DateLit):
        return e.value.isoformat()
    if isinstance(e, m.Ref):
        return e.name
    if isinstance(e, m.ColumnRef):
        return f"{e.table}.{e.column}"
    if isinstance(e, m.Lookup):
        return f"{e.table}.{e.column}[{_expr(e.key, ind)}]"
    if isinstance(e, m.Call):
        return f"{e.func}(" + ", ".join(_expr(a, ind) for a in e.args) + ")"
    if isinstance(e, m.Count):
        return f"count({e.level} where {_expr(e.where, ind)})"
    if isinstance(e, m.At):
        return f"{_sub(e.expr, POSTFIX, ind)}@{e.point}"
    if isinstance(e, m.Neg):
        operand = _sub(e.operand, UNARY, ind)
        return "- " + operand if operand.startswith("-") else "-" + operand
    if isinstance(e, m.Binary):
        if e.op in _CMP_OPS:
            left, right = CMP + 1, CMP + 1
        elif e.op in ("+", "-"):
            left, right = SUM, PRODUCT
        elif e.op in ("*", "/"):
            left, right = PRODUCT, UNARY
        else:
            raise ValueError(f"unknown operator {e.op!r}")
        return f"{_sub(e.left, left, ind)} {e.op} {_sub(e.right, right, ind)}"
    if isinstance(e, m.BoolOp):
        need = AND if e.op == "or" else NOT
        return f" {e.op} ".join(_sub(x, need, ind) for x in e.operands)
    if isinstance(e, m.Not):
        return "not " + _sub(e.operand, NOT, ind)
    if isinstance(e, m.In):
        return f"{_sub(e.operand, SUM, ind)} in {_set(e.values)}"
    if isinstance(e, m.Between):
        return (f"{_sub(e.operand, SUM, ind)} between {_sub(e.low, SUM, ind)}"
                f" and {_sub(e.high, SUM, ind)}")
    if isinstance(e, m.If):
        return f"if {_expr(e.cond, ind)} then {_expr(e.then, ind)} else {_expr(e.else_, ind)}"
    if isinstance(e, m.Match):
        inner = ind + IND
        lines = [f"match {_expr(e.subject, ind)} {{"]
        for arm in e.arms:
            head = f"{inner}{', '.join(arm.values)} => "
            lines.append(head + format_expr(arm.result, inner, len(head)))
        lines.append(ind + "}")
        return "\n".join(lines)
    if isinstance(e, tuple):  # a bare set literal `{a, b}` (the parser leaves it a tuple)
        return _set(e)
    raise TypeError(f"not an expression: {e!r}")


def _set(values) -> str:
    return "{" + ", ".join(values) + "}"


# ---- declarations --------------------------------------------------------------------

def _tail(*parts) -> str:
    """Join the non-empty parts of a line with single spaces."""
    return " ".join(p for p in parts if p)


def _cl(clause: str | None) -> str:
    return f"§ {quote(clause)}" if clause is not None else ""


def _acknowledgement(a: m.Acknowledgement) -> str:
    on = f" on {a.subject}" if a.subject is not None else ""
    return " ".join(x for x in (f"acknowledge {a.code}{on} {quote(a.reason)}", _cl(a.clause)) if x)


def _title(text: str | None) -> str:
    return quote(text) if text is not None else ""


def _block(head: str, body: list[str], ind: str = "") -> list[str]:
    if not body:
        return [f"{ind}{head} {{", f"{ind}}}"]
    return [f"{ind}{head} {{", *(f"{ind}{IND}{line}" for line in body), f"{ind}}}"]


def _names(names) -> str:
    return ", ".join(names)


def _wrapped_names(head: str, names, ind: str) -> list[str]:
    """`values a, b, …` filled up to WIDTH, continuation lines aligned under the first name."""
    lines, line = [], head + " "
    pad = " " * len(line)
    for i, name in enumerate(names):
        piece = name + ("," if i < len(names) - 1 else "")
        if line.strip() != head and len(ind) + len(line) + len(piece) > WIDTH:
            lines.append(line.rstrip())
            line = pad
        line += piece + " "
    lines.append(line.rstrip())
    return lines


def _header(c: m.Contract) -> list[str]:
    amends = ([_tail("amends", quote(c.amends.file), "effective", c.amends.effective.isoformat(), _cl(c.amends.clause))]
              if c.amends is not None else [])
    return [_tail("contract", c.id, _title(c.title), _cl(c.clause)), *amends, f"currency {c.currency}"]


def _party(p: m.Party) -> str:
    return _tail("party", p.id, _title(p.name), p.role, _cl(p.clause))


def _grant(g: m.Grant) -> str:
    return _tail("grant", g.party, format_quantity(g.amount), _cl(g.clause))


def _disbursement(d: m.Disbursement) -> list[str]:
    body = []
    for i in d.instalments:
        amounts = ", ".join(f"{a.party} {format_quantity(a.amount)}" for a in i.amounts)
        body.append(_tail("instalment", _title(i.label), f"{i.date.isoformat()}:", amounts, _cl(i.clause)))
    return _block(_tail("disbursement", _cl(d.clause)), body)


def _table(t: m.Table) -> list[str]:
    cols = ", ".join(_tail(c.id, _title(c.label), c.unit) for c in t.columns)
    body = [f"columns {cols}"]
    body += [f"check {k.target} = {' + '.join(k.terms)}" for k in t.checks]
    for r in t.rows:
        head = [r.kind, r.id, _title(r.label)]
        if r.of is not None:
            head.append(f"of {_names(r.of)}")
        if r.weighted_by is not None:
            head.append(f"weighted by {r.weighted_by}")
        body.append(_tail(_tail(*head) + ":", ", ".join(_cell(x) for x in r.cells), _cl(r.clause)))
    return _block(_tail("table", t.id, _title(t.title), _cl(t.clause)), body)


def _programme(p: m.Programme) -> list[str]:
    assumed = f"assumed {quote(p.intervention_assumption)}" if p.intervention_assumption is not None else ""
    body = [_tail("intervention", p.intervention_start.isoformat(), "to", p.intervention_end.isoformat(), assumed,
                  _cl(p.intervention_clause))]
    if p.data_collection_end is not None:
        assumed = f"assumed {quote(p.data_collection_assumption)}" if p.data_collection_assumption is not None else ""
        body.append(_tail("data collection ends", p.data_collection_end.isoformat(), assumed,
                          _cl(p.data_collection_clause)))
    if p.minimum_stay is not None:
        body.append(_tail("minimum stay", format_quantity(p.minimum_stay), _cl(p.minimum_stay_clause)))
    if p.replacement_within is not None:
        unless = f"unless {_names(p.replacement_unless)}" if p.replacement_unless else ""
        body.append(_tail("replacement within", format_quantity(p.replacement_within), unless,
                          _cl(p.replacement_clause)))
    body += [f"decision {quote(d)}" for d in p.decisions]
    return _block(_tail("programme", _cl(p.clause)), body)


def _reduction(r: m.Reduction) -> str:
    return _tail(f"relative reduction of grants by {r.table}.{r.row}.{r.column}", _cl(r.clause))


def _point(p: m.Point) -> str:
    offset = f"+ {format_quantity(p.offset)}" if p.offset is not None else ""
    return _tail("point", p.id, "=", p.anchor, offset, _cl(p.clause))


def _measure(x: m.Measure) -> list[str]:
    at = f"at {_names(x.points)}"
    if x.kind == "enum":
        body = _wrapped_names("values", x.values, IND) + [at]
        return _block(_tail("measure", x.id, x.level, _cl(x.clause)), body)
    rng = ""
    if x.low is not None or x.high is not None:
        if x.low is None or x.high is None:
            raise ValueError(f"measure {x.id}: a range needs both ends")
        rng = f"{_signed(x.low)} to {_signed(x.high)}"
    return [_tail("measure", x.id, x.level, x.kind, rng, at, _cl(x.clause))]


def _attribute(x: m.Attribute) -> list[str]:
    if x.kind == "enum":
        return _block(_tail("attribute", x.id, x.level, _cl(x.clause)), _wrapped_names("values", x.values, IND))
    rng = f"{_signed(x.low)} to {_signed(x.high)}" if x.low is not None and x.high is not None else ""
    return [_tail("attribute", x.id, x.level, x.kind, rng, _cl(x.clause))]


def _rounding(r: m.Rounding) -> str:
    return _tail("rounding", r.id, str(r.places), "places", r.mode, _cl(r.clause))


def _subjects(level: str, where, ind: str) -> str:
    if where is None:
        return f"subjects {level}"
    head = f"subjects {level} where "
    return head + format_expr(where, ind, len(ind) + len(head))


def _goal(g: m.Goal) -> list[str]:
    body = []
    if g.payer is not None:
        body.append("payer " + (", ".join(f"{x.party} {format_quantity(x.percent)}" for x in g.shares) if g.shares
                                else g.payer))
    body.append(_subjects(g.level, g.where, IND))
    if g.points:
        body.append(_tail("points", _names(g.points), "from cohort start" if g.from_cohort else ""))
    if g.comparison is not None:
        k = g.comparison
        body.append(_tail(f"compare mean {k.measure} of {k.treated} against {k.control}",
                          "pooled" if k.pooled else "by cohort", f"weighted by {k.weight}" if k.weight else ""))
    for let in g.lets:
        head = f"let {let.name} = "
        body.append(head + format_expr(let.expr, IND, len(IND) + len(head)))
    if g.outcome is not None:
        body.append("outcome " + format_expr(g.outcome, IND, len(IND) + 8))
    if g.conditions is not None:
        body.append(f"conditions {g.conditions}")
    if g.dated_by_evidence:
        body.append("dated by evidence")
    if g.rate is not None:
        body.append("pay " + format_expr(g.rate.amount, IND, len(IND) + 4) + f" per {g.rate.per}")
    if g.tiers is not None:
        body += _block(_tail("tiers", _cl(g.tiers.clause)),
                       [f"beyond {format_number(t.beyond)}: {format_quantity(t.amount)}" for t in g.tiers.tiers])
    for x in g.links:
        head = "once per subject" if x.kind == "once" else f"{x.kind} {_names(x.goals)}"
        body.append(_tail(head, _cl(x.clause)))
    if g.missing is not None:
        x = g.missing
        body.append(_tail("missing", x.method, f"except {x.exempt}" if x.exempt is not None else "", _cl(x.clause)))
    body += [f"decision {quote(d)}" for d in g.decisions]
    return _block(_tail("goal", g.id, _title(g.title), _cl(g.clause)), body)


def _cap(c: m.Cap) -> str:
    return _tail("cap", c.goal, format_quantity(c.amount), f"per {c.per}" if c.per is not None else "", _cl(c.clause))


def _return_cap(r: m.ReturnCap) -> list[str]:
    head = _tail("return cap", r.payer, format_quantity(r.amount), "on", _names(r.goals), _cl(r.clause))
    body = []
    if r.interest is not None:
        i = r.interest
        body.append(f"interest {format_quantity(i.rate)} per year, {i.day_count} days, capitalised {i.capitalisation}")
    if r.base:
        body.append(f"base {_names(r.base)}")
    return _block(head, body) if body else [head]


def _tranches(t: m.Tranches) -> list[str]:
    body = []
    for tr in t.tranches:
        until = f"until {format_quantity(tr.until)}" if tr.until is not None else ""
        shares = ", ".join(f"{s.party} {format_quantity(s.percent)}" for s in tr.shares)
        body.append(_tail("tranche", str(tr.number), until) + ": " + shares)
    body.append(f"rounding {t.rounding}, remainder {t.remainder}")
    return _block(_tail("tranches on all goals", _cl(t.clause)), body)


def _settlement(s: m.Settlement) -> list[str]:
    prefix = "end of following "
    if not s.due.startswith(prefix):
        raise ValueError(f"settlement due {s.due!r} cannot be written; expected '{prefix}…'")
    body = [_tail("periods", s.periods, f"from {s.year_start}" if s.year_start else ""), f"due {s.due}",
            f"order lines by {_names(s.order)}"]
    if s.floor is not None:
        body.append(_tail(f"floor per period {s.floor}", _cl(s.floor_clause)))
    if s.adjustment is not None:
        a = s.adjustment
        if a.rule == "each":
            how = "at each settlement"
        elif a.rule == "once":
            how = f"once on {a.date}"
        else:
            how = f"until {a.date}" if a.date else f"until due + {format_quantity(a.offset)}"
        body.append(_tail(f"adjust paid periods {how}", _cl(a.clause)))
    return _block(_tail("settlement", _cl(s.clause)), body)


def _flag(f: m.Flag) -> list[str]:
    body = []
    if f.for_each is not None:
        body.append(f"for each {f.for_each}")
    if f.on is not None:
        body.append(f"on {f.on.isoformat()}")
    body.append("when " + format_expr(f.when, IND, len(IND) + 5))
    return _block(_tail("flag", f.id, _title(f.title), _cl(f.clause)), body)


def _metric(x: m.Metric) -> list[str]:
    body = [_subjects(x.level, x.where, IND), "share where " + format_expr(x.share, IND, len(IND) + 12)]
    if x.rounding is not None:
        body.append(f"rounding {x.rounding}")
    if x.target is not None:
        body.append(f"target {format_quantity(x.target)}")
    return _block(_tail("metric", x.id, _title(x.title), _cl(x.clause)), body)


def _figure(f: m.Figure) -> str:
    head = _tail("figure", f.id, _title(f.title), "=") + " "
    return _tail(head + format_expr(f.expr, "", len(head)), _cl(f.clause))


def format_contract(contract: m.Contract, language: str | None = None) -> str:
    """The canonical DSL text of `contract`, with the keywords of `language` (by default, those its DSL
    source is written with; English for a contract from YAML or code); parsing it gives back an equal model.

    A contract parsed from DSL text keeps its author's order of declarations (after the `contract` and
    `currency` lines) and its `#` comments: a run of comment lines stays before the declaration it
    precedes (a comment inside a block moves to before the block; one after the last declaration stays
    at the end). Otherwise (a contract from YAML, or built in code) the declarations come in the order of
    the language reference: parties, grants, …, decisions, acknowledgements."""
    c = contract
    items = _declarations(c)
    comments: dict[int, list[str]] = {}
    trailing: list[str] = []
    head_comments: list[str] = []
    source = c.source if c.source and not (c.path or "").endswith((".yaml", ".yml")) else None
    if source is not None and all(start is not None for _, start, _, _ in items):
        items.sort(key=lambda item: item[1])  # stable: the author's order
        runs = _comment_runs(source)
        header_line = c.span.line if c.span is not None else 1
        for line, text in runs:
            if line <= header_line:  # before the `contract` line, or after it on its line
                head_comments += text
                continue
            inside = [k for k, (_, start, end, _) in enumerate(items) if start <= line <= end]  # in a block
            later = [k for k, (_, start, _, _) in enumerate(items) if start > line]
            if inside or later:
                comments.setdefault(inside[0] if inside else later[0], []).extend(text)
            else:
                trailing += text
    sections: list[list[str]] = [head_comments + _header(c)]
    previous = None
    for k, (kind, _, _, lines) in enumerate(items):
        lead = comments.get(k, [])
        if kind != previous or lead:
            sections.append(lead + lines)
        else:
            section = sections[-1]
            section += ([""] if kind in _SPACED else []) + lines
        previous = kind
    while trailing and not trailing[-1]:
        trailing.pop()
    if trailing:
        sections.append(trailing)
    text = "\n\n".join("\n".join(s) for s in sections) + "\n"
    if language is None:
        language = language_of(source)[0] if source is not None else "en"
    return translate(text, language)


#: Declarations written as blocks, a blank line between two of them.
_SPACED = ("table", "goal")


def _declarations(c: m.Contract) -> list[tuple[str, int | None, int | None, list[str]]]:
    """(kind, the lines it starts and ends on in the source or None, its lines) of each declaration after
    the header, in the order of the language reference."""
    out: list[tuple[str, int | None, int | None, list[str]]] = []

    def add(kind: str, node, lines: list[str]) -> None:
        span = node.span
        out.append((kind, span and span.line, span and (span.end_line or span.line), lines))

    for p in c.parties:
        add("party", p, [_party(p)])
    for g in c.grants:
        add("grant", g, [_grant(g)])
    if c.disbursement:
        add("disbursement", c.disbursement, _disbursement(c.disbursement))
    for t in c.tables:
        add("table", t, _table(t))
    if c.programme:
        add("programme", c.programme, _programme(c.programme))
    if c.reduction:
        add("reduction", c.reduction, [_reduction(c.reduction)])
    for p in c.points:
        add("point", p, [_point(p)])
    for x in c.measures:
        add("measure", x, _measure(x))
    for x in c.attributes:
        add("attribute", x, _attribute(x))
    for r in c.roundings:
        add("rounding", r, [_rounding(r)])
    for g in c.goals:
        add("goal", g, _goal(g))
    for x in c.caps:
        add("cap", x, [_cap(x)])
    for kind, node, make in (("return_cap", c.return_cap, _return_cap), ("tranches", c.tranches, _tranches),
                             ("settlement", c.settlement, _settlement)):
        if node is not None:
            add(kind, node, make(node))
    for f in c.flags:
        add("flag", f, _flag(f))
    for x in c.metrics:
        add("metric", x, _metric(x))
    for f in c.figures:
        add("figure", f, [_figure(f)])
    lines = _top_level_decisions(c.source) if c.source and not (c.path or "").endswith((".yaml", ".yml")) else []
    for k, d in enumerate(c.decisions):  # a decision has no span: its line is found in the source
        line = lines[k] if len(lines) == len(c.decisions) else None
        out.append(("decision", line, line, [f"decision {quote(d)}"]))
    for a in c.acknowledgements:
        add("acknowledge", a, [_acknowledgement(a)])
    return out


def _top_level_decisions(source: str) -> list[int]:
    """The lines of the `decision` lines outside any block (a top-level decision has no span of its own)."""
    from .parse import _MASK

    masked = _MASK.sub(lambda mo: " " * len(mo.group(0)), source)
    decision = re.compile(r"\s*" + word("decision", language_of(source)[0]) + r"\b")
    out, depth = [], 0
    for n, line in enumerate(masked.split("\n"), 1):
        if depth == 0 and decision.match(line):
            out.append(n)
        depth += line.count("{") - line.count("}")
    return out


def _comment_runs(source: str) -> list[tuple[int, list[str]]]:
    """Runs of whole-line `#` comments: (the line of the run's last comment, its lines, stripped of
    indentation). A blank line or code ends a run; a run followed by a blank line keeps it (a comment
    that stands on its own, as at the head of a file), as a last empty line. A comment after code on a
    line is a run of its own, on that line."""
    from .parse import _STRING

    runs: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for n, line in enumerate(source.split("\n"), 1):
        if line.lstrip().startswith("#"):
            current.append(line.strip())
            continue
        if current:
            runs.append((n - 1, current + ([""] if not line.strip() else [])))
            current = []
        hash_at = _STRING.sub(lambda mo: " " * len(mo.group(0)), line).find("#")
        if hash_at > 0:
            runs.append((n, [line[hash_at:].strip()]))
    if current:
        runs.append((len(source.split("\n")), current))
    return runs
