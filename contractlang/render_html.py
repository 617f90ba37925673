"""The settlement document as one self-contained HTML page.

Inline CSS and inline SVG charts drawn here in Python: no script, no font,
no image and no stylesheet is fetched from anywhere. Every text that comes
from the document is escaped. Chart geometry is computed in `Decimal` and
written with one decimal, so the page is the same bytes every time.
"""

from __future__ import annotations

import html
import re
from decimal import ROUND_CEILING, Decimal

from .narrate import describe_step, step_kind
from .i18n import (Formatter, caps_text, detail_value, exclusion_detail, figure_value, flag_title, goal_texts,
                   goals_by_id, key_label, line_facts, margin_sentences, metric_cells, party_name, rate_text, results,
                   return_cap_sentence, titled, to_decimal)
from .markup import (ACCOUNT_MONEY, HTML, REPORT_ROWS, account_rule, account_table, counted, line_groups, line_groups_total, listed, payers, recipients, report_sections,
                     result_facts)

esc = html.escape
code = HTML.code

GOAL_COLOURS = ("#23395d", "#3a7d7c", "#c9a227", "#7b4b7a", "#8a9aa9", "#b5562b", "#5d7f3a", "#4f6d8f")
POOL, PAYER, CAP, TRANCHE = "#23395d", "#3a7d7c", "#a33b3b", "#b7862b"

CSS = """
:root { --ink:#1d2733; --muted:#5b6673; --rule:#d5dbe1; --band:#f3f5f7; --accent:#23395d; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:#fff; font:14px/1.45 "Helvetica Neue", Helvetica, Arial, "Liberation Sans", sans-serif; }
main, header.masthead > .wrap, footer { max-width:1180px; margin:0 auto; padding:0 28px; }
header.masthead { background:var(--accent); color:#fff; padding:22px 0 18px; }
header.masthead .kicker { text-transform:uppercase; letter-spacing:.08em; font-size:12px; opacity:.8; margin:0; }
header.masthead h1 { margin:4px 0 14px; font-size:26px; font-weight:600; }
.integrity { background:#fff; color:var(--ink); border-radius:4px; padding:12px 16px; }
.integrity h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--muted); margin:0 0 6px; border:0; padding:0; }
.integrity p { margin:0 0 8px; color:var(--muted); font-size:12.5px; }
.integrity dl { display:flex; flex-wrap:wrap; gap:4px 28px; margin:0 0 8px; }
.integrity dt { color:var(--muted); font-size:12px; } .integrity dd { margin:0; font-weight:600; }
.hash { font-family:"DejaVu Sans Mono", Menlo, Consolas, monospace; font-size:11.5px; word-break:break-all; }
h2 { font-size:20px; font-weight:600; margin:34px 0 10px; padding-bottom:4px; border-bottom:2px solid var(--accent); }
h3 { font-size:15.5px; font-weight:600; margin:22px 0 8px; }
p.note { color:var(--muted); margin:4px 0 10px; }
table { border-collapse:collapse; width:100%; margin:6px 0 14px; font-size:13px; }
th, td { padding:5px 8px; border-bottom:1px solid var(--rule); vertical-align:top; text-align:left; }
th { background:var(--band); font-weight:600; border-bottom:1px solid #b9c2cb; }
td.num, th.num { text-align:right; white-space:nowrap; font-variant-numeric:tabular-nums; }
td.exact { white-space:normal; word-break:break-all; min-width:9em; max-width:16em; }
td.wrap { white-space:normal; min-width:8em; }
.status.met { color:#2d6a3e; font-weight:600; } .status.missed { color:#8a2e25; font-weight:600; }
tr.total td { font-weight:700; border-top:2px solid #b9c2cb; }
code { font-family:"DejaVu Sans Mono", Menlo, Consolas, monospace; font-size:.92em; background:var(--band); padding:0 3px; border-radius:2px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin:8px 0 12px; }
.card { border:1px solid var(--rule); border-radius:4px; padding:10px 14px; min-width:190px; }
.card .label { color:var(--muted); font-size:12px; }
.card .value { font-size:19px; font-weight:600; font-variant-numeric:tabular-nums; white-space:nowrap; }
.card.main { border-color:var(--accent); border-width:2px; }
figure { margin:16px 0 22px; break-inside:avoid; }
figcaption { font-weight:600; margin-bottom:4px; }
svg text { font-family:"Helvetica Neue", Helvetica, Arial, "Liberation Sans", sans-serif; }
.mark { display:inline-block; font-size:11px; padding:0 6px; border-radius:8px; margin-right:3px; white-space:nowrap; }
.mark.imputed { background:#e7eef7; color:#23395d; } .mark.cut { background:#f6e4e1; color:#8a2e25; }
details { border:1px solid var(--rule); border-radius:4px; margin:6px 0; }
details > summary { cursor:pointer; padding:7px 10px; background:var(--band); }
details > summary .amt { float:right; font-variant-numeric:tabular-nums; }
details[open] > summary { border-bottom:1px solid var(--rule); }
details .body { padding:8px 14px 10px; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:2px 16px; margin:4px 0 10px; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
ol.trail { margin:4px 0 6px; padding-left:28px; } ol.trail li { margin:3px 0; }
pre.source { background:#f7f8fa; border:1px solid var(--rule); padding:8px 10px; font-size:12px; overflow-x:auto; margin:6px 0; }
.flag { border-left:4px solid #b7862b; padding:2px 0 2px 14px; margin:12px 0; }
footer { color:var(--muted); font-size:12px; border-top:1px solid var(--rule); margin-top:40px; padding-top:10px; padding-bottom:30px; }
@media print {
  body { font-size:11px; } header.masthead { background:#fff; color:var(--ink); border-bottom:2px solid var(--accent); }
  main, header.masthead > .wrap, footer { max-width:none; padding:0; }
  details::details-content { content-visibility:visible; display:block; }
  details > summary { background:none; } h2 { break-after:avoid; } tr, figure, .card { break-inside:avoid; }
  a { color:inherit; text-decoration:none; }
}
@page { size:A4; margin:14mm; }
"""


