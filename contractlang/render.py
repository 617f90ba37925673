"""Render a settlement document (docs/settlement-json.md) for people.

A report never computes: it only puts the engine's numbers into words,
tables and charts, in Danish or English. Formats: `md`, `html`, `xlsx`
(bytes) and `text` (a compact terminal summary); `render_line` gives one
line's audit trail for `contractlang explain`, `render_result` one result's
(metric's) or figure's. The same document always renders to the same bytes:
nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import zipfile
from decimal import Decimal

from .explain import line_id_parts
from .limits import SPREADSHEET_CELL_CHARS, SPREADSHEET_DIGITS, SPREADSHEET_FIRST_DATE, SPREADSHEET_LAST_DATE
from .narrate import describe_step
from .render_html import render_html
from .markup import (HTML, MARKDOWN, Html, Markdown, _fence, ordered_parties, payers, recipients,  # noqa: F401
                     report_sections, result_facts, visible)
from .i18n import (CATALOGUE, PLAIN, Formatter, cap_per, caps_text, detail_value, exclusion_detail,
                   figure_value, flag_title, goal_texts, goals_by_id, is_number, key_label, line_facts, metric_cells, metric_status,
                   party_name, rate_text, results, return_cap_sentence, to_decimal)

FORMATS = ("md", "html", "xlsx", "text")


class UnknownLine(LookupError):
    """`render_line`, `render_result` or `render_flag` was asked for an id the document does not hold."""


# ---- markup: how identifiers and text are written in each format ----------------------

# ---- reading the document ---------------------------------------------------------------

def canonical(value):
    """The document as its JSON form reads back: keys sorted, Decimal and dates as strings.

    Rendering the engine's dict and rendering `settle --format json` read back
    then give the same bytes. Floats are refused: amounts must stay exact.
    """
    if isinstance(value, dict):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, float):
        raise TypeError(f"a float in the settlement document: {value!r}; amounts must be decimal strings")
    if isinstance(value, (Decimal, dt.date)):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    return value


def _lite(doc: dict) -> dict:
    """The document without its lines, canonical (for renderings that need one line at most)."""
    return canonical({k: v for k, v in doc.items() if k != "lines"})


def formatter(doc: dict, lang: str) -> Formatter:
    """The Formatter for `lang` and the contract's currency."""
    return Formatter(lang, currency=doc.get("contract", {}).get("currency") or "DKK")


def find_line(doc: dict, line_id: str, fx: Formatter) -> dict:
    """The line `line_id`; UnknownLine (with close ids) when there is none."""
    lines = {ln["id"]: ln for ln in doc.get("lines", [])}
    if line_id in lines:
        return lines[line_id]
    msg = fx.t("unknown_line", id=line_id)
    close = difflib.get_close_matches(line_id, list(lines), n=3)
    if close:
        msg += " " + fx.t("did_you_mean", names=", ".join(close))
    raise UnknownLine(msg)


def _numbered(steps, doc, fx, indent="  ", owner=None) -> list[str]:
    out = []
    width = len(str(len(steps)))
    for i, step in enumerate(steps, 1):
        sentence, block = describe_step(step, doc, fx, PLAIN, owner=owner)
        out.append(f"{indent}{str(i).rjust(width)}. {sentence}")
        if block:
            pad = indent + " " * (width + 2)
            out.append(f"{pad}{fx.t('contract_text')}")
            out.extend(f"{pad}  {b}" for b in str(block).splitlines())
    return out


def render_line(doc: dict, line_id: str, lang: str) -> str:
    """One line's audit trail as text: its facts, then every step in words, numbered.

    An id that is not a line but a result (metric) or a figure gives that one's trail (`render_result`).

    Raises:
        UnknownLine: the document has no line `line_id` (the message suggests close ids).
    """
    fx = formatter(doc, lang)
    metrics, figures = results(doc)
    if line_id not in {ln["id"] for ln in doc.get("lines", [])} and line_id in {x.get("id") for x in metrics + figures}:
        return render_result(doc, line_id, lang)
    line = canonical(find_line(doc, line_id, fx))
    doc = _lite(doc)
    facts = line_facts(line, doc, fx)
    width = max(len(k) for k, _ in facts)
    out = [fx.t("line_head", id=line["id"]), "=" * len(fx.t("line_head", id=line["id"]))]
    out += [f"{k.ljust(width)}  {v}" for k, v in facts]
    out += ["", fx.t("trail") + ":"]
    out += _numbered(line.get("trace", []), doc, fx)
    return visible("\n".join(out)) + "\n"


def exclusions_of(doc: dict, line_id: str) -> list[dict]:
    """The exclusions that say why the line `goal/subject/point` does not exist (the subject's, for the goal,
    at that point or at every point); empty when the id names no excluded subject."""
    goal, subject, point = line_id_parts(line_id)
    return [e for e in doc.get("exclusions") or [] if e.get("goal") == goal and e.get("subject") == subject
            and e.get("point") in (None, point)]


