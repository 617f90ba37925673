"""The settlement as an Excel workbook (`render(doc, "xlsx", lang)`): a sheet per part of the document
(summary, results, figures, goals, lines, periods, flags, exclusions, rows), each an Excel table (filter,
sort) with its totals as formulas, numbers as numbers, the workbook's bytes the same for the same document
(fixed timestamps in the zip)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Context, Decimal

from .i18n import (Formatter, cap_per, detail_value, exclusion_detail, flag_title, is_number, key_label, metric_status,
                   results, to_decimal)
from .limits import SPREADSHEET_CELL_CHARS, SPREADSHEET_DIGITS, SPREADSHEET_FIRST_DATE, SPREADSHEET_LAST_DATE
from .markup import ACCOUNT_COLUMNS, ACCOUNT_MONEY, payers, recipients


SHEETS = {"summary": ("Oversigt", "Summary"), "metrics": ("Resultater", "Results"), "figures": ("Nøgletal", "Figures"),
          "goals": ("Mål", "Goals"), "lines": ("Linjer", "Lines"),
          "periods": ("Perioder", "Periods"), "account": ("Betalinger", "Payments"), "flags": ("Flag", "Flags"), "exclusions": ("Udeladelser", "Exclusions"),
          "rows": ("Rækker", "Rows")}
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"


class _Rounded:
    """A value with more digits than a spreadsheet number keeps: shown to 15 significant digits, exact in a
    comment."""

    __slots__ = ("shown", "text")

    def __init__(self, value: Decimal, text: str):
        self.shown = value.normalize(Context(prec=SPREADSHEET_DIGITS))
        self.text = text


def sheet_name(key: str, lang: str) -> str:
    return SHEETS[key][0 if lang == "da" else 1]


def render_xlsx(doc: dict, fx: Formatter) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo
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
        """A number when a spreadsheet keeps it exactly; a value with more digits (an imputed mean, 50 digits)
        as the number to 15 significant digits with its exact text in the cell's comment (`_Rounded`); a
        value that is no number (`missing`, a shortened `"15.94…"`) as its text."""
        if not is_number(v) or str(v).endswith("…"):
            return fx.value(v) if str(v) == "missing" else str(v)
        d = to_decimal(v)
        if len(d.as_tuple().digits) > SPREADSHEET_DIGITS:
            return _Rounded(d, str(v))
        return d

    formulas = []  # (sheet, row, column, formula): written after every text was made text (`_text_cells`)

    def as_table(ws, key, n):
        """The sheet's header and its `n` rows as an Excel table: a filter and a sort on every column, banded rows."""
        if n == 0:  # a table needs a row
            return
        seen: set = set()
        for k, cell in enumerate(ws[1], 1):  # a table's column names are text, each once
            name = str(cell.value if cell.value is not None else k)
            while name in seen:
                name += f" ({k})"
            seen.add(name)
            cell.value = name
        table = Table(displayName=key.capitalize(), ref=f"A1:{ws.cell(row=n + 1, column=ws.max_column).coordinate}")
        table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        ws.add_table(table)

    def total_row(ws, n, columns):
        """A total under the table's `n` rows: each of `columns` (1-based) summed as a formula over the rows a filter
        shows (SUBTOTAL 109), so that the workbook adds up what it shows; the exact totals are the summary's.
        A table without rows has no total."""
        if n == 0:
            return
        row = n + 2
        ws.cell(row=row, column=1, value=fx.t("total")).font = bold
        for col in columns:
            letter = get_column_letter(col)
            formulas.append((ws, row, col, f"=SUBTOTAL(109,{letter}2:{letter}{n + 1})"))

    def sheet(key, header, rows, kinds):
        """kinds: per column, one of text, money, rate (money, or the text of a price expression), num, date,
        count, int (no grouping), bool."""
        ws = wb.create_sheet(sheet_name(key, lang))
        ws.append(_cells(header))
        for cell in ws[1]:
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(vertical="top", wrap_text=False)
        for at, r in enumerate(rows, 2):  # the row's number in the sheet (ws.max_row scans every cell)
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
            exact = {i: x.text for i, x in enumerate(out) if isinstance(x, _Rounded)}
            ws.append(_cells([x.shown if isinstance(x, _Rounded) else x for x in out]))
            for i, text in exact.items():  # the exact value one click away
                ws.cell(row=at, column=i + 1).comment = Comment(f"{fx.t('exact_value')}: {text}",
                                                                        "contractlang", width=400, height=60)
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
        as_table(ws, key, len(rows))
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

    ws = sheet("goals", [fx.t(k) for k in ("goal", "title", "payer", "rate", "per")] + [fx.t("cap")]
          + [fx.t("caps_per", per=cap_per(per, fx)) for per in pers] + [fx.t("goal_amount"),
                                                                     fx.t("goal_cap_cut"), fx.t("imputed_count"), fx.t("clause")],
          [[g["id"], (g.get("title") or ""), g.get("payer", ""), g.get("rate"), fx.code("per", g.get("per")), g.get("cap")]
           + [per_cap(g, per) for per in pers]
           + [t.get("goals", {}).get(g["id"], "0"), t.get("goal_cap_cut", {}).get(g["id"], "0"), t.get("imputed", {}).get(g["id"], 0),
              fx.clause(g.get("clause"))] for g in goals],
          ["text", "text", "text", "rate", "text", "money"] + ["rate"] * len(pers) + ["money", "money", "count", "text"])
    total_row(ws, len(goals), [7 + len(pers), 8 + len(pers)])  # after each goal's cap, and what the caps cut
    rec = recipients(doc)
    lines = doc.get("lines", [])
    ws = sheet("lines", [fx.t(k) for k in ("line", "goal", "subject", "point", "date", "period", "payer", "outcome", "gross",
                                          "after_goal_cap", "final")] + [fx.t("imputed").capitalize(), fx.t("cut").capitalize()]
               + [fx.t("to_party", party=r) for r in rec],
               [[ln["id"], ln.get("goal"), ln.get("subject"), ln.get("point"), ln["date"], ln.get("period"), ln.get("payer"),
                 ln["outcome"], ln["gross"], ln["after_goal_cap"], ln["amount"], bool(ln.get("imputed")), bool(ln.get("cut"))]
                + [(ln.get("split") or {}).get(r, "0.00") for r in rec] for ln in lines],
               ["text"] * 4 + ["date", "text", "text", "num", "money", "money", "money", "bool", "bool"] + ["money"] * len(rec))
    total_row(ws, len(lines), [9, 10, 11] + list(range(14, 14 + len(rec))))  # gross, after the goal's cap, final, splits
    pay = payers(doc)
    ws = sheet("periods", [fx.t(k) for k in ("period", "from", "to", "due", "amount")] + [g["id"] for g in goals]
          + [f"{fx.t('payer')} {p}" for p in pay] + [fx.t("to_party", party=r) for r in rec] + [fx.t("cumulative")],
          [[p["period"], p["start"], p["end"], p["due"], p["amount"]] + [p.get("by_goal", {}).get(g["id"], "0.00") for g in goals]
           + [p.get("by_payer", {}).get(q, "0.00") for q in pay] + [p.get("by_recipient", {}).get(r, "0.00") for r in rec] + [p["cumulative"]]
           for p in doc.get("periods", [])],
          ["text", "date", "date", "date", "money"] + ["money"] * (len(goals) + len(pay) + len(rec) + 1))
    total_row(ws, len(doc.get("periods", [])), range(5, 6 + len(goals) + len(pay) + len(rec)))  # not the cumulative
    if doc.get("account"):
        periods = doc["account"]["periods"]
        ws = sheet("account", [fx.t(k) for k in ACCOUNT_COLUMNS],
                   [[p["period"], p["payer"], p["recipient"], p["due"], p["entitlement"], p["paid"], p["to_pay"],
                     p["unsettled"], fx.t(f"status.{p['status']}", date=fx.date(p["date"]) if p.get("date") else "")]
                    for p in periods],
                   ["text"] * 3 + ["date"] + ["money"] * 4 + ["text"])
        total_row(ws, len(periods), [c + 1 for c in sorted(ACCOUNT_MONEY)])
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
    for ws, row, col, formula in formulas:
        cell = ws.cell(row=row, column=col, value=formula)
        cell.number_format, cell.font = MONEY_FORMAT, bold
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
