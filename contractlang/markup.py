"""What every report shares: text marked up safely (Markdown, HTML; nothing from the input acts on
the reader), and the parts of a settlement document the formats show alike (the parties in their
order, the report sections, a result's or figure's facts). `render` and `render_html` both read
these; neither reads the other's internals.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from decimal import Decimal

from .i18n import Formatter, Plain, figure_value, metric_cells

#: A report lists lines, exclusions and excluded rows one by one (lines with their trails) up to this many
#: of each; beyond it, it shows them grouped and counted, and points to the spreadsheet (`--format xlsx`),
#: the line table (`--format csv`) and `contractlang explain`, which hold and explain every one. A report
#: is read by people: thousands of rows are for a spreadsheet, not for a board.
REPORT_ROWS = 1_000

#: Characters a terminal or a Markdown viewer would act on rather than show: C0 and C1 controls
#: (escape sequences), and the bidirectional overrides that reorder what a reader sees.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_BACKTICKS = re.compile("`+")


def visible(s: str) -> str:
    """`s` with every control character shown as an escape (`\\x1b`), so no text from the input acts on the reader."""
    return _CONTROLS.sub(lambda mo: f"\\x{ord(mo.group()):02x}" if ord(mo.group()) < 0x100 else f"\\u{ord(mo.group()):04x}", s)


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so the text cannot close it (CommonMark 4.5)."""
    return "`" * max(3, 1 + max((len(run) for run in _BACKTICKS.findall(text)), default=0))


class Markdown(Plain):
    """Markdown: identifiers and expressions in code spans; nothing from the input becomes markup or HTML."""

    @staticmethod
    def esc(s: str) -> str:
        s = visible(str(s)).replace("\r", " ").replace("\n", " ")
        s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # read as text by every Markdown
        for ch in "\\`*_[]|":
            s = s.replace(ch, "\\" + ch)
        return s

    @staticmethod
    def tpl(s: str) -> str:
        return s

    @staticmethod
    def code(s: str) -> str:
        """A code span whose fence is longer than any run of backticks inside it (CommonMark 6.1)."""
        s = visible(str(s)).replace("\r", " ").replace("\n", " ")
        longest = max((len(run) for run in _BACKTICKS.findall(s)), default=0)
        fence = "`" * (longest + 1)
        if s.startswith("`") or s.endswith("`"):
            s = f" {s} "
        return f"{fence}{s}{fence}"   # a `|` inside a table cell is escaped by the table writer


class Html(Plain):
    """HTML: everything escaped, identifiers in `<code>`."""

    @staticmethod
    def esc(s: str) -> str:
        return html.escape(s)

    tpl = esc

    @staticmethod
    def code(s: str) -> str:
        return f"<code>{html.escape(s)}</code>"


MARKDOWN, HTML = Markdown(), Html()


def ordered_parties(doc: dict, ids) -> list[str]:
    """Party ids in the document's party order, unknown ones after, each once."""
    ids = list(dict.fromkeys(ids))
    known = [p for p in doc.get("parties", {}) if p in ids]
    return known + [p for p in ids if p not in known]


def recipients(doc: dict) -> list[str]:
    """The parties the pool is paid to, in party order."""
    return ordered_parties(doc, doc.get("totals", {}).get("by_recipient", {}))


def payers(doc: dict) -> list[str]:
    """The parties that pay, in party order."""
    return ordered_parties(doc, doc.get("totals", {}).get("by_payer", {}))


def report_sections(doc: dict) -> list[tuple[str, object]]:
    """The rest of the `reports` block as (catalogue key or raw name, value) pairs, skipping empty parts.

    Metrics and figures have sections of their own after the summary (`results`).
    """
    rep = doc.get("reports") or {}
    return [(k, v) for k, v in rep.items() if k not in ("metrics", "figures") and v not in (None, [], {})]


def result_facts(owner: str, item: dict, fx: Formatter) -> list[tuple[str, str]]:
    """The headline facts of a result (metric) or a figure as plain (label, value) pairs."""
    if owner == "figure":
        return [(fx.t("figure"), f"{item.get('id')} ({item.get('title') or ''})"), (fx.t("value"), figure_value(item, fx)),
                (fx.t("clause"), fx.clause(item.get("clause")))]
    c = metric_cells(item, fx)
    return [(fx.t("metric"), f"{item.get('id')} ({c['metric']})")] + [
        (fx.t(k), c[k]) for k in ("subjects", "count_met", "without_data", "share_rounded", "share_exact", "target",
                                  "against_target", "clause")]