def render_no_line(doc: dict, line_id: str, lang: str) -> str:
    """Why there is no line `line_id`: the goal, the subject and point, and each exclusion's reason and detail."""
    fx = formatter(doc, lang)
    goal_id, subject, point = line_id_parts(line_id)
    goal = goals_by_id(doc).get(goal_id, {})
    head = fx.t("no_line_head", id=line_id)
    facts = [(fx.t("goal"), f"{goal_id} ({goal.get('title') or ''}), {fx.clause(goal.get('clause'))}"),
             (fx.t("subject"), subject), (fx.t("point"), point)]
    for e in exclusions_of(doc, line_id):
        facts += [(fx.t("reason"), fx.code("reason", e.get("reason"))), (fx.t("detail"), exclusion_detail(e, fx))]
    width = max(len(k) for k, _ in facts)
    out = [head, "=" * len(head), fx.t("no_line_note"), ""] + [f"{k.ljust(width)}  {v}" for k, v in facts]
    return visible("\n".join(out)) + "\n"


def render_result(doc: dict, result_id: str, lang: str) -> str:
    """A result (metric) or a figure with its values and its trail, as text.

    Raises:
        UnknownLine: the document has no metric or figure `result_id` (the message suggests close ids).
    """
    doc = _lite(doc)
    fx = formatter(doc, lang)
    metrics, figures = results(doc)
    found = next((("metric", x) for x in metrics if x.get("id") == result_id), None) \
        or next((("figure", x) for x in figures if x.get("id") == result_id), None)
    if found is None:
        names = [x.get("id") for x in metrics + figures] + [ln["id"] for ln in doc.get("lines", [])]
        close = difflib.get_close_matches(result_id, names, n=3)
        raise UnknownLine(fx.t("unknown_result", id=result_id) + (" " + fx.t("did_you_mean", names=", ".join(close)) if close else ""))
    owner, item = found
    head = fx.t("result_head" if owner == "metric" else "figure_head", id=item["id"])
    facts = result_facts(owner, item, fx)
    width = max(len(k) for k, _ in facts)
    out = [head, "=" * len(head)] + [f"{k.ljust(width)}  {v}" for k, v in facts]
    out += ["", fx.t("result_trail" if owner == "metric" else "figure_trail") + ":"]
    out += _numbered(item.get("trace", []), doc, fx, owner=owner)
    return visible("\n".join(out)) + "\n"


def render_flag(doc: dict, flag_id: str, lang: str) -> str:
    """Every raised flag with id `flag_id` (one per subject) with its trail, as text."""
    doc = _lite(doc)
    fx = formatter(doc, lang)
    flags = [f for f in doc.get("flags", []) if f.get("id") == flag_id]
    if not flags:
        close = difflib.get_close_matches(flag_id, [f.get("id") for f in doc.get("flags", [])], n=3)
        msg = fx.t("unknown_flag", id=flag_id) + (" " + fx.t("did_you_mean", names=", ".join(close)) if close else "")
        raise UnknownLine(msg)
    out = []
    for f in flags:
        head = fx.t("flag_head", id=f["id"]) + (f" ({f['subject']})" if f.get("subject") else "")
        out += [head, "=" * len(head), f"{flag_title(f, fx)}, {fx.clause(f.get('clause'))}"]
        out += [f"  {key_label(k, fx)}: {detail_value(k, v, fx)}" for k, v in (f.get("details") or {}).items()]
        out += ["", fx.t("trail") + ":"] + _numbered(f.get("trace", []), doc, fx, owner="flag") + [""]
    return visible("\n".join(out))


def render_exclusions(doc: dict, lang: str) -> str:
    """Exclusions and the rows accounting as text."""
    doc = _lite(doc)
    fx = formatter(doc, lang)
    out = [fx.t("exclusions"), "=" * len(fx.t("exclusions"))]
    rows = [[e.get("goal") or "", e.get("subject") or "", e.get("point") or "", fx.code("reason", e.get("reason")),
             exclusion_detail(e, fx)] for e in doc.get("exclusions", [])]
    out += _columns([fx.t(k) for k in ("goal", "subject", "point", "reason", "detail")], rows) if rows else [fx.t("no_exclusions")]
    out += ["", fx.t("rows_accounting"), "-" * len(fx.t("rows_accounting"))]
    out += _columns([fx.t(k) for k in ("file", "total", "used", "excluded")],
                    [[f, fx.count(r["total"]), fx.count(r["used"]), fx.count(r["excluded"])] for f, r in doc.get("rows", {}).items()],
                    right={1, 2, 3})
    if doc.get("row_exclusions"):
        out += ["", fx.t("row_exclusions"), "-" * len(fx.t("row_exclusions"))]
        out += _columns([fx.t(k) for k in ("file", "line", "reason", "detail")],
                        [[r.get("file"), str(r.get("line")), fx.code("reason", r.get("reason")), exclusion_detail(r, fx)]
                         for r in doc["row_exclusions"]], right={1})
    return visible("\n".join(out)) + "\n"