def _slugs(lines) -> dict[str, str]:
    """An HTML id per line id (`school_absence/c1/m18` → `line-school_absence-c1-m18`), unique."""
    out, taken = {}, set()
    for n, ln in enumerate(lines, 1):
        slug = "line-" + re.sub(r"[^A-Za-z0-9_-]+", "-", ln["id"])
        if slug in taken:
            slug = f"{slug}-{n}"
        taken.add(slug)
        out[ln["id"]] = slug
    return out


def _px(d: Decimal) -> str:
    return str(d.quantize(Decimal("0.1")))


def _table(header, rows, right=frozenset(), total=None, classes=None) -> str:
    """An HTML table; cells are already escaped/marked up.

    `classes` adds a class to the cells of a right-aligned column: `wrap` (text that may wrap) or
    `exact` (a long number that may break anywhere).
    """
    classes = classes or {}
    th = "".join(f'<th class="num">{h}</th>' if i in right else f"<th>{h}</th>" for i, h in enumerate(header))
    body = []
    for r in rows + ([total] if total else []):
        cls = ' class="total"' if r is total else ""
        body.append(f"<tr{cls}>" + "".join(f'<td class="{" ".join(["num"] + ([classes[i]] if i in classes else []))}">{c}</td>'
                                           if i in right else f"<td>{c}</td>" for i, c in enumerate(r)) + "</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# ---- charts --------------------------------------------------------------------------------

def _nice_step(span: Decimal) -> Decimal:
    """A step of 1, 2, 2.5 or 5 × 10^k giving about five intervals over `span`."""
    raw = span / 5
    if raw <= 0:
        return Decimal(1)
    power = Decimal(10) ** (raw.adjusted())
    for m in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if m * power >= raw:
            return m * power
    return 10 * power


def _scale(values) -> tuple[Decimal, Decimal]:
    top = max([Decimal(0)] + [to_decimal(v) for v in values])
    step = _nice_step(top if top > 0 else Decimal(1))
    ymax = (top / step).to_integral_value(rounding=ROUND_CEILING) * step
    if ymax == 0 or ymax - top < step / 5:      # keep room above the highest line for its label
        ymax += step
    return ymax, step


class _Frame:
    """Plot geometry shared by both charts: bands per period, a linear y axis from 0."""

    W, H, LEFT, RIGHT, TOP, BOTTOM = 880, 330, 92, 24, 30, 44

    def __init__(self, n: int, ymax: Decimal):
        self.n, self.ymax = max(n, 1), ymax
        self.pw = Decimal(self.W - self.LEFT - self.RIGHT)
        self.ph = Decimal(self.H - self.TOP - self.BOTTOM)

    def x(self, i: int) -> Decimal:
        return self.LEFT + self.pw * (2 * i + 1) / (2 * self.n)

    def band(self) -> Decimal:
        return self.pw / self.n

    def room_for_labels(self) -> bool:
        """Amounts are written on the chart only when a period's band can hold one (the table has them all)."""
        return self.band() >= 125

    def y(self, v) -> Decimal:
        return self.TOP + self.ph - self.ph * to_decimal(v) / self.ymax

    def axes(self, fx: Formatter, step: Decimal, labels: list[str]) -> list[str]:
        out = []
        tick = Decimal(0)
        while tick <= self.ymax:
            y = _px(self.y(tick))
            out.append(f'<line x1="{self.LEFT}" x2="{self.W - self.RIGHT}" y1="{y}" y2="{y}" stroke="#e3e7eb" stroke-width="1"/>')
            out.append(f'<text x="{self.LEFT - 8}" y="{y}" dy="4" text-anchor="end" font-size="11" fill="#5b6673">{esc(fx.axis(tick))}</text>')
            tick += step
        base = _px(self.y(0))
        out.append(f'<line x1="{self.LEFT}" x2="{self.W - self.RIGHT}" y1="{base}" y2="{base}" stroke="#8a949e" stroke-width="1"/>')
        out.append(f'<text x="{self.LEFT - 8}" y="{self.TOP - 12}" text-anchor="end" font-size="11" fill="#5b6673">{esc(fx.currency_symbol())}</text>')
        for i, label in enumerate(labels):
            out.append(f'<text x="{_px(self.x(i))}" y="{self.H - self.BOTTOM + 18}" text-anchor="middle" font-size="11.5" fill="#1d2733">{esc(label)}</text>')
        return out


def _svg(chart_id: str, title: str, body: list[str], height: int) -> str:
    return (f'<svg id="{chart_id}" class="chart" viewBox="0 0 {_Frame.W} {height}" '
            f'width="100%" role="img" aria-labelledby="{chart_id}-title" preserveAspectRatio="xMidYMid meet">'
            f'<title id="{chart_id}-title">{esc(title)}</title>' + "".join(body) + "</svg>")


def _legend(items: list[tuple[str, str, str]], y: int) -> list[str]:
    """items: (kind, colour, label) with kind `box`, `line` or `dash`; laid out left to right, wrapping."""
    out, x, row = [], _Frame.LEFT, 0
    for kind, colour, label in items:
        width = 26 + 7 * len(label)
        if x + width > _Frame.W - _Frame.RIGHT:
            x, row = _Frame.LEFT, row + 1
        yy = y + 18 * row
        if kind == "box":
            out.append(f'<rect x="{x}" y="{yy - 9}" width="12" height="12" fill="{colour}"/>')
        else:
            dash = {"dash": ' stroke-dasharray="6 4"', "dots": ' stroke-dasharray="2 3"'}.get(kind, "")
            out.append(f'<line x1="{x}" x2="{x + 16}" y1="{yy - 3}" y2="{yy - 3}" stroke="{colour}" stroke-width="2.5"{dash}/>')
        out.append(f'<text x="{x + 20}" y="{yy + 1}" font-size="11.5" fill="#1d2733">{esc(label)}</text>')
        x += width
    return out


def _legend_rows(items) -> int:
    rows, x = 1, _Frame.LEFT
    for _, _, label in items:
        width = 26 + 7 * len(label)
        if x + width > _Frame.W - _Frame.RIGHT:
            x, rows = _Frame.LEFT, rows + 1
        x += width
    return rows


def chart_cumulative(doc: dict, fx: Formatter) -> str:
    """Cumulative repayment by period against the return cap and each tranche threshold."""
    periods = doc.get("periods", [])
    rc = doc.get("return_cap")
    hlines = []
    if rc:
        hlines.append((to_decimal(rc["limit"]), CAP, fx.t("line_cap", payer=rc.get("payer"), limit=fx.money(rc["limit"]))))
    tranches = doc.get("tranches", [])
    for a, b in zip(tranches, tranches[1:]):
        if a.get("until") is not None:
            hlines.append((to_decimal(a["until"]), TRANCHE,
                           fx.t("line_tranche", a=a.get("number"), b=b.get("number"), limit=fx.money(a["until"]))))
    # The capped payer's own running total is drawn from the periods' by_payer; it is geometry
    # only (no number from it is printed), until the engine gives `cumulative_by_payer`.
    payer_series = []
    if rc:
        run = Decimal(0)
        for p in periods:
            given = (p.get("cumulative_by_payer") or {}).get(rc.get("payer"))
            run = to_decimal(given) if given is not None else run + to_decimal((p.get("by_payer") or {}).get(rc.get("payer"), "0"))
            payer_series.append(run)
    ymax, step = _scale([p["cumulative"] for p in periods] + [v for v, _, _ in hlines])
    fr = _Frame(len(periods), ymax)
    body = fr.axes(fx, step, [fx.period(p["period"]) for p in periods])
    # horizontal lines with labels, kept apart when close
    placed: list[Decimal] = []
    for value, colour, label in sorted(hlines, key=lambda h: h[0], reverse=True):
        y = fr.y(value)
        above = all(abs(y - 14 - q) > 14 for q in placed)
        ty = y - 6 if above else y + 14
        placed.append(ty)
        body.append(f'<line class="threshold" x1="{fr.LEFT}" x2="{fr.W - fr.RIGHT}" y1="{_px(y)}" y2="{_px(y)}" stroke="{colour}" '
                    f'stroke-width="1.5" stroke-dasharray="6 4"/>')
        body.append(f'<text x="{fr.LEFT + 6}" y="{_px(ty)}" font-size="11.5" fill="{colour}">{esc(label)}</text>')
    pts = " ".join(f"{_px(fr.x(i))},{_px(fr.y(p['cumulative']))}" for i, p in enumerate(periods))
    body.append(f'<polyline class="series-pool" points="{pts}" fill="none" stroke="{POOL}" stroke-width="2.5"/>')
    for i, p in enumerate(periods):
        x, y = fr.x(i), fr.y(p["cumulative"])
        body.append(f'<circle cx="{_px(x)}" cy="{_px(y)}" r="4" fill="{POOL}"><title>{esc(fx.period(p["period"]))}: '
                    f'{esc(fx.money(p["cumulative"]))}</title></circle>')
        if not fr.room_for_labels():
            continue
        below = any(Decimal(0) < y - fr.y(v) < 24 for v, _, _ in hlines)   # a threshold just above: label below
        body.append(f'<text x="{_px(x)}" y="{_px(y + 19 if below else y - 10)}" text-anchor="middle" font-size="10.5" '
                    f'fill="{POOL}">{esc(fx.money(p["cumulative"]))}</text>')
    if payer_series:   # drawn on top, thin and dotted, so it shows where it runs along the pool
        pts = " ".join(f"{_px(fr.x(i))},{_px(fr.y(v))}" for i, v in enumerate(payer_series))
        body.append(f'<polyline class="series-payer" points="{pts}" fill="none" stroke="{PAYER}" stroke-width="2" stroke-dasharray="2 3"/>')
    legend = [("line", POOL, fx.t("series_pool"))]
    if rc:
        legend.append(("dots", PAYER, fx.t("series_payer", payer=rc.get("payer"))))
    legend += [("dash", colour, label.split(":")[0]) for _, colour, label in hlines]
    height = fr.H + 18 * _legend_rows(legend) + 6
    body += _legend(legend, fr.H - 6)
    return _svg("chart-cumulative", fx.t("chart_cumulative"), body, height)


def chart_goals(doc: dict, fx: Formatter) -> str:
    """Payments per goal per period as stacked bars, goals in contract order, with a legend."""
    periods, goals = doc.get("periods", []), doc.get("goals", [])
    colour = {g["id"]: GOAL_COLOURS[i % len(GOAL_COLOURS)] for i, g in enumerate(goals)}
    ymax, step = _scale([p["amount"] for p in periods])
    fr = _Frame(len(periods), ymax)
    body = fr.axes(fx, step, [fx.period(p["period"]) for p in periods])
    width = fr.band() * Decimal("0.56")
    for i, p in enumerate(periods):
        base = Decimal(0)
        for g in goals:
            v = to_decimal((p.get("by_goal") or {}).get(g["id"], "0"))
            if v <= 0:
                continue
            y0, y1 = fr.y(base), fr.y(base + v)
            body.append(f'<rect class="bar" x="{_px(fr.x(i) - width / 2)}" y="{_px(y1)}" width="{_px(width)}" height="{_px(y0 - y1)}" '
                        f'fill="{colour[g["id"]]}"><title>{esc(fx.period(p["period"]))}, {esc(g.get("title") or g["id"])}: '
                        f'{esc(fx.money(v))}</title></rect>')
            base += v
        if fr.room_for_labels():
            body.append(f'<text x="{_px(fr.x(i))}" y="{_px(fr.y(base) - 6)}" text-anchor="middle" font-size="10.5" fill="#1d2733">'
                        f'{esc(fx.money(p["amount"]))}</text>')
    legend = [("box", colour[g["id"]], (g.get("title") or g["id"])) for g in goals]
    height = fr.H + 18 * _legend_rows(legend) + 6
    body += _legend(legend, fr.H - 6)
    return _svg("chart-goals", fx.t("chart_goals"), body, height)


# ---- the page --------------------------------------------------------------------------------

def _steps(steps, doc, fx, rule_text=True, owner=None) -> str:
    items = []
    for step in steps:
        sentence, block = describe_step(step, doc, fx, HTML, rule_text=rule_text, owner=owner)
        extra = (f'<div class="note">{esc(fx.t("contract_text"))}</div><pre class="source">{esc(str(block))}</pre>'
                 if block else "")
        items.append(f'<li class="step step-{esc(str(step_kind(step)))}">{sentence}{extra}</li>')
    return f'<ol class="trail">{"".join(items)}</ol>'


def _account(doc: dict, fx: Formatter) -> list[str]:
    """The account (payments made, what is to be paid now) and each adjustment with its trail."""
    header, rows, total = account_table(doc, fx, HTML)
    later = doc["account"]["later"]
    out = [f'<h3 id="account">{esc(fx.t("account"))}</h3>',
           f'<p class="note">{esc(fx.t("account_note", rule=account_rule(doc, fx)))}</p>',
           _table(header, rows, right=ACCOUNT_MONEY, total=total)]
    if later:
        out.append(f'<p class="note">{esc(fx.t("account_later", n=fx.count(len(later))))}</p>')
    adjustments = doc["account"]["adjustments"]
    if adjustments:
        out.append(f"<h3>{esc(fx.t('adjustments'))}</h3>")
    for a in adjustments:
        out += [f'<h4 id="{_anchor("adjustment", a["id"])}"><code>{esc(a["id"])}</code></h4>', _steps(a["trace"], doc, fx)]
    return out


def _anchor(prefix: str, ident) -> str:
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", str(ident))


def _results(doc: dict, fx: Formatter) -> list[str]:
    """Results against targets and figures: a table each, then every item's trail folded away."""
    metrics, figures = results(doc)
    out = []
    if metrics:
        cols = ("subjects", "count_met", "without_data", "share_rounded", "share_exact", "target", "against_target", "clause")
        rows = []
        for m in metrics:
            c = metric_cells(m, fx)
            state = "" if m.get("target") is None or m.get("met") is None else (" met" if m.get("met") else " missed")
            rows.append([f'<a href="#{_anchor("metric", m.get("id"))}">{esc(c["metric"])}</a> {code(str(m.get("id", "")))}']
                        + [esc(c[k]) for k in cols[:4]]
                        + [esc(c["share_exact"]), esc(c["target"]), f'<span class="status{state}">{esc(c["against_target"])}</span>',
                           esc(c["clause"])])
        out += ['<section id="results">', f"<h2>{esc(fx.t('metrics'))}</h2>", f'<p class="note">{esc(fx.t("metrics_note"))}</p>',
                _table([esc(fx.t("metric"))] + [esc(fx.t(k)) for k in cols], rows, right={1, 2, 3, 4, 5, 6}, classes={5: "exact"})]
        out += [_details(_anchor("metric", m.get("id")), m, "metric", metric_cells(m, fx)["share_rounded"], doc, fx) for m in metrics]
        out.append("</section>")
    if figures:
        out += ['<section id="figures">', f"<h2>{esc(fx.t('figures'))}</h2>", f'<p class="note">{esc(fx.t("figures_note"))}</p>',
                _table([esc(fx.t(k)) for k in ("figure", "value", "clause")],
                       [[f'<a href="#{_anchor("figure", f.get("id"))}">{esc(f.get("title") or "")}</a> {code(str(f.get("id", "")))}',
                         esc(figure_value(f, fx)), esc(fx.clause(f.get("clause")))] for f in figures], right={1}, classes={1: "exact"})]
        out += [_details(_anchor("figure", f.get("id")), f, "figure", figure_value(f, fx), doc, fx) for f in figures]
        out.append("</section>")
    return out


def _details(anchor: str, item: dict, owner: str, headline: str, doc: dict, fx: Formatter) -> str:
    facts = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in result_facts(owner, item, fx))
    return (f'<details id="{esc(anchor)}"><summary>{code(str(item.get("id", "")))} · {esc(item.get("title") or "")}'
            f'<span class="amt">{esc(headline)}</span></summary><div class="body"><dl class="facts">{facts}</dl>'
            f'<div><strong>{esc(fx.t("result_trail" if owner == "metric" else "figure_trail"))}</strong></div>'
            f'{_steps(item.get("trace", []), doc, fx, owner=owner)}</div></details>')


