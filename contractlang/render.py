"""Render a settlement document (docs/settlement-json.md) for people.

A report never computes: it only puts the engine's numbers into words,
tables and charts, in Danish or English. Formats: `md`, `html` (`render_html`), `xlsx`
(bytes, `render_xlsx`) and `text` (a compact terminal summary); `render_line` gives one
line's audit trail for `contractlang explain`, `render_result` one result's
(metric's) or figure's. The same document always renders to the same bytes:
nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import difflib
from decimal import Decimal

from .explain import line_id_parts
from .narrate import describe_step
from .render_html import render_html
from .render_xlsx import render_xlsx
from .markup import (HTML, MARKDOWN, Html, Markdown, _fence, ordered_parties, payers, recipients,  # noqa: F401
                     ACCOUNT_MONEY, REPORT_ROWS, account_rule, account_table, counted, line_groups, line_groups_total, listed, report_sections, result_facts, visible)
from .i18n import (CATALOGUE, PLAIN, Formatter, caps_text, detail_value, exclusion_detail, figure_value, flag_title,
                   goal_texts, goals_by_id, key_label, line_facts, metric_cells, party_name, rate_text, results,
                   margin_sentences, return_cap_sentence, titled)

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


def render_adjustment(doc: dict, adjustment_id: str, lang: str) -> str:
    """One adjustment of the settlement's account as text: its period, parties and amounts, then its trail."""
    fx = formatter(doc, lang)
    a = next(x for x in doc["account"]["adjustments"] if x["id"] == adjustment_id)
    row = next(p for p in doc["account"]["periods"]
               if (p["period"], p["payer"], p["recipient"]) == (a["period"], a["payer"], a["recipient"]))
    head = fx.t("adjustment_head", id=a["id"])
    facts = [(fx.t(k), fx.money(row[k])) for k in ("entitlement", "paid", "to_pay", "unsettled")]
    facts = [(fx.t("period"), fx.period(a["period"])), (fx.t("payer"), a["payer"]), (fx.t("recipient"), a["recipient"]),
             (fx.t("due"), fx.date(row["due"])), *facts,
             (fx.t("status"), fx.t(f"status.{row['status']}", date=fx.date(row["date"]) if row.get("date") else ""))]
    width = max(len(k) for k, _ in facts)
    out = [head, "=" * len(head), *(f"{k.ljust(width)}  {v}" for k, v in facts), "", fx.t("trail") + ":"]
    out += _numbered(a["trace"], _lite(doc), fx)
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
    out += [f"  {x}" for x in margin_sentences(doc, fx, PLAIN)] + ([""] if doc.get("margins") else [])
    out += _columns([fx.t("period"), fx.t("due"), fx.t("amount"), fx.t("cumulative")],
                    [[fx.period(p["period"]), fx.date(p["due"]), fx.money(p["amount"]), fx.money(p["cumulative"])]
                     for p in doc.get("periods", [])], right={2, 3})
    if doc.get("account"):
        header, rows, total = account_table(doc, fx, PLAIN)
        out += ["", fx.t("account"), "-" * len(fx.t("account")), fx.t("account_note", rule=account_rule(doc, fx))]
        out += _columns(header, rows + [total], right=ACCOUNT_MONEY) + _later(doc, fx)
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


