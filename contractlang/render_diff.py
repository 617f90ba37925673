"""render_diff: what changed between two settlements (`diff.diff`), as text, Markdown or HTML, English or Danish.

A report of a diff is a few sections of sentences and tables — the inputs that changed, how many lines moved and
why, the totals per goal, period, payer and recipient, and the lines with their causes — built once (`_blocks`)
and written by one small writer per format. Every cause kind of `diff.CAUSE_KINDS` has one sentence here, in
both languages; a report never computes, it only shows what the diff holds.
"""

from __future__ import annotations

import html
from collections import Counter

from .diff import CAUSE_KINDS
from .i18n import Formatter, is_number
from .markup import MARKDOWN, REPORT_ROWS, visible
from .render_html import CSS

#: A section of the report: ("h2", title) | ("p", text) | ("table", header, rows, right-aligned columns) |
#: ("lines", [(line id, what happened to it, [its causes])]).
Block = tuple


def render_diff(d: dict, fmt: str, lang: str, rows: int | None = REPORT_ROWS) -> str:
    """The diff `d` (the JSON `contractlang diff` writes) as `text`, `md` or `html` in `da` or `en`; its lines are
    listed one by one up to `rows` of them (None: all), else counted by goal and cause."""
    fx = Formatter(lang, currency=d.get("currency") or "DKK")
    blocks = _blocks(d, fx, rows)
    title = fx.t("diff_title")
    return {"text": _text, "md": _md, "html": _html}[fmt](title, blocks, fx)


def _blocks(d: dict, fx: Formatter, rows: int | None) -> list[Block]:
    inputs, summary, totals = d["inputs"], d["summary"], d["totals"]
    out: list[Block] = [("h2", fx.t("diff_inputs"))]
    table = [[fx.t("as_of"), fx.date(inputs["as_of"]["old"]), fx.date(inputs["as_of"]["new"])]]
    known = inputs.get("known_as_of") or {}
    if known.get("old") or known.get("new"):
        table.append([fx.t("known_as_of"), fx.date(known["old"]) if known.get("old") else "–",
                      fx.date(known["new"]) if known.get("new") else "–"])
    contract = inputs["contract"]
    table.append([fx.t("contract_file"), f"{contract['old_path']} ({contract['old_sha256'][:12]})",
                  f"{contract['new_path']} ({contract['new_sha256'][:12]})"])
    for f in inputs["ledger"]:
        table.append([f["file"], _file(f, "old", fx), _file(f, "new", fx)])
    out.append(("table", ["", fx.t("diff_old"), fx.t("diff_new")], table, set()))
    lines = summary["lines"]
    out += [("h2", fx.t("summary")),
            ("p", fx.t("diff_summary", appeared=fx.count(lines["appeared"]), vanished=fx.count(lines["vanished"]),
                       changed=fx.count(lines["changed"]), unchanged=fx.count(lines["unchanged"])))]
    if summary["causes"]:
        out.append(("table", [fx.t("diff_cause"), fx.t("lines")],
                    [[fx.t(f"cause_kind.{k}"), fx.count(n)] for k, n in sorted(summary["causes"].items(),
                                                                             key=lambda kv: CAUSE_KINDS.index(kv[0]))],
                    {1}))
    out.append(("h2", fx.t("diff_totals")))
    money = fx.money
    header = ["", fx.t("diff_old"), fx.t("diff_new"), fx.t("diff_change")]
    pool = totals["pool"]
    out.append(("table", header, [[fx.t("pool"), money(pool["old"]), money(pool["new"]), money(pool["delta"])]],
                {1, 2, 3}))
    for key, name, show in (("goals_paid", "diff_by_goal", str), ("periods", "periods", fx.period),
                            ("payers", "by_payer", str), ("recipients", "by_recipient", str)):
        out += [("p", fx.t(name)),
                ("table", header, [[show(k), money(v["old"]), money(v["new"]), money(v["delta"])]
                                   for k, v in totals[key].items()], {1, 2, 3})]
    out.append(("h2", fx.t("diff_lines")))
    changed = d["lines"]
    if rows is not None and len(changed) > rows:
        grouped = Counter((ln["goal"], ln["change"], ln["causes"][0]["kind"]) for ln in changed)
        out += [("p", fx.t("diff_lines_counted", n=fx.count(len(changed)), rows=fx.count(rows))),
                ("table", [fx.t("goal"), fx.t("diff_change_kind"), fx.t("diff_cause"), fx.t("lines")],
                 [[g, fx.t(f"change.{c}"), fx.t(f"cause_kind.{k}"), fx.count(n)]
                  for (g, c, k), n in sorted(grouped.items())], {3})]
    elif changed:
        out.append(("lines", [(ln["id"], fx.t("diff_line", change=fx.t(f"change.{ln['change']}"),
                                            old=money(ln["old"]) if ln["old"] is not None else "–",
                                            new=money(ln["new"]) if ln["new"] is not None else "–",
                                            delta=money(ln["delta"])),
                               [cause_text(c, fx) for c in ln["causes"]]) for ln in changed]))
    else:
        out.append(("p", fx.t("diff_no_lines")))
    return out