def _marks(line, fx) -> str:
    return "".join(f'<span class="mark {k}">{esc(fx.t(k))}</span>' for k in ("imputed", "cut") if line.get(k))


def _line_groups(doc: dict, fx: Formatter) -> list[str]:
    """The lines summed by goal and period: what a board reads instead of thousands of lines."""
    money, goals, groups = fx.money, goals_by_id(doc), line_groups(doc)
    rows = [[titled(goals, g["goal"], HTML), esc(fx.period(g["period"])),
             esc(fx.count(g["lines"])), esc(fx.count(g["imputed"])), esc(fx.count(g["cut"])), esc(money(g["gross"])),
             esc(money(g["amount"]))] for g in groups]
    sums = line_groups_total(groups)
    total = [esc(fx.t("total")), "", esc(fx.count(sums["lines"])), esc(fx.count(sums["imputed"])),
             esc(fx.count(sums["cut"])), esc(money(sums["gross"])), esc(money(doc.get("totals", {}).get("pool", "0")))]
    return ['<section id="line-groups">', f"<h2>{esc(fx.t('lines_by_goal'))}</h2>",
            f'<p class="note">{esc(fx.t("lines_by_goal_note"))}</p>',
            _table([esc(fx.t(k)) for k in ("goal", "period", "line_count", "imputed_count", "cut_count", "gross", "final")],
                   rows, right={2, 3, 4, 5, 6}, total=total), "</section>"]