def _md(doc: dict, fx: Formatter, rows: int | None = REPORT_ROWS) -> str:
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
    if doc.get("margins"):
        out += [f"### {fx.t('margins')}", ""] + [f"- {x}" for x in margin_sentences(doc, fx, mk)] + [""]
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
    if doc.get("account"):
        out += _md_account(doc, fx)
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
    out += _md_line_groups(doc, fx)
    # flags
    out += [f"## {fx.t('flags')}", "", fx.t("flags_note") if doc.get("flags") else fx.t("no_flags"), ""]
    for f in doc.get("flags", []):
        subj = f" ({code(f['subject'])})" if f.get("subject") else ""
        out += [f"### {esc(flag_title(f, fx))}", "", f"{code(f['id'])}{subj}, {esc(fx.clause(f.get('clause')))}", ""]
        out += [f"- {esc(key_label(k, fx))}: {esc(detail_value(k, v, fx))}" for k, v in (f.get("details") or {}).items()] + [""]
        out += _md_steps(f.get("trace", []), doc, fx, owner="flag")
    # exclusions and rows
    out += [f"## {fx.t('exclusions')}", "", fx.t("exclusions_note") if doc.get("exclusions") else fx.t("no_exclusions"), ""]
    if doc.get("exclusions") and listed(doc, "exclusions", rows):
        out += _md_table([fx.t(k) for k in ("goal", "subject", "point", "reason", "detail")],
                         [[code(e.get("goal") or ""), code(e.get("subject") or ""), code(e["point"]) if e.get("point") else "",
                           esc(fx.code("reason", e.get("reason"))), exclusion_detail(e, fx, mk)] for e in doc["exclusions"]])
    elif doc.get("exclusions"):
        out += [esc(fx.t("too_many_records", count=fx.count(len(doc["exclusions"])), what=fx.t("what_exclusions"))), ""]
        out += _md_table([fx.t(k) for k in ("goal", "reason", "count")],
                         [[code(goal), esc(fx.code("reason", reason)), fx.count(n)]
                          for (goal, reason), n in counted(doc["exclusions"], "goal", "reason")], right={2})
    out += [f"### {fx.t('rows_accounting')}", "", fx.t("rows_note"), ""]
    out += _md_table([fx.t(k) for k in ("file", "total", "used", "excluded")],
                     [[code(f), fx.count(r["total"]), fx.count(r["used"]), fx.count(r["excluded"])] for f, r in doc.get("rows", {}).items()],
                     right={1, 2, 3})
    if doc.get("row_exclusions") and listed(doc, "row_exclusions", rows):
        out += [f"### {fx.t('row_exclusions')}", ""]
        out += _md_table([fx.t(k) for k in ("file", "line", "reason", "detail")],
                         [[code(r.get("file", "")), str(r.get("line", "")), esc(fx.code("reason", r.get("reason"))), exclusion_detail(r, fx, mk)]
                          for r in doc["row_exclusions"]], right={1})
    elif doc.get("row_exclusions"):
        out += [f"### {fx.t('row_exclusions')}", "",
                esc(fx.t("too_many_records", count=fx.count(len(doc["row_exclusions"])), what=fx.t("what_row_exclusions"))), ""]
        out += _md_table([fx.t(k) for k in ("file", "reason", "count")],
                         [[code(file), esc(fx.code("reason", reason)), fx.count(n)]
                          for (file, reason), n in counted(doc["row_exclusions"], "file", "reason")], right={2})
    out += _md_reports(doc, fx)
    out += _md_lines(doc, fx, rows)
    return "\n".join(out).rstrip("\n") + "\n"


def _later(doc: dict, fx: Formatter) -> list[str]:
    """A sentence on the payments made after the settlement date, if any (they are in the JSON's account)."""
    later = doc["account"]["later"]
    return [fx.t("account_later", n=fx.count(len(later))), ""] if later else [""]


def _md_account(doc: dict, fx: Formatter) -> list[str]:
    """The account (payments made, what is to be paid now) and each adjustment with its trail."""
    mk = MARKDOWN
    header, rows, total = account_table(doc, fx, mk)
    out = [f"### {fx.t('account')}", "", mk.esc(fx.t("account_note", rule=account_rule(doc, fx))), ""]
    out += _md_table(header, rows + [[f"**{c}**" if c else "" for c in total]], right=ACCOUNT_MONEY)
    out += _later(doc, fx)
    adjustments = doc["account"]["adjustments"]
    if adjustments:
        out += [f"### {fx.t('adjustments')}", ""]
    for a in adjustments:
        out += [f"#### {mk.code(a['id'])}", ""] + _md_steps(a["trace"], doc, fx)
    return out