def listed(doc: dict, key: str, rows: int | None = REPORT_ROWS) -> bool:
    """Whether a report lists the records of `key` (`lines`, `exclusions`, `row_exclusions`) one by one: when
    there are at most `rows` of them (None: always)."""
    return rows is None or len(doc.get(key) or ()) <= rows


def line_groups(doc: dict) -> list[dict]:
    """The lines summed by goal and period, in the order of the goals and then of the periods: for each, the
    goal, the period, the number of lines, of imputed lines and of lines a cap cut, and the gross and final
    amounts (Decimal). The totals equal the document's: the amounts are summed exactly."""
    goals = [g["id"] for g in doc.get("goals", [])]
    periods = [p["period"] for p in doc.get("periods", [])]
    groups: dict[tuple, dict] = {}
    for ln in doc.get("lines", []):
        key = (ln.get("goal"), ln.get("period"))
        g = groups.get(key)
        if g is None:
            g = groups[key] = {"goal": key[0], "period": key[1], "lines": 0, "imputed": 0, "cut": 0,
                               "gross": Decimal(0), "amount": Decimal(0)}
        g["lines"] += 1
        g["imputed"] += bool(ln.get("imputed"))
        g["cut"] += bool(ln.get("cut"))
        g["gross"] += Decimal(ln["gross"])
        g["amount"] += Decimal(ln["amount"])

    def order(key: tuple) -> tuple:
        goal, period = key
        return (goals.index(goal) if goal in goals else len(goals), str(goal),
                periods.index(period) if period in periods else len(periods), str(period))
    return [groups[k] for k in sorted(groups, key=order)]


def line_groups_total(groups: list[dict]) -> dict:
    """The sums of `line_groups`' counts and gross amount (their final amounts add up to the pool)."""
    return {"lines": sum(g["lines"] for g in groups), "imputed": sum(g["imputed"] for g in groups),
            "cut": sum(g["cut"] for g in groups), "gross": sum((g["gross"] for g in groups), Decimal(0))}


def counted(records, *keys: str) -> list[tuple[tuple, int]]:
    """How many records have each combination of the values of `keys` (`goal`, `reason`), most first."""
    counts = Counter(tuple(r.get(k) or "" for k in keys) for r in records)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


# ---- the account: payments made, and what is to be paid now ------------------------------------------------

#: The account's columns, and those that hold money (numbered from 0).
ACCOUNT_COLUMNS = ("period", "payer", "recipient", "due", "entitlement", "paid", "to_pay", "unsettled", "status")
ACCOUNT_MONEY = frozenset({4, 5, 6, 7})


def account_rule(doc: dict, fx: Formatter) -> str:
    """The contract's rule for paid periods in words (`adjusted until 30 Sep 2026, locked after`)."""
    rule = doc["account"]["rule"]
    if rule["rule"] == "until" and rule.get("offset"):
        number, unit = str(rule["offset"]).split(" ", 1)
        return fx.t("account_rule.until_due", offset=f"{number} {fx.t(unit)}")
    return fx.t(f"account_rule.{rule['rule']}", date=fx.date(rule["date"]) if rule.get("date") else "")


def account_table(doc: dict, fx: Formatter, mk: Plain) -> tuple[list[str], list[list[str]], list[str]]:
    """The account as every report shows it: the header, a row per period, payer and recipient, and the totals
    (cells marked up by `mk`)."""
    a = doc["account"]
    money = lambda v: mk.esc(fx.money(v))  # noqa: E731
    header = [mk.esc(fx.t(k)) for k in ACCOUNT_COLUMNS]
    rows = [[mk.esc(fx.period(p["period"])), mk.code(p["payer"]), mk.code(p["recipient"]), mk.esc(fx.date(p["due"])),
             money(p["entitlement"]), money(p["paid"]), money(p["to_pay"]), money(p["unsettled"]),
             mk.esc(fx.t(f"status.{p['status']}", date=fx.date(p["date"]) if p.get("date") else ""))]
            for p in a["periods"]]
    t = a["totals"]
    total = [mk.esc(fx.t("total")), "", "", "", money(t["entitlement"]), money(t["paid"]), money(t["to_pay"]),
             money(t["unsettled"]), ""]
    return header, rows, total