def _lines(doc: dict, fx: Formatter, rows: int | None) -> list[str]:
    """The appendix of lines: each line with its trail, or, for more than a report lists, where they are."""
    money, lines, rec = fx.money, doc.get("lines", []), recipients(doc)
    t = doc.get("totals", {})
    out = ['<section id="lines">', f"<h2>{esc(fx.t('appendix'))}: {esc(fx.t('lines'))}</h2>"]
    if not listed(doc, "lines", rows):
        return out + [f'<p class="note">{esc(fx.t("too_many", count=fx.count(len(lines)), what=fx.t("what_lines")))}</p>',
                      "</section>"]
    slug = _slugs(lines)
    out += [f'<p class="note">{esc(fx.t("lines_note"))}</p>',
            _table([esc(fx.t(k)) for k in ("line", "date", "payer", "outcome", "gross", "after_goal_cap", "final", "marks")]
                   + [esc(fx.t("to_party", party=r)) for r in rec],
                   [[f'<a href="#{slug[ln["id"]]}">{code(ln["id"])}</a>', esc(fx.date(ln["date"])), code(ln.get("payer", "")),
                     _short(ln["outcome"], fx), esc(money(ln["gross"])), esc(money(ln["after_goal_cap"])), esc(money(ln["amount"])),
                     _marks(ln, fx)] + [esc(money((ln.get("split") or {}).get(r, "0.00"))) for r in rec] for ln in lines],
                   right=set(range(3, 7)) | set(range(8, 8 + len(rec))),
                   total=[esc(fx.t("total")), "", "", "", "", "", esc(money(t.get("pool", "0"))), ""]
                   + [esc(money(t.get("by_recipient", {}).get(r, "0.00"))) for r in rec])]
    out += [f"<h3>{esc(fx.t('trails'))}</h3>"]
    goals = goals_by_id(doc)
    for ln in lines:
        facts = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in line_facts(ln, doc, fx, HTML))
        out.append(f'<details id="{slug[ln["id"]]}"><summary>{code(ln["id"])} · {esc(goals.get(ln.get("goal"), {}).get("title") or "")} '
                   f'{_marks(ln, fx)}<span class="amt">{esc(money(ln["amount"]))}</span></summary>'
                   f'<div class="body"><dl class="facts">{facts}</dl><div><strong>{esc(fx.t("trail"))}</strong></div>'
                   f'{_steps(ln.get("trace", []), doc, fx, rule_text=False)}</div></details>')
    return out + ["</section>"]