def _md_line_groups(doc: dict, fx: Formatter) -> list[str]:
    """The lines summed by goal and period: what a board reads instead of thousands of lines."""
    mk, money, goals, groups = MARKDOWN, fx.money, goals_by_id(doc), line_groups(doc)
    sums = line_groups_total(groups)
    out = [f"## {fx.t('lines_by_goal')}", "", fx.t("lines_by_goal_note"), ""]
    return out + _md_table(
        [fx.t(k) for k in ("goal", "period", "line_count", "imputed_count", "cut_count", "gross", "final")],
        [[titled(goals, g["goal"], mk), fx.period(g["period"]),
          fx.count(g["lines"]), fx.count(g["imputed"]), fx.count(g["cut"]), money(g["gross"]), money(g["amount"])]
         for g in groups]
        + [[f"**{fx.t('total')}**", "", f"**{fx.count(sums['lines'])}**", f"**{fx.count(sums['imputed'])}**",
            f"**{fx.count(sums['cut'])}**", f"**{money(sums['gross'])}**",
            f"**{money(doc.get('totals', {}).get('pool', '0'))}**"]], right={2, 3, 4, 5, 6})


def _md_lines(doc: dict, fx: Formatter, rows: int | None) -> list[str]:
    """The appendix of lines: each line with its trail, or, for more than a report lists, where they are."""
    mk, money, t, rec = MARKDOWN, fx.money, doc.get("totals", {}), recipients(doc)
    esc, code = mk.esc, mk.code
    out = [f"## {fx.t('appendix')}: {fx.t('lines')}", ""]
    if not listed(doc, "lines", rows):
        return out + [esc(fx.t("too_many", count=fx.count(len(doc["lines"])), what=fx.t("what_lines"))), ""]
    out += [fx.t("lines_note"), ""]
    out += _md_table([fx.t("line"), fx.t("date"), fx.t("payer"), fx.t("outcome"), fx.t("gross"), fx.t("after_goal_cap"),
                      fx.t("final"), fx.t("marks")] + [fx.t("to_party", party=r) for r in rec],
                     [[code(ln["id"]), fx.date(ln["date"]), code(ln.get("payer", "")), fx.short(ln["outcome"])[0],
                       money(ln["gross"]), money(ln["after_goal_cap"]), money(ln["amount"]),
                       ", ".join(fx.t(k) for k in ("imputed", "cut") if ln.get(k))]
                      + [money((ln.get("split") or {}).get(r, "0.00")) for r in rec] for ln in doc.get("lines", [])]
                     + [[f"**{fx.t('total')}**", "", "", "", "", "", f"**{money(t.get('pool', '0'))}**", ""]
                        + [f"**{money(t.get('by_recipient', {}).get(r, '0.00'))}**" for r in rec]],
                     right=set(range(3, 7)) | set(range(8, 8 + len(rec))))
    out += [f"### {fx.t('trails')}", ""]
    for ln in doc.get("lines", []):
        out += [f"#### {fx.t('line')} {code(ln['id'])}", ""]
        out += [f"- {esc(k)}: {v}" for k, v in line_facts(ln, doc, fx, mk)] + ["", f"{fx.t('trail')}:", ""]
        out += _md_steps(ln.get("trace", []), doc, fx, rule_text=False)
    return out


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


# ---- entry point ----------------------------------------------------------------------------

def render(doc: dict, fmt: str, lang: str, rows: int | None = REPORT_ROWS) -> str | bytes:
    """Render a settlement document as `md`, `html`, `text` (str) or `xlsx` (bytes), in `da` or `en`.

    `md` and `html` list the lines (with their trails), the exclusions and the excluded rows one by one when
    there are at most `rows` of each (None: always), and show them grouped and counted otherwise."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    doc = canonical(doc)
    fx = formatter(doc, lang)
    if fmt == "md":
        return _md(doc, fx, rows)
    if fmt == "text":
        return _text(doc, fx)
    if fmt == "xlsx":
        return render_xlsx(doc, fx)
    return render_html(doc, fx, rows)