def _file(f: dict, side: str, fx: Formatter) -> str:
    sha = f.get(f"{side}_sha256")
    if sha is None:
        return "–"
    return f"{fx.count(f.get(f'{side}_rows') or 0)} {fx.t('rows').lower()} ({sha[:12]})"


def _v(value, fx: Formatter) -> str:
    """A value of a trail: a number shortened for reading (`≈0,2396`), anything else as it is."""
    if value is None:
        return "–"
    return fx.short(value)[0] if is_number(value) else str(value)


def _cut(side: dict | None, fx: Formatter) -> str:
    return fx.money(side["cut"]) if side else "–"


def _rows(rows: list[dict]) -> str:
    return ", ".join(f"{r['file']}:{r['line']}" for r in rows)


def cause_text(c: dict, fx: Formatter) -> str:
    """One cause of a changed line in words."""
    k = c["kind"]
    v = lambda x: _v(x, fx)  # noqa: E731
    if k in ("now_due", "no_longer_due"):
        return fx.t(f"cause.{k}", date=fx.date(c["date"]), old=fx.date(c["old_as_of"]), new=fx.date(c["new_as_of"]))
    if k in ("now_counted", "no_longer_counted"):
        return fx.t(f"cause.{k}", reason=fx.code("reason", c["reason"]))
    if k in ("new_subject", "subject_gone", "subject"):
        return fx.t(f"cause.{k}", subject=c["subject"])
    if k in ("new_rows", "rows_gone"):
        return fx.t(f"cause.{k}", rows=_rows(c["rows"]))
    if k == "row_changed":
        return fx.t("cause.row_changed", file=c["file"], line=c["new_line"], measure=c["measure"], subject=c["subject"],
                    point=c["point"], old=v(c["old_value"]), new=v(c["new_value"]))
    if k in ("late_observation", "row_withdrawn"):
        return fx.t(f"cause.{k}", file=c["file"], line=c["line"], measure=c["measure"], subject=c["subject"],
                    point=c["point"], value=v(c["value"]))
    if k == "date_moved":
        return fx.t("cause.date_moved", old=fx.date(c["old_date"]), new=fx.date(c["new_date"]))
    if k == "payer":
        return fx.t("cause.payer", old=c["old"], new=c["new"])
    if k == "rate":
        return fx.t("cause.rate", old=fx.money(c["old"]), new=fx.money(c["new"]), per=fx.code("per", c["per"]))
    if k == "tier":
        return fx.t("cause.tier", goal=c["goal"], before=v(c["new_units_before"]), old=v(c["old_units_before"]))
    if k == "replaced":
        return fx.t("cause.replaced", goal=c["goal"], new=fx.money(c["new_paid"]), old=fx.money(c["old_paid"]))
    if k == "imputation_mean":
        return fx.t("cause.imputation_mean", point=c["point"], old=v(c["old_mean"]), new=v(c["new_mean"]),
                    old_n=fx.count(c["old_observations"] or 0), new_n=fx.count(c["new_observations"] or 0))
    if k in ("group_mean", "aggregate"):
        return fx.t(f"cause.{k}", name=c.get("name") or f"{c.get('func')}({c.get('measure')})",
                    old=v(c["old_value"]), new=v(c["new_value"]))
    if k == "outcome":
        return fx.t("cause.outcome", old=v(c["old"]), new=v(c["new"]))
    if k == "rounding":
        return fx.t("cause.rounding", rule=c["rule"])
    if k == "goal_cap":
        return fx.t("cause.goal_cap", cap=c["cap"], old=_cut(c["old"], fx), new=_cut(c["new"], fx))
    if k == "return_cap":
        return fx.t("cause.return_cap", old=_cut(c["old"], fx), new=_cut(c["new"], fx))
    if k == "tranche":
        return fx.t("cause.tranche", old=fx.money((c["old"] or {}).get("pool_before") or 0),
                    new=fx.money((c["new"] or {}).get("pool_before") or 0))
    if k == "rule":
        return fx.t("cause.rule", goal=c["goal"])
    if k == "contract":
        return fx.t("cause.contract")
    return fx.t("cause.unexplained", fields=", ".join(c.get("fields") or ()))