def _short(value, fx: Formatter) -> str:
    """A number to a sensible precision, its exact value a hover (and the line's trail) away."""
    shown, exact = fx.short(value)
    if exact is None:
        return esc(shown)
    return f'<span class="approx" title="{esc(fx.t("exact_value"))}: {esc(exact)}">{esc(shown)}</span>'


def render_html(doc: dict, fx: Formatter, rows: int | None = REPORT_ROWS) -> str:
    """The whole report as one HTML page (str); lines, exclusions and excluded rows listed one by one up to
    `rows` of each (None: always), else grouped and counted."""
    t, c, eng, inputs = doc.get("totals", {}), doc.get("contract", {}), doc.get("engine", {}), doc.get("inputs", {})
    money = fx.money
    title = f"{fx.t('settlement')}: {c.get('title') or ''}"
    pay, rec = payers(doc), recipients(doc)
    out = ["<!DOCTYPE html>", f'<html lang="{fx.lang}">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{esc(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>"]
    # header with the integrity box
    files = [[f'{esc(fx.t("contract_file"))} {code(inputs.get("contract", {}).get("path", ""))}', "",
              f'<span class="hash">{esc(inputs.get("contract", {}).get("sha256", ""))}</span>']]
    files += [[code(f["file"]), esc(fx.count(f.get("rows", 0))), f'<span class="hash">{esc(f.get("sha256", ""))}</span>']
              for f in inputs.get("ledger", [])]
    out += ['<header class="masthead"><div class="wrap">', f'<p class="kicker">{esc(fx.t("settlement"))}</p>',
            f"<h1>{esc(c.get('title') or '')}</h1>", '<section class="integrity" id="integrity">',
            f"<h2>{esc(fx.t('integrity'))}</h2>", f"<p>{esc(fx.t('integrity_note'))}</p>",
            f"<dl><div><dt>{esc(fx.t('as_of'))}</dt><dd>{esc(fx.date(doc['as_of']))}</dd></div>"
            f"<div><dt>{esc(fx.t('engine'))}</dt><dd>{esc(eng.get('name', ''))} {esc(eng.get('version', ''))}</dd></div>"
            f"<div><dt>{esc(fx.t('contract_file'))}</dt><dd>{code(c.get('id', ''))} {esc(fx.clause(c.get('clause')))}</dd></div></dl>",
            _table([esc(fx.t("file")), esc(fx.t("rows")), "SHA-256"], files, right={1}), "</section>", "</div></header>", "<main>"]
    # summary
    cards = [f'<div class="card main"><div class="label">{esc(fx.t("pool"))}</div><div class="value">{esc(money(t.get("pool", "0")))}</div></div>']
    cards += [f'<div class="card"><div class="label">{esc(fx.t("payer"))} {esc(p)} · {esc(party_name(doc, p))}</div>'
              f'<div class="value">{esc(money(t["by_payer"][p]))}</div></div>' for p in pay]
    cards += [f'<div class="card"><div class="label">{esc(fx.t("to_party", party=r))} · {esc(party_name(doc, r))}</div>'
              f'<div class="value">{esc(money(t["by_recipient"][r]))}</div></div>' for r in rec]
    if doc.get("return_cap"):
        cards.append(f'<div class="card"><div class="label">{esc(fx.t("return_cap"))}: {esc(fx.t("cut"))}</div>'
                     f'<div class="value">{esc(money(t.get("return_cap_cut", "0")))}</div></div>')
    out += ['<section id="summary">', f"<h2>{esc(fx.t('summary'))}: {esc(fx.t('owed'))}</h2>", f'<div class="cards">{"".join(cards)}</div>',
            f"<p>{return_cap_sentence(doc, fx, HTML) if doc.get('return_cap') else esc(fx.t('no_return_cap'))}</p>"]
    if doc.get("margins"):
        out += [f'<h3 id="margins">{esc(fx.t("margins"))}</h3>', "<ul>"]
        out += [f"<li>{x}</li>" for x in margin_sentences(doc, fx, HTML)] + ["</ul>"]
    out += [f"<h3>{esc(fx.t('by_payer'))}</h3>",
            _table([esc(fx.t(k)) for k in ("party", "name", "role", "amount")],
                   [[code(p), esc(party_name(doc, p)), esc(fx.code("role", (doc.get("parties", {}).get(p) or {}).get("role"))),
                     esc(money(t["by_payer"][p]))] for p in pay], right={3}),
            f"<h3>{esc(fx.t('by_recipient'))}</h3>",
            _table([esc(fx.t(k)) for k in ("party", "name", "role", "amount")],
                   [[code(r), esc(party_name(doc, r)), esc(fx.code("role", (doc.get("parties", {}).get(r) or {}).get("role"))),
                     esc(money(t["by_recipient"][r]))] for r in rec], right={3}), "</section>",
            '<section id="periods">', f"<h2>{esc(fx.t('periods'))}</h2>",
            f"<h3>{esc(fx.t('tranches'))}</h3>",
            _table([esc(fx.t(k)) for k in ("tranche", "until", "shares")],
                   [[esc(str(tr.get("number"))), esc(money(tr["until"])) if tr.get("until") is not None else esc(fx.t("no_limit")),
                     "; ".join(f"{code(p)} {esc(fx.pct(v))}" for p, v in (tr.get("shares") or {}).items())]
                    for tr in doc.get("tranches", [])], right={1})]
    out += [f"<h3>{esc(fx.t('periods'))}</h3>",
            _table([esc(fx.t(k)) for k in ("period", "from", "to", "due", "amount")] + [f"{esc(fx.t('payer'))} {esc(p)}" for p in pay]
                   + [esc(fx.t("to_party", party=r)) for r in rec] + [esc(fx.t("cumulative"))],
                   [[esc(fx.period(p["period"])), esc(fx.date(p["start"])), esc(fx.date(p["end"])), esc(fx.date(p["due"])),
                     esc(money(p["amount"]))] + [esc(money((p.get("by_payer") or {}).get(q, "0.00"))) for q in pay]
                    + [esc(money((p.get("by_recipient") or {}).get(r, "0.00"))) for r in rec] + [esc(money(p["cumulative"]))]
                    for p in doc.get("periods", [])], right=set(range(4, 6 + len(pay) + len(rec))),
                   total=[esc(fx.t("total")), "", "", "", esc(money(t.get("pool", "0")))]
                   + [esc(money(t["by_payer"][q])) for q in pay] + [esc(money(t["by_recipient"][r])) for r in rec] + [""])]
    out += [f'<figure><figcaption>{esc(fx.t("chart_cumulative"))}</figcaption>{chart_cumulative(doc, fx)}</figure>',
            f'<figure><figcaption>{esc(fx.t("chart_goals"))}</figcaption>{chart_goals(doc, fx)}</figure>']
    if doc.get("account"):
        out += _account(doc, fx)
    out += ["</section>"]
    out += _results(doc, fx)
    # goals
    out += ['<section id="goals">', f"<h2>{esc(fx.t('goals'))}</h2>", f'<p class="note">{esc(fx.t("goals_note"))}</p>',
            _table([esc(fx.t(k)) for k in ("goal", "title", "payer", "rate", "cap", "goal_amount", "goal_cap_cut", "imputed_count", "clause")],
                   [[code(g["id"]), esc(g.get("title") or ""), code(g.get("payer", "")),
                     rate_text(g, fx, HTML), caps_text(g, fx, HTML),
                     esc(money(t.get("goals", {}).get(g["id"], "0"))), esc(money(t.get("goal_cap_cut", {}).get(g["id"], "0"))),
                     esc(fx.count(t.get("imputed", {}).get(g["id"], 0))), esc(fx.clause(g.get("clause")))]
                    for g in doc.get("goals", [])], right={3, 4, 5, 6, 7}, classes={3: "wrap", 4: "wrap"})]
    titles = goals_by_id(doc)
    out += [f'<details id="goal-{esc(gid)}"><summary>{code(gid)} · {esc(titles.get(gid, {}).get("title") or "")}: '
            f'{esc(fx.t("contract_text").rstrip(":"))}</summary><div class="body"><pre class="source">{esc(str(text))}</pre></div></details>'
            for gid, text in goal_texts(doc).items()]
    out.append("</section>")
    out += _line_groups(doc, fx)
    # flags
    out += ['<section id="flags">', f"<h2>{esc(fx.t('flags'))}</h2>",
            f'<p class="note">{esc(fx.t("flags_note") if doc.get("flags") else fx.t("no_flags"))}</p>']
    for f in doc.get("flags", []):
        subj = f" ({code(f['subject'])})" if f.get("subject") else ""
        details = "".join(f"<dt>{esc(key_label(k, fx))}</dt><dd>{esc(detail_value(k, v, fx))}</dd>" for k, v in (f.get("details") or {}).items())
        out.append(f'<div class="flag"><h3>{esc(flag_title(f, fx))}</h3><p>{code(f["id"])}{subj}, {esc(fx.clause(f.get("clause")))}</p>'
                   f'<dl class="facts">{details}</dl><details><summary>{esc(fx.t("show_trail"))}</summary><div class="body">'
                   f'{_steps(f.get("trace", []), doc, fx, owner="flag")}</div></details></div>')
    out.append("</section>")
    # exclusions and rows
    out += ['<section id="exclusions">', f"<h2>{esc(fx.t('exclusions'))}</h2>",
            f'<p class="note">{esc(fx.t("exclusions_note") if doc.get("exclusions") else fx.t("no_exclusions"))}</p>']
    if doc.get("exclusions") and listed(doc, "exclusions", rows):
        out.append(_table([esc(fx.t(k)) for k in ("goal", "subject", "point", "reason", "detail")],
                          [[code(e.get("goal") or ""), code(e.get("subject") or ""), code(e["point"]) if e.get("point") else "",
                            esc(fx.code("reason", e.get("reason"))), exclusion_detail(e, fx, HTML)] for e in doc["exclusions"]]))
    elif doc.get("exclusions"):
        out += [f'<p class="note">{esc(fx.t("too_many_records", count=fx.count(len(doc["exclusions"])), what=fx.t("what_exclusions")))}</p>',
                _table([esc(fx.t(k)) for k in ("goal", "reason", "count")],
                       [[code(goal), esc(fx.code("reason", reason)), esc(fx.count(n))]
                        for (goal, reason), n in counted(doc["exclusions"], "goal", "reason")], right={2})]
    out += [f"<h3>{esc(fx.t('rows_accounting'))}</h3>", f'<p class="note">{esc(fx.t("rows_note"))}</p>',
            _table([esc(fx.t(k)) for k in ("file", "total", "used", "excluded")],
                   [[code(f), esc(fx.count(r["total"])), esc(fx.count(r["used"])), esc(fx.count(r["excluded"]))]
                    for f, r in doc.get("rows", {}).items()], right={1, 2, 3})]
    if doc.get("row_exclusions") and listed(doc, "row_exclusions", rows):
        out += [f"<h3>{esc(fx.t('row_exclusions'))}</h3>",
                _table([esc(fx.t(k)) for k in ("file", "line", "reason", "detail")],
                       [[code(r.get("file", "")), esc(str(r.get("line", ""))), esc(fx.code("reason", r.get("reason"))),
                         exclusion_detail(r, fx, HTML)] for r in doc["row_exclusions"]], right={1})]
    elif doc.get("row_exclusions"):
        out += [f"<h3>{esc(fx.t('row_exclusions'))}</h3>",
                f'<p class="note">{esc(fx.t("too_many_records", count=fx.count(len(doc["row_exclusions"])), what=fx.t("what_row_exclusions")))}</p>',
                _table([esc(fx.t(k)) for k in ("file", "reason", "count")],
                       [[code(file), esc(fx.code("reason", reason)), esc(fx.count(n))]
                        for (file, reason), n in counted(doc["row_exclusions"], "file", "reason")], right={2})]
    out.append("</section>")
    sections = report_sections(doc)
    if sections:
        out += ['<section id="reports">', f"<h2>{esc(fx.t('reports'))}</h2>"]
        for key, value in sections:
            out.append(f"<h3>{esc(fx.t(key) if key in ('relative_reduction', 'metrics', 'figures') else key)}</h3>")
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    out.append(_table(["", ""], [[esc(key_label(k, fx)), esc(detail_value(k, v, fx))] for k, v in item.items()]))
                else:
                    out.append(f"<p>{esc(detail_value(key, item, fx))}</p>")
        out.append("</section>")
    out += _lines(doc, fx, rows)
    out += ["</main>", f"<footer>{esc(eng.get('name', ''))} {esc(eng.get('version', ''))} · {esc(fx.t('as_of'))} "
            f"{esc(fx.date(doc['as_of']))} · {code(inputs.get('contract', {}).get('sha256', ''))}</footer>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