# ---- text: the terminal summary ----------------------------------------------------------

def _columns(header: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    table = [header] + rows
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    out = []
    for n, r in enumerate(table):
        cells = [str(c).rjust(widths[i]) if i in right else str(c).ljust(widths[i]) for i, c in enumerate(r)]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def _text(doc: dict, fx: Formatter) -> str:
    t, c = doc.get("totals", {}), doc.get("contract", {})
    title = f"{fx.t('settlement')}: {c.get('title') or c.get('id', '')}"
    eng = doc.get("engine", {})
    out = [title, "=" * len(title),
           f"{fx.t('as_of')} {fx.date(doc['as_of'])} · {fx.t('engine')} {eng.get('name', '')} {eng.get('version', '')}"]
    inputs = doc.get("inputs", {})
    files = [[fx.t("contract_file"), inputs.get("contract", {}).get("path", ""), "", inputs.get("contract", {}).get("sha256", "")]]
    files += [[fx.t("ledger_file"), f["file"], fx.count(f.get("rows", 0)), f.get("sha256", "")] for f in inputs.get("ledger", [])]
    out += [""] + _columns(["", fx.t("file"), fx.t("rows"), "SHA-256"], files, right={2})
    out += ["", f"{fx.t('pool')}: {fx.money(t.get('pool', '0'))}", ""]
    rows = [[fx.t("by_payer"), p, party_name(doc, p), fx.money(v)] for p, v in ((p, t["by_payer"][p]) for p in payers(doc))]
    rows += [[fx.t("by_recipient"), p, party_name(doc, p), fx.money(t["by_recipient"][p])] for p in recipients(doc)]
    out += _columns(["", fx.t("party"), fx.t("name"), fx.t("amount")], rows, right={3})
    rc = doc.get("return_cap")
    out += ["", return_cap_sentence(doc, fx, PLAIN) if rc else fx.t("no_return_cap"), ""]
    out += _columns([fx.t("period"), fx.t("due"), fx.t("amount"), fx.t("cumulative")],
                    [[fx.period(p["period"]), fx.date(p["due"]), fx.money(p["amount"]), fx.money(p["cumulative"])]
                     for p in doc.get("periods", [])], right={2, 3})
    metrics, figures = results(doc)
    if metrics:
        out += ["", fx.t("metrics"), "-" * len(fx.t("metrics"))]
        cols = ("count_met", "subjects", "share_rounded", "share_exact", "target", "against_target")
        out += _columns([fx.t("metric"), fx.t("title")] + [fx.t(k) for k in cols],
                        [[m.get("id", ""), m.get("title") or ""] + [metric_cells(m, fx)[k] for k in cols] for m in metrics],
                        right={2, 3, 4, 5, 6})
    if figures:
        out += ["", fx.t("figures"), "-" * len(fx.t("figures"))]
        out += _columns([fx.t("figure"), fx.t("title"), fx.t("value"), fx.t("clause")],
                        [[f.get("id", ""), f.get("title") or "", figure_value(f, fx), fx.clause(f.get("clause"))] for f in figures],
                        right={2})
    out += [""] + _columns([fx.t("goal"), fx.t("goal_amount"), fx.t("goal_cap_cut"), fx.t("imputed_count")],
                           [[g["id"], fx.money(t.get("goals", {}).get(g["id"], "0")), fx.money(t.get("goal_cap_cut", {}).get(g["id"], "0")),
                             fx.count(t.get("imputed", {}).get(g["id"], 0))] for g in doc.get("goals", [])], right={1, 2, 3})
    flags = doc.get("flags", [])
    out += ["", fx.t("text_flags", n=len(flags))]
    out += [f"  - {f.get('id')}{' (' + f['subject'] + ')' if f.get('subject') else ''}: {flag_title(f, fx)}, {fx.clause(f.get('clause'))}"
            for f in flags]
    out += ["", fx.t("text_lines", n=fx.count(len(doc.get("lines", []))))]
    return visible("\n".join(out)) + "\n"


# ---- Markdown ---------------------------------------------------------------------------------

def _cell(s) -> str:
    return str(s).replace("\n", " ").replace("|", "\\|")


def _md_table(header: list[str], rows: list[list], right: set[int] = frozenset()) -> list[str]:
    out = ["| " + " | ".join(_cell(h) for h in header) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return out + [""]


def _md(doc: dict, fx: Formatter) -> str:
    mk, t, c = MARKDOWN, doc.get("totals", {}), doc.get("contract", {})
    esc, code, money = mk.esc, mk.code, fx.money
    eng, inputs = doc.get("engine", {}), doc.get("inputs", {})
    out = [f"# {esc(fx.t('settlement'))}: {esc(c.get('title') or '')}", ""]
    # integrity first
    out += [f"## {fx.t('integrity')}", "", fx.t("integrity_note"), ""]
    out += _md_table(["", ""], [[fx.t("as_of"), fx.date(doc["as_of"])],
                                [fx.t("engine"), f"{esc(eng.get('name', ''))} {esc(eng.get('version', ''))}"],
                                [fx.t("contract_file"), f"{code(c.get('id', ''))} ({esc(fx.clause(c.get('clause')))})"]])
    files = [[f"{fx.t('contract_file')} {code(inputs.get('contract', {}).get('path', ''))}", "",
              code(inputs.get("contract", {}).get("sha256", ""))]]
    files += [[code(f["file"]), fx.count(f.get("rows", 0)), code(f.get("sha256", ""))] for f in inputs.get("ledger", [])]
    out += _md_table([fx.t("file"), fx.t("rows"), "SHA-256"], files, right={1})
    # summary
    out += [f"## {fx.t('summary')}", "", f"**{fx.t('pool')}: {money(t.get('pool', '0'))}**", ""]
    out += [f"### {fx.t('by_payer')}", ""]
    out += _md_table([fx.t("party"), fx.t("name"), fx.t("amount")],
                     [[code(p), esc(party_name(doc, p)), money(t["by_payer"][p])] for p in payers(doc)], right={2})
    out += [f"### {fx.t('by_recipient')}", ""]
    out += _md_table([fx.t("party"), fx.t("name"), fx.t("amount")],
                     [[code(p), esc(party_name(doc, p)), money(t["by_recipient"][p])] for p in recipients(doc)], right={2})
    out += [f"### {fx.t('return_cap')}", "", return_cap_sentence(doc, fx, mk) if doc.get("return_cap") else fx.t("no_return_cap"), ""]
    out += [f"### {fx.t('tranches')}", ""]
    out += _md_table([fx.t("tranche"), fx.t("until"), fx.t("shares")],
                     [[str(tr.get("number")), money(tr["until"]) if tr.get("until") is not None else fx.t("no_limit"),
                       "; ".join(f"{code(p)} {fx.pct(v)}" for p, v in (tr.get("shares") or {}).items())]
                      for tr in doc.get("tranches", [])], right={1})
    out += [f"### {fx.t('periods')}", ""]
    pay, rec = payers(doc), recipients(doc)
    out += _md_table([fx.t("period"), fx.t("from"), fx.t("to"), fx.t("due"), fx.t("amount")]
                     + [f"{fx.t('payer')} {p}" for p in pay] + [fx.t("to_party", party=r) for r in rec] + [fx.t("cumulative")],
                     [[fx.period(p["period"]), fx.date(p["start"]), fx.date(p["end"]), fx.date(p["due"]), money(p["amount"])]
                      + [money(p.get("by_payer", {}).get(q, "0.00")) for q in pay]
                      + [money(p.get("by_recipient", {}).get(r, "0.00")) for r in rec] + [money(p["cumulative"])]
                      for p in doc.get("periods", [])], right=set(range(4, 6 + len(pay) + len(rec))))
    out += _md_results(doc, fx)
    # goals
    out += [f"## {fx.t('goals')}", "", fx.t("goals_note"), ""]
    out += _md_table([fx.t("goal"), fx.t("title"), fx.t("payer"), fx.t("rate"), fx.t("cap"), fx.t("goal_amount"),
                      fx.t("goal_cap_cut"), fx.t("imputed_count"), fx.t("clause")],
                     [[code(g["id"]), esc(g.get("title") or ""), code(g.get("payer", "")),
                       rate_text(g, fx, mk), caps_text(g, fx, mk),
                       money(t.get("goals", {}).get(g["id"], "0")), money(t.get("goal_cap_cut", {}).get(g["id"], "0")),
                       fx.count(t.get("imputed", {}).get(g["id"], 0)), esc(fx.clause(g.get("clause")))]
                      for g in doc.get("goals", [])], right={3, 4, 5, 6, 7})
    for gid, text in goal_texts(doc).items():
        fence = _fence(str(text))
        out += [f"### {code(gid)}: {fx.t('contract_text').rstrip(':')}", "", f"{fence}text"] \
            + visible(str(text)).splitlines() + [fence, ""]
    # lines
    out += [f"## {fx.t('lines')}", "", fx.t("lines_note"), ""]
    out += _md_table([fx.t("line"), fx.t("date"), fx.t("payer"), fx.t("outcome"), fx.t("gross"), fx.t("after_goal_cap"),
                      fx.t("final"), fx.t("marks")] + [fx.t("to_party", party=r) for r in rec],
                     [[code(ln["id"]), fx.date(ln["date"]), code(ln.get("payer", "")), fx.num(ln["outcome"]), money(ln["gross"]),
                       money(ln["after_goal_cap"]), money(ln["amount"]), ", ".join(fx.t(k) for k in ("imputed", "cut") if ln.get(k))]
                      + [money((ln.get("split") or {}).get(r, "0.00")) for r in rec] for ln in doc.get("lines", [])]
                     + [[f"**{fx.t('total')}**", "", "", "", "", "", f"**{money(t.get('pool', '0'))}**", ""]
                        + [f"**{money(t.get('by_recipient', {}).get(r, '0.00'))}**" for r in rec]],
                     right=set(range(3, 7)) | set(range(8, 8 + len(rec))))
    out += [f"## {fx.t('trails')}", ""]
    for ln in doc.get("lines", []):
        out += [f"### {fx.t('line')} {code(ln['id'])}", ""]
        out += [f"- {esc(k)}: {v}" for k, v in line_facts(ln, doc, fx, mk)] + ["", f"{fx.t('trail')}:", ""]
        out += _md_steps(ln.get("trace", []), doc, fx, rule_text=False)
    # flags
    out += [f"## {fx.t('flags')}", "", fx.t("flags_note") if doc.get("flags") else fx.t("no_flags"), ""]
    for f in doc.get("flags", []):
        subj = f" ({code(f['subject'])})" if f.get("subject") else ""
        out += [f"### {esc(flag_title(f, fx))}", "", f"{code(f['id'])}{subj}, {esc(fx.clause(f.get('clause')))}", ""]
        out += [f"- {esc(key_label(k, fx))}: {esc(detail_value(k, v, fx))}" for k, v in (f.get("details") or {}).items()] + [""]
        out += _md_steps(f.get("trace", []), doc, fx, owner="flag")
    # exclusions and rows
    out += [f"## {fx.t('exclusions')}", "", fx.t("exclusions_note") if doc.get("exclusions") else fx.t("no_exclusions"), ""]
    if doc.get("exclusions"):
        out += _md_table([fx.t(k) for k in ("goal", "subject", "point", "reason", "detail")],
                         [[code(e.get("goal") or ""), code(e.get("subject") or ""), code(e["point"]) if e.get("point") else "",
                           esc(fx.code("reason", e.get("reason"))), exclusion_detail(e, fx, mk)] for e in doc["exclusions"]])
    out += [f"### {fx.t('rows_accounting')}", "", fx.t("rows_note"), ""]
    out += _md_table([fx.t(k) for k in ("file", "total", "used", "excluded")],
                     [[code(f), fx.count(r["total"]), fx.count(r["used"]), fx.count(r["excluded"])] for f, r in doc.get("rows", {}).items()],
                     right={1, 2, 3})
    if doc.get("row_exclusions"):
        out += [f"### {fx.t('row_exclusions')}", ""]
        out += _md_table([fx.t(k) for k in ("file", "line", "reason", "detail")],
                         [[code(r.get("file", "")), str(r.get("line", "")), esc(fx.code("reason", r.get("reason"))), exclusion_detail(r, fx, mk)]
                          for r in doc["row_exclusions"]], right={1})
    out += _md_reports(doc, fx)
    return "\n".join(out).rstrip("\n") + "\n"


def _md_results(doc, fx) -> list[str]:
    """The results against targets and the figures, each with its trail (only the parts the document has)."""
    mk = MARKDOWN
    metrics, figures = results(doc)
    out = []
    if metrics:
        cols = ("subjects", "count_met", "without_data", "share_rounded", "share_exact", "target", "against_target", "clause")
        out += [f"## {fx.t('metrics')}", "", mk.esc(fx.t("metrics_note")), ""]
        out += _md_table([fx.t("metric")] + [fx.t(k) for k in cols],
                         [[f"{mk.esc(m.get('title') or '')} ({mk.code(m.get('id', ''))})"]
                          + [mk.esc(metric_cells(m, fx)[k]) for k in cols] for m in metrics], right={1, 2, 3, 4, 5, 6})
        for m in metrics:
            out += [f"### {mk.code(m.get('id', ''))}: {mk.esc(fx.t('result_trail'))}", ""]
            out += _md_steps(m.get("trace", []), doc, fx, owner="metric")
    if figures:
        out += [f"## {fx.t('figures')}", "", mk.esc(fx.t("figures_note")), ""]
        out += _md_table([fx.t("figure"), fx.t("value"), fx.t("clause")],
                         [[f"{mk.esc(f.get('title') or '')} ({mk.code(f.get('id', ''))})", mk.esc(figure_value(f, fx)),
                           mk.esc(fx.clause(f.get("clause")))] for f in figures], right={1})
        for f in figures:
            out += [f"### {mk.code(f.get('id', ''))}: {mk.esc(fx.t('figure_trail'))}", ""]
            out += _md_steps(f.get("trace", []), doc, fx, owner="figure")
    return out


def _md_steps(steps, doc, fx, rule_text=True, owner=None) -> list[str]:
    out = []
    for i, step in enumerate(steps, 1):
        sentence, block = describe_step(step, doc, fx, MARKDOWN, rule_text=rule_text, owner=owner)
        out.append(f"{i}. {sentence}")
        if block:
            fence = _fence(str(block))
            out += ["", f"   {fx.t('contract_text')}", "", f"   {fence}text"] \
                + [f"   {b}" for b in visible(str(block)).splitlines()] + [f"   {fence}", ""]
    return out + [""]


def _md_reports(doc, fx) -> list[str]:
    sections = report_sections(doc)
    if not sections:
        return []
    out = [f"## {fx.t('reports')}", ""]
    for key, value in sections:
        out += [f"### {fx.t(key) if key in CATALOGUE else MARKDOWN.esc(key)}", ""]
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                out += _md_table(["", ""], [[MARKDOWN.esc(key_label(k, fx)), MARKDOWN.esc(detail_value(k, v, fx))] for k, v in item.items()])
            else:
                out += [MARKDOWN.esc(detail_value(key, item, fx)), ""]
    return out


# ---- xlsx -------------------------------------------------------------------------------------

SHEETS = {"summary": ("Oversigt", "Summary"), "metrics": ("Resultater", "Results"), "figures": ("Nøgletal", "Figures"),
          "goals": ("Mål", "Goals"), "lines": ("Linjer", "Lines"),
          "periods": ("Perioder", "Periods"), "flags": ("Flag", "Flags"), "exclusions": ("Udeladelser", "Exclusions"),
          "rows": ("Rækker", "Rows")}
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"


def sheet_name(key: str, lang: str) -> str:
    return SHEETS[key][0 if lang == "da" else 1]


def _xlsx(doc: dict, fx: Formatter) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.writer.excel import ExcelWriter

    bold, head_fill = Font(bold=True), PatternFill("solid", start_color="FFDCE3EA", end_color="FFDCE3EA")
    t, lang = doc.get("totals", {}), fx.lang
    as_of = dt.date.fromisoformat(doc["as_of"])
    wb = Workbook()
    wb.remove(wb.active)

    def money(v):
        """An amount as a number, or as its exact text when a spreadsheet number would round it."""
        d = to_decimal(v)
        return str(v) if len(d.as_tuple().digits) > SPREADSHEET_DIGITS else d

    def day(v):
        """A date as a date, or as its ISO text where a spreadsheet shows no date (before 1900-03-01)."""
        d = dt.date.fromisoformat(v) if isinstance(v, str) else v
        return d if SPREADSHEET_FIRST_DATE <= d <= SPREADSHEET_LAST_DATE else d.isoformat()

    def number(v):
        """A number when a spreadsheet keeps it exactly; else its full text (`"15.9420289855…"` stays as given)."""
        if not is_number(v) or str(v).endswith("…") or len(to_decimal(v).as_tuple().digits) > SPREADSHEET_DIGITS:
            return fx.value(v) if str(v) == "missing" else str(v)
        return to_decimal(v)

    def sheet(key, header, rows, kinds):
        """kinds: per column, one of text, money, rate (money, or the text of a price expression), num, date,
        count, int (no grouping), bool."""
        ws = wb.create_sheet(sheet_name(key, lang))
        ws.append(_cells(header))
        for cell in ws[1]:
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(vertical="top", wrap_text=False)
        for r in rows:
            out = []
            for v, kind in zip(r, kinds):
                if v is None or v == "":
                    out.append(None)
                elif kind == "money" or (kind == "rate" and is_number(v)):
                    out.append(money(v))
                elif kind == "num":   # a value a spreadsheet cannot hold exactly stays text
                    out.append(number(v))
                elif kind == "date":
                    out.append(day(v))
                elif kind in ("count", "int"):
                    out.append(int(v))
                else:
                    out.append(v)
            ws.append(_cells(out))
        for row in ws.iter_rows(min_row=2):
            for cell, kind in zip(row, kinds):
                if kind in ("money", "rate") and isinstance(cell.value, Decimal):
                    cell.number_format = MONEY_FORMAT
                elif kind == "date":
                    cell.number_format = DATE_FORMAT
                elif kind == "count":
                    cell.number_format = "#,##0"
                elif kind == "int":
                    cell.number_format = "0"
        ws.freeze_panes = "A2"
        for i, col in enumerate(ws.iter_cols(), 1):
            width = max(len(_xlsx_text(c.value)) for c in col)
            ws.column_dimensions[col[0].column_letter].width = min(60, max(8, width + 2))
        return ws

    # Summary
    ws = wb.create_sheet(sheet_name("summary", lang))
    c, eng, inputs = doc.get("contract", {}), doc.get("engine", {}), doc.get("inputs", {})
    rows = [[f"{fx.t('settlement')}: {c.get('title') or ''}"], [],
            [fx.t("as_of"), day(as_of)], [fx.t("engine"), f"{eng.get('name', '')} {eng.get('version', '')}"],
            [fx.t("contract_file"), inputs.get("contract", {}).get("path", ""), None, inputs.get("contract", {}).get("sha256", "")]]
    rows += [[fx.t("ledger_file"), f["file"], f.get("rows"), f.get("sha256", "")] for f in inputs.get("ledger", [])]
    rows += [[], [fx.t("pool"), None, money(t.get("pool", "0"))], []]
    rows += [[fx.t("by_payer"), p, money(t["by_payer"][p])] for p in payers(doc)]
    rows += [[fx.t("by_recipient"), p, money(t["by_recipient"][p])] for p in recipients(doc)]
    if doc.get("return_cap"):
        rc = doc["return_cap"]
        rows += [[], [f"{fx.t('return_cap')} {rc.get('payer')}", fx.clause(rc.get("clause")), money(rc["limit"])],
                 [f"{fx.t('return_cap')}: {fx.t('cut')}", None, money(t.get("return_cap_cut", "0"))]]
    rows += [[]] + [[f"{fx.t('tranche')} {tr.get('number')}", "; ".join(f"{p} {fx.pct(v)}" for p, v in (tr.get('shares') or {}).items()),
                     money(tr["until"]) if tr.get("until") is not None else None] for tr in doc.get("tranches", [])]
    for r in rows:
        ws.append(_cells(r))
    ws["A1"].font = Font(bold=True, size=14)
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, Decimal):
                cell.number_format = MONEY_FORMAT
            elif isinstance(cell.value, dt.date):
                cell.number_format = DATE_FORMAT
    for letter, width in zip("ABCD", (34, 34, 18, 66)):
        ws.column_dimensions[letter].width = width

    metrics, figures = results(doc)
    if metrics:
        sheet("metrics", [fx.t(k) for k in ("metric", "title", "subjects", "count_met", "without_data", "share_rounded",
                                            "share_exact", "target")] + [key_label("gap_pp", fx), key_label("met", fx)]
              + [fx.t(k) for k in ("against_target", "clause")],
              [[m.get("id"), m.get("title") or "", m.get("subjects"), m.get("count"), m.get("missing"), m.get("share_rounded"),
                m.get("share"), m.get("target"), m.get("gap_pp"), fx.value(m["met"]) if "met" in m else None,
                metric_status(m, fx), fx.clause(m.get("clause"))] for m in metrics],
              ["text", "text", "count", "count", "count", "num", "num", "num", "num", "text", "text", "text"])
    if figures:
        sheet("figures", [fx.t(k) for k in ("figure", "title", "value", "clause")],
              [[f.get("id"), f.get("title") or "", f.get("value"), fx.clause(f.get("clause"))] for f in figures],
              ["text", "text", "num", "text"])
    goals = doc.get("goals", [])
    # caps per year or per subject get a column each, only when a goal has one
    pers = list(dict.fromkeys(c["per"] for g in goals for c in g.get("caps") or [] if c.get("per")))

    def per_cap(g, per):
        limits = [c["limit"] for c in g.get("caps") or [] if c.get("per") == per]
        return limits[0] if len(limits) == 1 else "; ".join(fx.money(v) for v in limits)

    sheet("goals", [fx.t(k) for k in ("goal", "title", "payer", "rate", "per")] + [fx.t("cap")]
          + [fx.t("caps_per", per=cap_per(per, fx)) for per in pers] + [fx.t("goal_amount"),
                                                                     fx.t("goal_cap_cut"), fx.t("imputed_count"), fx.t("clause")],
          [[g["id"], (g.get("title") or ""), g.get("payer", ""), g.get("rate"), fx.code("per", g.get("per")), g.get("cap")]
           + [per_cap(g, per) for per in pers]
           + [t.get("goals", {}).get(g["id"], "0"), t.get("goal_cap_cut", {}).get(g["id"], "0"), t.get("imputed", {}).get(g["id"], 0),
              fx.clause(g.get("clause"))] for g in goals],
          ["text", "text", "text", "rate", "text", "money"] + ["rate"] * len(pers) + ["money", "money", "count", "text"])
    rec = recipients(doc)
    lines = doc.get("lines", [])
    ws = sheet("lines", [fx.t(k) for k in ("line", "goal", "subject", "point", "date", "period", "payer", "outcome", "gross",
                                          "after_goal_cap", "final")] + [fx.t("imputed").capitalize(), fx.t("cut").capitalize()]
               + [fx.t("to_party", party=r) for r in rec],
               [[ln["id"], ln.get("goal"), ln.get("subject"), ln.get("point"), ln["date"], ln.get("period"), ln.get("payer"),
                 ln["outcome"], ln["gross"], ln["after_goal_cap"], ln["amount"], bool(ln.get("imputed")), bool(ln.get("cut"))]
                + [(ln.get("split") or {}).get(r, "0.00") for r in rec] for ln in lines]
               + [[fx.t("total")] + [None] * 9 + [t.get("pool", "0"), None, None] + [t.get("by_recipient", {}).get(r, "0.00") for r in rec]],
               ["text"] * 4 + ["date", "text", "text", "num", "money", "money", "money", "bool", "bool"] + ["money"] * len(rec))
    for cell in ws[ws.max_row]:
        cell.font = bold
    ws.auto_filter.ref = f"A1:{ws.cell(row=len(lines) + 1, column=ws.max_column).coordinate}"
    pay = payers(doc)
    sheet("periods", [fx.t(k) for k in ("period", "from", "to", "due", "amount")] + [g["id"] for g in goals]
          + [f"{fx.t('payer')} {p}" for p in pay] + [fx.t("to_party", party=r) for r in rec] + [fx.t("cumulative")],
          [[p["period"], p["start"], p["end"], p["due"], p["amount"]] + [p.get("by_goal", {}).get(g["id"], "0.00") for g in goals]
           + [p.get("by_payer", {}).get(q, "0.00") for q in pay] + [p.get("by_recipient", {}).get(r, "0.00") for r in rec] + [p["cumulative"]]
           for p in doc.get("periods", [])],
          ["text", "date", "date", "date", "money"] + ["money"] * (len(goals) + len(pay) + len(rec) + 1))
    sheet("flags", [fx.t(k) for k in ("flag", "title", "clause", "subject", "details")],
          [[f.get("id"), flag_title(f, fx), fx.clause(f.get("clause")), f.get("subject") or "",
            "; ".join(f"{key_label(k, fx)}: {detail_value(k, v, fx)}" for k, v in (f.get("details") or {}).items())] for f in doc.get("flags", [])],
          ["text"] * 5)
    sheet("exclusions", [fx.t(k) for k in ("goal", "subject", "point", "reason", "detail")],
          [[e.get("goal") or "", e.get("subject") or "", e.get("point") or "", fx.code("reason", e.get("reason")), exclusion_detail(e, fx)]
           for e in doc.get("exclusions", [])], ["text"] * 5)
    ws = sheet("rows", [fx.t(k) for k in ("file", "total", "used", "excluded", "line", "reason", "detail")],
               [[f, r["total"], r["used"], r["excluded"], None, None, None] for f, r in doc.get("rows", {}).items()]
               + [[r.get("file"), None, None, None, r.get("line"), fx.code("reason", r.get("reason")), exclusion_detail(r, fx)]
                  for r in doc.get("row_exclusions", [])],
               ["text", "count", "count", "count", "int", "text", "text"])

    _text_cells(wb)
    stamp = dt.datetime.combine(as_of, dt.time())
    props = wb.properties
    props.creator = f"{eng.get('name', 'contractlang')} {eng.get('version', '')}".strip()
    props.title = f"{fx.t('settlement')}: {c.get('title') or ''}"
    props.language = fx.locale.replace("_", "-")
    props.created = props.modified = stamp
    props.lastModifiedBy = None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()   # not save_workbook(): that stamps `modified` with the clock
    return _fixed_zip(buf.getvalue(), stamp)


def _cells(row) -> list:
    """A row's values as a spreadsheet can hold them: control characters shown as `\\x01` (openpyxl refuses
    them), and no text longer than a cell holds (cut, saying so; the JSON settlement keeps it whole)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    out = []
    for v in row:
        if isinstance(v, str):
            v = ILLEGAL_CHARACTERS_RE.sub(lambda mo: f"\\x{ord(mo.group()):02x}", v)
            if len(v) > SPREADSHEET_CELL_CHARS:
                cut = len(v) - SPREADSHEET_CELL_CHARS + 80
                v = v[:len(v) - cut] + f" … [{cut:,} characters cut; the JSON settlement holds them all]"
        out.append(v)
    return out


def _text_cells(wb) -> None:
    """Every text an explicit string cell, never a formula: `=HYPERLINK(…)` in a title or a ledger id stays
    text (OWASP's advice on formula injection)."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"


def _xlsx_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return f"{v:,.2f}"
    return str(v)


def _fixed_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Rewrite a zip with every entry dated `stamp`, so equal content gives equal bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.create_system = 3
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# ---- entry point ----------------------------------------------------------------------------

def render(doc: dict, fmt: str, lang: str) -> str | bytes:
    """Render a settlement document as `md`, `html`, `text` (str) or `xlsx` (bytes), in `da` or `en`."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    doc = canonical(doc)
    fx = formatter(doc, lang)
    if fmt == "md":
        return _md(doc, fx)
    if fmt == "text":
        return _text(doc, fx)
    if fmt == "xlsx":
        return _xlsx(doc, fx)
    return render_html(doc, fx)