# ---- the writers ----------------------------------------------------------------------------------------------

def _text(title: str, blocks: list[Block], fx: Formatter) -> str:
    from .render import _columns

    out = [title, "=" * len(title)]
    for b in blocks:
        if b[0] == "h2":
            out += ["", b[1], "-" * len(b[1])]
        elif b[0] == "p":
            out += [b[1]]
        elif b[0] == "lines":
            for line, what, causes in b[1]:
                out += [f"{line}: {what}"] + [f"  - {c}" for c in causes]
        else:
            out += _columns(b[1], b[2], right=b[3]) + [""]
    return visible("\n".join(out)).rstrip("\n") + "\n"


def _md(title: str, blocks: list[Block], fx: Formatter) -> str:
    from .render import _md_table

    esc = MARKDOWN.esc
    out = [f"# {esc(title)}", ""]
    for b in blocks:
        if b[0] == "h2":
            out += [f"## {esc(b[1])}", ""]
        elif b[0] == "p":
            out += [esc(b[1]), ""]
        elif b[0] == "lines":
            for line, what, causes in b[1]:
                out += [f"- {MARKDOWN.code(line)}: {esc(what)}"] + [f"  - {esc(c)}" for c in causes]
            out.append("")
        else:
            out += _md_table([esc(h) for h in b[1]], [[esc(c) for c in r] for r in b[2]], right=b[3])
    return "\n".join(out).rstrip("\n") + "\n"


def _html(title: str, blocks: list[Block], fx: Formatter) -> str:
    from .render_html import _table

    esc = html.escape
    out = ["<!DOCTYPE html>", f'<html lang="{fx.lang}">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<title>{esc(title)}</title>",
           f"<style>{CSS}</style>", "</head>", "<body>", "<main>", f"<h1>{esc(title)}</h1>"]
    for b in blocks:
        if b[0] == "h2":
            out.append(f"<h2>{esc(b[1])}</h2>")
        elif b[0] == "p":
            out.append(f"<p>{esc(b[1])}</p>")
        elif b[0] == "lines":
            out += ['<ul class="changes">'] + [
                f"<li><code>{esc(line)}</code>: {esc(what)}<ul>{''.join(f'<li>{esc(c)}</li>' for c in causes)}</ul></li>"
                for line, what, causes in b[1]] + ["</ul>"]
        else:
            out.append(_table([esc(h) for h in b[1]], [[esc(c) for c in r] for r in b[2]], right=b[3]))
    return "\n".join(out + ["</main>", "</body>", "</html>"]) + "\n"
