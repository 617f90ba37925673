"""Reports rendered from the hand-made settlement document (tests/fixtures/settlement_sample.json).

The fixture follows docs/settlement-json.md and holds the seed's worked
example for school absence, cohort 1 (Bilag 5.1 2.6.2): 130,000.00,
72,150.00 and 0.00. A second fixture (tests/fixtures/settlement_results.json)
holds results against targets (metrics), figures, a price read from a table
for each line and caps per subject and per year. These tests check that every
format, in both languages, shows the engine's numbers in the locale's format
with every digit the engine carried, explains each line well enough to redo
it to the øre, and renders to the same bytes every time.
"""

from __future__ import annotations

import copy
import decimal
import io
import json
import random
import re
import zipfile
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest

from contractlang.i18n import CATALOGUE, Formatter, metric_status
from contractlang.render import (FORMATS, UnknownLine, canonical, describe_step, render, render_exclusions, render_flag,
                                 render_line, render_result)

FIXTURE = Path(__file__).parent / "fixtures" / "settlement_sample.json"
RESULTS = Path(__file__).parent / "fixtures" / "settlement_results.json"
ROOT = Path(__file__).resolve().parents[1]
NBSP = "\u00a0"
SEED_LINE = "school_absence/c1/m18"
LANGS = ("da", "en")


def _no_float(text):
    raise AssertionError(f"the settlement document must not hold a JSON float: {text}")


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"), parse_float=_no_float)


@pytest.fixture(scope="module")
def res() -> dict:
    return json.loads(RESULTS.read_text(encoding="utf-8"), parse_float=_no_float)


@pytest.fixture(scope="module", params=["sample", "results"])
def any_doc(request) -> dict:
    return json.loads((FIXTURE if request.param == "sample" else RESULTS).read_text(encoding="utf-8"), parse_float=_no_float)


def D(s) -> Decimal:
    return Decimal(s)


def line(doc, line_id):
    return next(ln for ln in doc["lines"] if ln["id"] == line_id)


# ---- the fixture itself is a consistent settlement ------------------------------------------

def test_fixture_totals_are_the_sums_of_the_lines(any_doc):
    doc = any_doc
    lines, t = doc["lines"], doc["totals"]
    pool = sum(D(ln["amount"]) for ln in lines)
    assert pool == D(t["pool"]) == sum(D(v) for v in t["by_payer"].values()) == sum(D(v) for v in t["by_recipient"].values())
    for payer, amount in t["by_payer"].items():
        assert D(amount) == sum(D(ln["amount"]) for ln in lines if ln["payer"] == payer)
    for party, amount in t["by_recipient"].items():
        assert D(amount) == sum(D(ln["split"].get(party, "0")) for ln in lines)
    for g in doc["goals"]:
        mine = [ln for ln in lines if ln["goal"] == g["id"]]
        assert D(t["goals"][g["id"]]) == sum(D(ln["after_goal_cap"]) for ln in mine)
        assert D(t["goal_cap_cut"][g["id"]]) == sum(D(ln["gross"]) - D(ln["after_goal_cap"]) for ln in mine)
        assert t["imputed"][g["id"]] == sum(1 for ln in mine if ln["imputed"])
    assert D(t["return_cap_cut"]) == sum(D(ln["after_goal_cap"]) - D(ln["amount"]) for ln in lines)


def test_fixture_lines_split_and_order(doc):
    ids = [ln["id"] for ln in doc["lines"]]
    assert len(ids) == len(set(ids))
    assert [ln["date"] for ln in doc["lines"]] == sorted(ln["date"] for ln in doc["lines"])
    for ln in doc["lines"]:
        assert ln["id"] == f"{ln['goal']}/{ln['subject']}/{ln['point']}"
        assert sum(D(v) for v in ln["split"].values()) == D(ln["amount"])
        assert sum(D(tr["amount"]) for tr in ln["tranche"]) == D(ln["amount"])
        for tr in ln["tranche"]:
            assert sum(D(v) for v in tr["split"].values()) == D(tr["amount"])
        assert ln["cut"] == (D(ln["amount"]) != D(ln["gross"]))
        payment = next(s for s in ln["trace"] if s["kind"] == "payment")
        assert D(payment["exact"]) == D(payment["outcome"]) * D(payment["rate"])
        assert D(payment["value"]) == D(ln["gross"]) == D(payment["exact"]).quantize(D("0.01"), ROUND_HALF_UP)
    # what the fixture is there to show
    assert any(ln["imputed"] for ln in doc["lines"])
    assert any(D(ln["after_goal_cap"]) < D(ln["gross"]) for ln in doc["lines"])            # cut by a goal cap
    assert any(D(ln["amount"]) < D(ln["after_goal_cap"]) for ln in doc["lines"])           # cut by the return cap
    assert any(len(ln["tranche"]) == 2 for ln in doc["lines"])                             # split at the threshold
    assert [line(doc, f"school_absence/c1/{p}")["amount"] for p in ("m12", "m18", "m24")] == ["130000.00", "72150.00", "0.00"]
    assert line(doc, SEED_LINE)["split"] == {"DSI": "53391.00", "LBF": "18759.00"}


def test_fixture_periods_and_rows(any_doc):
    doc = any_doc
    running = D(0)
    for p in doc["periods"]:
        mine = [ln for ln in doc["lines"] if ln["period"] == p["period"]]
        assert D(p["amount"]) == sum(D(ln["amount"]) for ln in mine) == sum(D(v) for v in p["by_goal"].values())
        running += D(p["amount"])
        assert D(p["cumulative"]) == running
    assert running == D(doc["totals"]["pool"])
    excluded = defaultdict(int)
    for r in doc["row_exclusions"]:
        excluded[r["file"]] += 1
    for f in doc["inputs"]["ledger"]:
        rows = doc["rows"][f["file"]]
        assert rows["total"] == f["rows"] == rows["used"] + rows["excluded"]
        assert rows["excluded"] == excluded[f["file"]]
        assert re.fullmatch(r"[0-9a-f]{64}", f["sha256"])


def test_fixture_has_every_step_kind(doc):
    kinds = {s["kind"] for item in doc["lines"] + doc["flags"] for s in item["trace"]}
    assert kinds == {"rule", "subject", "input", "missing", "value", "compute", "round", "impute", "payment", "cap",
                     "tranche", "flag", "note"}


# ---- formats -----------------------------------------------------------------------------------

def test_money_percent_date_formats():
    da, en = Formatter("da"), Formatter("en")
    assert da.money(D("72150.00")) == f"72.150,00{NBSP}kr."
    assert en.money(D("72150.00")) == f"DKK{NBSP}72,150.00"
    assert da.money("-5.5") == f"-5,50{NBSP}kr."
    assert (da.money("1234.5678"), en.money("1234.5678")) == (f"1.234,5678{NBSP}kr.", f"DKK{NBSP}1,234.5678")   # a price keeps its places
    assert (da.pct("5.07"), en.pct("5.07")) == (f"5,07{NBSP}%", "5.07%")
    assert (da.pct("74"), en.pct("74")) == (f"74{NBSP}%", "74%")
    assert (da.date("2028-10-31"), en.date("2028-10-31")) == ("31. okt. 2028", "31 Oct 2028")
    assert en.num("6500.00") == "6,500.00" and da.num("6500.00") == "6.500,00"
    assert da.num("0.239583333333…") == "0,239583333333…"                        # the engine cut it short: the mark stays
    assert (da.pp("-19"), en.pp("6"), en.pp("2.25")) == ("-19,0", "6.0", "2.25")
    assert da.expr("max(0, -(-21.1 - -10.0))") == "maks(0; -(-21,1 - -10,0))"
    assert en.expr("(7.50 - 9.50) / 9.50 * 100") == "(7.50 - 9.50) / 9.50 × 100"


def test_floats_are_refused(doc):
    with pytest.raises(TypeError):
        Formatter("en").money(72150.0)
    bad = copy.deepcopy(doc)
    bad["totals"]["pool"] = 402000.0
    with pytest.raises(TypeError):
        render(bad, "md", "en")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_format_renders_deterministically(doc, fmt, lang):
    first = render(doc, fmt, lang)
    assert isinstance(first, bytes if fmt == "xlsx" else str) and len(first) > 1000
    assert render(copy.deepcopy(doc), fmt, lang) == first


@pytest.mark.parametrize("fmt", FORMATS)
def test_key_order_does_not_matter(doc, fmt):
    """The engine's in-memory dict and its sorted JSON give the same report."""
    def shuffle(value, rnd):
        if isinstance(value, dict):
            keys = list(value)
            rnd.shuffle(keys)
            return {k: shuffle(value[k], rnd) for k in keys}
        if isinstance(value, list):
            return [shuffle(v, rnd) for v in value]
        return value
    assert render(shuffle(doc, random.Random(7)), fmt, "da") == render(doc, fmt, "da")
    as_decimals = copy.deepcopy(doc)
    as_decimals["totals"]["pool"] = Decimal(doc["totals"]["pool"])
    assert canonical(as_decimals) == canonical(doc)


def test_unknown_format_or_language(doc):
    with pytest.raises(ValueError, match="format"):
        render(doc, "pdf", "da")
    with pytest.raises(ValueError, match="language"):
        render(doc, "md", "de")


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_amounts_in_the_locale(doc, fmt):
    da, en = render(doc, fmt, "da"), render(doc, fmt, "en")
    assert f"72.150,00{NBSP}kr." in da and f"402.000,00{NBSP}kr." in da
    assert f"DKK{NBSP}72,150.00" in en and f"DKK{NBSP}402,000.00" in en
    assert f"74{NBSP}%" in da and "74%" in en
    assert "31. okt. 2028" in da and "31 Oct 2028" in en
    assert "72,150.00" not in da and "72.150,00" not in en


@pytest.mark.parametrize("fmt", ["md", "html", "text"])
def test_every_word_in_the_language(doc, fmt):
    da, en = render(doc, fmt, "da"), render(doc, fmt, "en")
    for english in ("Summary", "By payer", "Rounded", "Computed", "Payment lines", "Cumulative", "Total repayment"):
        assert english not in da, english
    for danish in ("Oversigt", "Pr. betaler", "Afrundet", "Beregnet", "Betalingslinjer", "Akkumuleret", "Tilbagebetaling i alt"):
        assert danish not in en, danish
    assert "halvår" in da and "H2 2024" in en


def test_catalogue_is_complete():
    for key, (da, en) in CATALOGUE.items():
        assert da and en, key
        assert sorted(re.findall(r"{(\w+)", da)) == sorted(re.findall(r"{(\w+)", en)), key


@pytest.mark.parametrize("lang", LANGS)
def test_every_step_is_a_sentence(doc, lang):
    fx = Formatter(lang)
    for item in doc["lines"] + doc["flags"]:
        for step in item["trace"]:
            sentence, _ = describe_step(step, doc, fx)
            other, _ = describe_step(step, doc, Formatter("en" if lang == "da" else "da"))
            assert sentence and not sentence.startswith(("Step ", "Trin ")), step
            assert sentence != other, step
            assert "None" not in sentence, sentence


# ---- explanations ----------------------------------------------------------------------------

def test_explain_the_seed_line_in_danish(doc):
    text = render_line(doc, SEED_LINE, "da")
    for needed in ("9,50", "7,50", "-21,052631578947368421052631578947368421052631578947", "-21,1", "-10,0", "11,1", "6.500,00", f"72.150,00{NBSP}kr.",
                   "§ Bilag 5.1 2.6.2", "halve væk fra nul", "1 decimal", "§ Tilsagn 5.2", "§ Bilag 5.1 1.1",
                   f"53.391,00{NBSP}kr.", f"18.759,00{NBSP}kr.", f"74{NBSP}%", "measurements.csv linje 4104"):
        assert needed in text, needed
    assert "Afrundet -21,052631578947368421052631578947368421052631578947 til -21,1 (1 decimal, halve væk fra nul" in text


def test_explain_the_seed_line_in_english(doc):
    text = render_line(doc, SEED_LINE, "en")
    for needed in ("9.50", "7.50", "-21.1", "-10.0", "11.1", "6,500.00", f"DKK{NBSP}72,150.00", "§ Bilag 5.1 2.6.2",
                   "half away from zero",
                   "Rounded -21.052631578947368421052631578947368421052631578947 to -21.1 (1 decimal, half away from zero"):
        assert needed in text, needed


def test_a_reader_can_redo_the_seed_line_from_the_words_alone(doc):
    """Take the numbers out of the English explanation and compute the payment to the øre."""
    text = render_line(doc, SEED_LINE, "en")
    diffs = []
    for i, c in re.findall(r"Computed \((-?[\d.]+) - (-?[\d.]+)\) / [\d.]+ × 100", text):
        raw = (D(i) - D(c)) / D(c) * 100
        diffs.append(raw.quantize(D("0.1"), rounding=ROUND_HALF_UP))   # half away from zero, as the explanation says
    baseline, m18 = diffs
    outcome = max(D(0), -(m18 - baseline))
    rate = D(re.search(rf"rate DKK{NBSP}([\d,]+\.\d\d)", text).group(1).replace(",", ""))
    assert (baseline, m18, outcome) == (D("-10.0"), D("-21.1"), D("11.1"))
    assert (outcome * rate).quantize(D("0.01"), ROUND_HALF_UP) == D("72150.00") == D(line(doc, SEED_LINE)["amount"])


def test_explain_imputed_and_cut_lines(doc):
    imputed = render_line(doc, "employment/P00007/m12", "en")
    assert "Imputed (moved away)" in imputed and "0.2875" in imputed and "80 values" in imputed and "§ Bilag 5.1 2.3" in imputed
    goal_cap = render_line(doc, "school_absence/c2/m12", "da")
    assert f"kun 37.850,00{NBSP}kr. af 45.500,00{NBSP}kr." in goal_cap and "§ Bilag 5.1 2.6.3" in goal_cap
    return_cap = render_line(doc, "social_measures/P00031/m24", "en")
    assert f"only DKK{NBSP}29,127.50 of DKK{NBSP}42,000.00 fits" in return_cap
    split = render_line(doc, "social_measures/P00005/m24", "da")
    assert "Tranche 1" in split and "Tranche 2" in split and f"23.478,35{NBSP}kr." in split and f"52.272,50{NBSP}kr." in split


def test_explain_an_unknown_line_suggests(doc):
    with pytest.raises(UnknownLine, match="school_absence/c1/m18"):
        render_line(doc, "school_absence/c1/m81", "en")


def test_flags_and_exclusions_as_text(doc):
    flag = render_flag(doc, "small_cohort", "da")
    assert "c3" in flag and "Kohorte med under 30 husstande" in flag and "Grænse: 30" in flag
    with pytest.raises(UnknownLine):
        render_flag(doc, "small_cohorts", "en")
    excl = render_exclusions(doc, "en")
    for r in doc["row_exclusions"]:
        assert re.search(rf"\b{r['line']}\b", excl)
    assert "not due by the settlement date" in excl


# ---- report structure ----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["md", "html", "text"])
def test_integrity_block_comes_first(doc, fmt):
    out = render(doc, fmt, "en")
    hashes = [doc["inputs"]["contract"]["sha256"]] + [f["sha256"] for f in doc["inputs"]["ledger"]]
    for h in hashes:
        assert h in out
    first_amount = out.index(f"DKK{NBSP}")
    assert max(out.index(h) for h in hashes) < first_amount
    assert "contractlang 0.1.0" in out and "31 Oct 2028" in out


def test_markdown_sections_in_order(doc):
    md = render(doc, "md", "en")
    heads = ["## Inputs and checksums", "## Summary", "### By payer", "### By recipient", "### Return cap", "### Periods",
             "## Payment goals", "## Payment lines by goal and period", "## Flags", "## Exclusions",
             "### Rows accounting", "## Appendix: Payment lines", "### Audit trails"]
    positions = [md.index(h) for h in heads]
    assert positions == sorted(positions)
    for ln in doc["lines"]:
        assert f"#### Line `{ln['id']}`" in md
    assert md.count("```text") == len(doc["goals"]) + sum(1 for f in doc["flags"] for s in f["trace"] if s["kind"] == "rule")


def test_text_summary_is_compact(doc):
    out = render(doc, "text", "da")
    assert len(out.splitlines()) < 60
    assert f"402.000,00{NBSP}kr." in out and "2. halvår 2026" in out and "small_cohort" in out
    assert "contractlang explain" in out


def test_html_is_self_contained(doc):
    page = render(doc, "html", "da")
    assert "http://" not in page and "https://" not in page
    for attr in re.findall(r'\b(?:src|href|xlink:href|action)\s*=\s*"([^"]*)"', page):
        assert attr.startswith("#"), attr
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    for target in re.findall(r'href="#([^"]+)"', page):
        assert target in ids
    for banned in ("<script", "<link", "<img", "<iframe", "@import", "url(", "@font-face"):
        assert banned not in page.lower()
    assert page.startswith("<!DOCTYPE html>") and '<html lang="da">' in page


def test_html_structure_and_charts(doc):
    page = render(doc, "html", "en")
    assert page.index('id="integrity"') < page.index('id="summary"') < page.index('id="periods"') \
        < page.index('id="goals"') < page.index('id="line-groups"') < page.index('id="flags"') \
        < page.index('id="exclusions"') < page.index('id="lines"')  # the lines and their trails: an appendix
    assert page.count("<details") == len(doc["lines"]) + len(doc["flags"]) + len(doc["goals"])
    assert '<svg id="chart-cumulative"' in page and '<svg id="chart-goals"' in page
    assert page.count('class="threshold"') == 2                            # the return cap and the tranche threshold
    assert 'class="series-pool"' in page and 'class="series-payer"' in page
    bars = sum(1 for p in doc["periods"] for v in p["by_goal"].values() if D(v) > 0)
    assert page.count('<rect class="bar"') == bars
    for g in doc["goals"]:
        assert f">{g['title']}</text>" in page                              # the legend
    assert f"Return cap Kommunen: DKK{NBSP}400,000.00" in page and f"Tranche 1 → 2: DKK{NBSP}300,000.00" in page
    assert 'class="num"' in page and "@media print" in page


def test_html_escapes_everything(doc):
    evil = copy.deepcopy(doc)
    evil["contract"]["title"] = "<script>alert('x')</script> & Co"
    evil["flags"][0]["details"]["note"] = "<b>bold</b>"
    evil["lines"][0]["trace"].append({"kind": "note", "text": "a < b & c > d"})
    page = render(evil, "html", "en")
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp; Co" in page
    assert "<b>bold</b>" not in page and "a &lt; b &amp; c &gt; d" in page


# ---- xlsx ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_reopens_and_adds_up(doc, lang):
    data = render(doc, "xlsx", lang)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    names = {"da": ["Oversigt", "Mål", "Linjer", "Perioder", "Flag", "Udeladelser", "Rækker"],
             "en": ["Summary", "Goals", "Lines", "Periods", "Flags", "Exclusions", "Rows"]}[lang]
    assert wb.sheetnames == names
    ws = wb[names[2]]
    header = [c.value for c in ws[1]]
    assert ws.freeze_panes == "A2"
    amount_col = header.index({"da": "Til betaling", "en": "Amount"}[lang]) + 1
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    body, total = rows[:-1], rows[-1]
    assert len(body) == len(doc["lines"])
    assert sum(Decimal(str(r[amount_col - 1])) for r in body) == D(doc["totals"]["pool"])
    # The lines are an Excel table; under it, the totals are formulas over the rows a filter shows.
    letter = openpyxl.utils.get_column_letter(amount_col)
    assert ws.tables["Lines"].ref == f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}{len(body) + 1}"
    assert total[0] == {"da": "I alt", "en": "Total"}[lang]
    assert total[amount_col - 1] == f"=SUBTOTAL(109,{letter}2:{letter}{len(body) + 1})"
    periods = wb[names[3]]
    assert periods.tables["Periods"] and list(periods.iter_rows(values_only=True))[-1][4] == \
        f"=SUBTOTAL(109,E2:E{len(doc['periods']) + 1})"
    assert sum(Decimal(str(r[4])) for r in list(periods.iter_rows(min_row=2, values_only=True))[:-1]) \
        == D(doc["totals"]["pool"])
    for party, amount in doc["totals"]["by_recipient"].items():
        col = header.index({"da": f"Til {party}", "en": f"To {party}"}[lang])
        assert sum(Decimal(str(r[col])) for r in body) == D(amount)
    seed = next(r for r in body if r[0] == SEED_LINE)
    assert Decimal(str(seed[amount_col - 1])) == D("72150.00")
    assert ws.cell(row=2, column=amount_col).number_format == "#,##0.00"
    assert ws.column_dimensions["A"].width > 10
    assert wb.properties.created.date().isoformat() == doc["as_of"] == wb.properties.modified.date().isoformat()


def test_xlsx_bytes_are_fixed(doc):
    data = render(doc, "xlsx", "en")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert {i.date_time for i in z.infolist()} == {(2028, 10, 31, 0, 0, 0)}
        core = z.read("docProps/core.xml").decode()
    assert "2028-10-31T00:00:00Z" in core
    assert render(doc, "xlsx", "en") == data


# ---- results against targets, figures, prices per line, caps per subject and year -------------

def _mean(values) -> Decimal:
    with decimal.localcontext() as ctx:
        ctx.prec = 50   # the engine's working precision (docs/semantics.md)
        return sum(values, D(0)) / len(values)


def test_results_fixture_is_consistent(res):
    """The second fixture: shares, gaps, aggregates and capped lines are what the engine would give."""
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        for m in res["reports"]["metrics"]:
            assert D(m["share"]) == D(m["count"]) / D(m["subjects"]) * 100 == D(m["value"])
            if "target" in m:
                assert D(m["gap_pp"]) == D(m["share_rounded"]) - D(m["target"]) and m["met"] == (D(m["gap_pp"]) >= 0)
        figures = {f["id"]: f for f in res["reports"]["figures"]}
        total, mean = (next(s for s in figures[f]["trace"] if s["kind"] == "aggregate") for f in ("grants_total", "grants_mean"))
        assert len(total["lines"]) == total["observations"] == 97 and total["lines"] == mean["lines"]
        assert D(mean["value"]) == D(total["value"]) / 97
    running = defaultdict(Decimal)
    for ln in res["lines"]:
        for step in ln["trace"]:
            if step["kind"] == "cap":
                key = (step["cap"], step["per"], step["period"])
                assert D(step["running_before"]) == running[key]
                assert D(step["after"]) == max(D(0), min(D(step["before"]), D(step["limit"]) - running[key]))
                running[key] += D(step["after"])
                assert step["period"] == {"subject": ln["subject"], "year": ln["date"][:4], None: None}[step["per"]]
    assert any(ln["cut"] for ln in res["lines"])
    kinds = {s["kind"] for item in res["lines"] + res["reports"]["metrics"] + res["reports"]["figures"] for s in item["trace"]}
    assert {"aggregate", "compute", "value", "cap", "round", "impute", "missing"} <= kinds
    assert {g["rate"] for g in res["goals"]} == {"prices.price[qualification]", "4000.00"}
    assert {c["per"] for g in res["goals"] for c in g["caps"]} == {None, "subject", "year"}


@pytest.mark.parametrize("fmt", ["md", "html", "text"])
def test_results_against_targets_in_every_format(res, fmt):
    da, en = render(res, fmt, "da"), render(res, fmt, "en")
    assert "Resultater mod mål" in da and "Results against targets" in en
    for out in (da, en):
        assert "Job eller uddannelse" in out and "job_or_education" in out
    # share rounded as declared, the exact share with every digit, the target, the gap in words
    assert f"16{NBSP}%" in da and "16%" in en and f"17,9{NBSP}%" in da and "17.9%" in en
    assert f"15,94202898550724637681159420289855072463768115942{NBSP}%" in da
    assert "15.94202898550724637681159420289855072463768115942%" in en
    assert f"35{NBSP}%" in da and "35%" in en
    assert "mål ikke nået: 19,0 procentpoint under" in da and "missed by 19.0 percentage points" in en
    assert "mål nået: 15,0 procentpoint over" in da and "met: 15.0 percentage points above the target" in en
    assert "intet mål" in da and "no target" in en
    # counts of subjects
    assert re.search(r"\b69\b", en) and re.search(r"\b11\b", en)


@pytest.mark.parametrize("fmt", ["md", "html", "text"])
def test_figures_in_every_format(res, fmt):
    da, en = render(res, fmt, "da"), render(res, fmt, "en")
    assert "Nøgletal" in da and "Figures" in en
    for value_da, value_en in (("4.083.685", "4,083,685"), ("42.100", "42,100"), ("2,8", "2.8"), ("180.000", "180,000")):
        assert value_da in da and value_en in en
    assert "Ansøgte og bevilgede midler i alt" in da and "§ s. 41" in en
    assert "4,083,685" not in da and "4.083.685" not in en


def test_results_come_after_the_summary(res):
    md = render(res, "md", "en")
    heads = ["## Summary", "### Periods", "## Results against targets", "## Figures", "## Payment goals", "## Payment lines"]
    positions = [md.index(h) for h in heads]
    assert positions == sorted(positions)
    page = render(res, "html", "en")
    assert page.index('id="summary"') < page.index('id="chart-goals"') < page.index('id="results"') \
        < page.index('id="figures"') < page.index('id="goals"')
    text = render(res, "text", "en")
    assert text.index("Total repayment") < text.index("Results against targets") < text.index("Figures") < text.index("Flags raised")


def test_results_trails_are_folded_away(res):
    page = render(res, "html", "da")
    metrics, figures = res["reports"]["metrics"], res["reports"]["figures"]
    for m in metrics:
        assert f'<details id="metric-{m["id"]}">' in page and f'href="#metric-{m["id"]}"' in page
    for f in figures:
        assert f'<details id="figure-{f["id"]}">' in page and f'href="#figure-{f["id"]}"' in page
    goal_texts = {s["goal"] for ln in res["lines"] for s in ln["trace"] if s["kind"] == "rule"}
    assert page.count("<details") == len(res["lines"]) + len(metrics) + len(figures) + len(goal_texts)
    trail = page[page.index('<details id="metric-job_or_education">'):]
    trail = trail[:trail.index("</details>")]
    assert "Reglen for resultatet gælder" in trail and "Andel: 11 af 69 personer × 100" in trail
    assert "Afstand til målet: 16 − 35 = -19 procentpoint" in trail and '<pre class="source">metric job_or_education' in trail
    md = render(res, "md", "en")
    assert "### `job_or_education`: How the result was computed" in md and "### `grants_total`: How the figure was computed" in md
    assert md.count("```text") == len(goal_texts) + len(metrics) + len(figures)


def test_documents_without_results_have_no_results_sections(doc):
    """Viborg has no metrics and no figures: its reports show neither section nor sheet."""
    for fmt, lang in (("md", "en"), ("md", "da"), ("html", "en"), ("text", "da")):
        out = render(doc, fmt, lang)
        for word in ("Results against targets", "Resultater mod mål", 'id="results"', 'id="figures"', "## Figures", "Nøgletal"):
            assert word not in out, (fmt, lang, word)
    wb = openpyxl.load_workbook(io.BytesIO(render(doc, "xlsx", "en")))
    assert "Results" not in wb.sheetnames and "Figures" not in wb.sheetnames
    for fmt in ("md", "html"):   # the reduction stays in the other reports
        assert "Relative reduction" in render(doc, fmt, "en")


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_goal_price_expression_and_caps_per_subject_and_year(res, doc, fmt):
    da, en = render(res, fmt, "da"), render(res, fmt, "en")
    code = {"md": "`prices.price[qualification]`", "html": "<code>prices.price[qualification]</code>"}[fmt]
    assert f"{code} per participant" in en and f"{code} pr. deltager" in da
    assert f"DKK{NBSP}4,000.00 per participant" in en and f"4.000,00{NBSP}kr. pr. deltager" in da
    assert f"DKK{NBSP}10,000.00 per subject; DKK{NBSP}20,000.00 per year" in en
    assert f"10.000,00{NBSP}kr. pr. deltager; 20.000,00{NBSP}kr. pr. år" in da
    assert f"DKK{NBSP}15,000.00" in en
    # a contract-wide cap and a plain price read as before
    old = render(doc, fmt, "en")
    assert f"DKK{NBSP}6,500.00 per percentage point" in old and f"DKK{NBSP}240,000.00" in old


@pytest.mark.parametrize("lang", LANGS)
def test_new_steps_in_words(res, lang):
    """Aggregates with their rows, the price of a line, caps per subject and year, shares and gaps."""
    fx = Formatter(lang)
    figures = {f["id"]: f for f in res["reports"]["figures"]}
    total = next(s for s in figures["grants_total"]["trace"] if s["kind"] == "aggregate")
    sentence, _ = describe_step(total, res, fx)
    rows = ", ".join(str(n) for n in total["lines"][:20])
    if lang == "en":
        assert sentence == (f"Total of granted at start over 97 observed values (measurements.csv lines {rows} … and 77 more) "
                            "= 4,083,685.")
    else:
        assert sentence == (f"Sum af granted ved start over 97 observerede værdier (measurements.csv linjer {rows} … og 77 flere) "
                            "= 4.083.685.")
    assert str(total["lines"][20]) not in sentence.split("…")[0].split(", ")
    mean = next(s for s in figures["grants_mean"]["trace"] if s["kind"] == "aggregate")
    sentence, _ = describe_step(mean, res, fx)
    assert sentence.startswith({"en": "Mean of granted", "da": "Gennemsnit af granted"}[lang])
    assert {"en": "= 42,099.845360824742268041237113402061855670103092784.",
            "da": "= 42.099,845360824742268041237113402061855670103092784."}[lang] in sentence
    one = dict(total, lines=[105], observations=1)
    assert {"en": "(measurements.csv line 105)", "da": "(measurements.csv linje 105)"}[lang] in describe_step(one, res, fx)[0]
    line = next(ln for ln in res["lines"] if ln["id"] == "qualification/P001/m12")
    words = [describe_step(s, res, fx)[0] for s in line["trace"]]
    expect = {"en": [f"Rate at m12 = DKK{NBSP}6,000.00, by prices.price[qualification].",
                     f"Cap of goal qualification per subject (P001): DKK{NBSP}10,000.00 (§ Bilag 2 3.1). DKK{NBSP}6,000.00 is "
                     f"already counted, so only DKK{NBSP}4,000.00 of DKK{NBSP}6,000.00 fits under the cap.",
                     f"Cap of goal qualification per year (2020): DKK{NBSP}20,000.00 (§ Bilag 2 3.2)."],
              "da": [f"Sats ved m12 = 6.000,00{NBSP}kr., efter prices.price[qualification].",
                     f"Loft for mål qualification pr. deltager (P001): 10.000,00{NBSP}kr. (§ Bilag 2 3.1). 6.000,00{NBSP}kr. er "
                     f"allerede medregnet, så kun 4.000,00{NBSP}kr. af 6.000,00{NBSP}kr. ligger inden for loftet.",
                     f"Loft for mål qualification pr. år (2020): 20.000,00{NBSP}kr. (§ Bilag 2 3.2)."]}[lang]
    text = "\n".join(words)
    for e in expect:
        assert e in text, e
    metric = res["reports"]["metrics"][0]
    words = [describe_step(s, res, fx)[0] for s in metric["trace"]]
    assert words[0] == {"en": "The result's rule applies, § Resultater, tabellen.",
                        "da": "Reglen for resultatet gælder, § Resultater, tabellen."}[lang]
    assert words[1] == {"en": "Share: 11 of 69 persons × 100 = 15.94202898550724637681159420289855072463768115942%.",
                        "da": f"Andel: 11 af 69 personer × 100 = 15,94202898550724637681159420289855072463768115942{NBSP}%."}[lang]
    assert words[-1] == {"en": "Gap to the target: 16 − 35 = -19 percentage points.",
                         "da": "Afstand til målet: 16 − 35 = -19 procentpoint."}[lang]
    uses = [describe_step(s, res, fx)[0] for s in figures["break_even_months"]["trace"] + figures["expected_jobs"]["trace"]]
    assert {"en": "grants_mean = 42,100: the figure grants_mean (see Figures).",
            "da": "grants_mean = 42.100: nøgletallet grants_mean (se Nøgletal)."}[lang] in uses
    assert any(u.startswith({"en": "job_or_education = 15.942028985507246376811594202898550724637681159", "da":
                             "job_or_education = 15,942028985507246376811594202898550724637681159"}[lang]) for u in uses)
    assert describe_step(figures["grants_total"]["trace"][0], res, fx)[0].startswith({"en": "The figure's rule", "da":
                                                                                      "Reglen for nøgletallet"}[lang])


def test_payer_caps_and_other_owners_in_words(res):
    en = Formatter("en")
    step = {"kind": "cap", "cap": "Kommunen", "limit": "40000.00", "running_before": "36000.00", "before": "8000.00",
            "after": "4000.00", "clause": "Example 4.4", "per": "subject", "period": "P007"}
    assert describe_step(step, res, en)[0].startswith(f"Cap on the goals Kommunen pays, per subject (P007): DKK{NBSP}40,000.00")
    assert describe_step(dict(step, per=None, period=None), res, en)[0].startswith("Cap on the goals Kommunen pays: DKK")
    rule = {"kind": "rule", "goal": None, "clause": "X", "text": 'flag f "F" { when a }'}
    assert describe_step(rule, res, en)[0] == "The flag's rule applies, § X."
    assert describe_step(dict(rule, text="id: f"), res, en)[0] == "The rule applies, § X."
    assert describe_step(dict(rule, text="id: f"), res, en, owner="metric")[0] == "The result's rule applies, § X."


@pytest.mark.parametrize("lang", LANGS)
def test_every_step_of_the_results_fixture_is_a_sentence(res, lang):
    fx, other = Formatter(lang), Formatter("en" if lang == "da" else "da")
    items = res["lines"] + res["reports"]["metrics"] + res["reports"]["figures"]
    for item in items:
        for step in item["trace"]:
            sentence, _ = describe_step(step, res, fx)
            assert sentence and not sentence.startswith(("Step ", "Trin ")), step
            assert sentence != describe_step(step, res, other)[0], step
            assert "None" not in sentence, sentence


def test_a_reader_can_redo_the_figures_from_the_words_alone(res):
    """The mean and the break-even of the business case, redone from the English explanation."""
    text = render_result(res, "grants_mean", "en")
    n, value = re.search(r"over (\d+) observed values .* = ([\d,]+\.\d+)\.", text).groups()
    total = render_result(res, "grants_total", "en")
    summed = D(re.search(r"over 97 observed values .* = ([\d,]+)\.", total).group(1).replace(",", ""))
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        assert D(value.replace(",", "")) == summed / int(n)
    assert "Rounded 42,099.845360824742268041237113402061855670103092784 to 42,100" in text
    text = render_result(res, "break_even_months", "en")
    mean = D(re.search(r"grants_mean = ([\d,]+):", text).group(1).replace(",", ""))
    cost = D(re.search(r"cost_per_year = ([\d,]+):", text).group(1).replace(",", ""))
    before = D(re.search(r"Rounded ([\d.]+) to 2\.8 \(1 decimal, half up", text).group(1))
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        assert before == mean / (cost / 12)
    assert before.quantize(D("0.1"), ROUND_HALF_UP) == D("2.8")


def test_a_reader_can_redo_the_seed_rounding_from_the_words_alone(doc):
    text = render_line(doc, SEED_LINE, "en")
    found = re.findall(r"Computed \((-?[\d.]+) - (-?[\d.]+)\) / [\d.]+ × 100 = (-?[\d.]+)\.\n.*Rounded \3 to (-?[\d.]+)", text)
    assert [after for *_, after in found] == ["-10.0", "-21.1"]
    for i, c, before, after in found:
        with decimal.localcontext() as ctx:
            ctx.prec = 50
            assert D(before) == (D(i) - D(c)) / D(c) * 100
        assert D(before).quantize(D("0.1"), ROUND_HALF_UP) == D(after)
    assert found[1][2] == "-21.052631578947368421052631578947368421052631578947"


def test_results_and_figures_explained_as_text(res):
    text = render_line(res, "job_or_education", "da")       # `explain` with a result's id
    assert text == render_result(res, "job_or_education", "da")
    assert text.startswith("Resultat job_or_education\n") and "Mod målet     mål ikke nået: 19,0 procentpoint under" in text
    assert "Sådan er resultatet beregnet:" in text and "  2. Andel: 11 af 69 personer × 100" in text
    figure = render_result(res, "grants_total", "en")
    assert figure.startswith("Figure grants_total\n") and "Value   4,083,685" in figure and "… and 77 more" in figure
    with pytest.raises(UnknownLine, match="job_or_education"):
        render_result(res, "job_or_educaton", "en")
    with pytest.raises(UnknownLine):
        render_line(res, "job_or_educaton", "en")


def test_metric_status_sentences():
    da, en = Formatter("da"), Formatter("en")
    m = {"target": "35", "gap_pp": "0", "met": True}
    assert (metric_status(m, en), metric_status(m, da)) == ("met exactly", "mål nået præcist")
    m = {"target": "35", "gap_pp": "-2.25", "met": False}
    assert (metric_status(m, en), metric_status(m, da)) == ("missed by 2.25 percentage points",
                                                            "mål ikke nået: 2,25 procentpoint under")
    m = {"target": "35", "gap_pp": "missing", "met": False, "share": "missing", "share_rounded": "missing"}
    assert (metric_status(m, en), metric_status(m, da)) == ("no observed values", "ingen observerede værdier")
    assert metric_status({"gap_pp": "3"}, en) == "no target"


@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_results_and_figures_sheets(res, lang):
    wb = openpyxl.load_workbook(io.BytesIO(render(res, "xlsx", lang)))
    names = {"da": ["Oversigt", "Resultater", "Nøgletal", "Mål", "Linjer", "Perioder", "Flag", "Udeladelser", "Rækker"],
             "en": ["Summary", "Results", "Figures", "Goals", "Lines", "Periods", "Flags", "Exclusions", "Rows"]}[lang]
    assert wb.sheetnames == names
    rows = list(wb[names[1]].iter_rows(values_only=True))
    header, body = rows[0], {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert len(body) == len(res["reports"]["metrics"])
    job = body["job_or_education"]
    share, exact, target = ({"da": ("Andel", "Eksakt andel", "Målværdi"), "en": ("Share", "Exact share", "Target")}[lang])
    assert job[share] == 16 and job[target] == 35
    # too many digits for a spreadsheet number: the number to 15 digits, the exact text in the cell's comment
    assert job[exact] == pytest.approx(15.9420289855072, abs=1e-13)
    cells = next(r for r in wb[names[1]].iter_rows(min_row=2) if r[0].value == "job_or_education")
    comment = cells[header.index(exact)].comment.text
    assert comment.endswith(": 15.94202898550724637681159420289855072463768115942")
    assert body["specialised_plan"][header[8]] == 15 and body["job_or_education"][header[8]] == -19
    assert {"da": "mål ikke nået: 19,0 procentpoint under", "en": "missed by 19.0 percentage points"}[lang] in job.values()
    assert body["ordinary_job"][target] is None and str(body["ordinary_job"][share]) == "17.9"
    figures = {r[0]: r for r in wb[names[2]].iter_rows(min_row=2, values_only=True)}
    assert figures["grants_total"][2] == 4083685 and str(figures["break_even_months"][2]) == "2.8"
    assert figures["expected_jobs"][2] == pytest.approx(15.9420289855072, abs=1e-13)  # exact in the comment
    goals = list(wb[names[3]].iter_rows(values_only=True))
    gh = goals[0]
    assert gh[6:8] == ({"da": ("Loft pr. deltager", "Loft pr. år"), "en": ("Cap per subject", "Cap per year")}[lang])
    qualification = dict(zip(gh, goals[1]))
    assert qualification[gh[3]] == "prices.price[qualification]"                  # the price expression, as text
    assert (qualification[gh[6]], qualification[gh[7]], qualification[gh[5]]) == (10000, 20000, None)
    attendance = dict(zip(gh, goals[2]))
    assert attendance[gh[3]] == 4000 and attendance[gh[5]] == 15000
    assert wb[names[3]].cell(row=3, column=4).number_format == "#,##0.00"


def test_no_number_is_cut_short(doc, res):
    """Issue 4: no `…` after a digit anywhere in any report (the row lists end in `… and N more`)."""
    for d in (doc, res):
        for fmt in ("md", "html", "text"):
            for lang in LANGS:
                out = render(d, fmt, lang)
                assert not re.search(r"\d…", out), (fmt, lang, re.search(r".{40}\d….{10}", out))
        for ln in d["lines"][:40]:
            assert not re.search(r"\d…", render_line(d, ln["id"], "da"))
    for m in res["reports"]["metrics"] + res["reports"]["figures"]:
        for lang in LANGS:
            assert not re.search(r"\d…", render_result(res, m["id"], lang))
    page = render(res, "html", "en")
    assert "0.66666666666666666666666666666666666666666666666667" in page            # the imputed outcome, in full
    assert "2,666.6666666666666666666666666666666666666666666667" in page           # outcome × price, unrounded


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("lang", LANGS)
def test_results_render_deterministically(res, fmt, lang):
    first = render(res, fmt, lang)
    assert render(copy.deepcopy(res), fmt, lang) == first
    assert render(json.loads(json.dumps(res)), fmt, lang) == first


def test_results_html_is_self_contained(res):
    page = render(res, "html", "da")
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for target in re.findall(r'href="#([^"]+)"', page):
        assert target in ids
    for banned in ("<script", "<link", "<img", "http://", "https://"):
        assert banned not in page


# ---- reason codes and labels: every code the engine writes is translated ---------------------------

def _engine_codes() -> set[str]:
    """The reason codes evaluate.py and explain.py write into `exclusions` and `row_exclusions`."""
    codes = set()
    for name in ("evaluate.py", "explain.py"):
        src = (ROOT / "contractlang" / name).read_text(encoding="utf-8")
        codes |= set(re.findall(r'"reason": "(\w+)"', src))
        codes |= set(re.findall(r'reason, detail = "(\w+)"', src))
        for line in re.findall(r"why = (.+)", src):
            codes |= set(re.findall(r'"(\w+)"', line)) - {"replaced"}
    return codes


def test_every_engine_reason_code_is_translated(res):
    codes = _engine_codes()
    assert {"not_counting", "not_eligible", "not_due", "rate_missing", "missing_not_replaced", "replaced_no_correction",
            "not_started", "not_read"} <= codes
    for code in codes:
        assert f"reason.{code}" in CATALOGUE, code
    da = render(res, "md", "da")
    for code in ("rate_missing", "missing_not_replaced", "replaced_no_correction", "not_started"):
        assert CATALOGUE[f"reason.{code}"][0] in da and CATALOGUE[f"reason.{code}"][1] not in da
        assert f"| {code} |" not in da


def test_every_detail_key_has_a_label():
    """The keys the engine puts in a flag's `details` and a result's fields have Danish labels."""
    src = (ROOT / "contractlang" / "evaluate.py").read_text(encoding="utf-8")
    keys = set(re.findall(r'details\["(\w+)"\]', src)) | set(re.findall(r'"(observed|largest_deviation_pp|category)"', src))
    keys |= {"goal", "point", "cohort", "subjects", "count", "missing", "share", "share_rounded", "target", "gap_pp", "met"}
    for key in keys:
        assert f"key.{key}" in CATALOGUE, key


# ---- reports a board can read (issue 15) ---------------------------------------------------------------

SETTLEMENTS = sorted((Path(__file__).resolve().parents[1] / "contracts").rglob("settlement.json"))


@pytest.mark.parametrize("path", SETTLEMENTS, ids=lambda p: p.parent.name)
def test_the_lines_by_goal_and_period_add_up_to_the_lines_and_the_pool(path):
    from contractlang.markup import line_groups

    doc = json.loads(path.read_text(encoding="utf-8"), parse_float=_no_float)
    groups = line_groups(doc)
    assert sum(g["lines"] for g in groups) == len(doc["lines"])
    assert sum(g["imputed"] for g in groups) == sum(1 for ln in doc["lines"] if ln.get("imputed"))
    assert sum((g["amount"] for g in groups), Decimal(0)) == Decimal(doc["totals"]["pool"])
    for gid, amount in doc["totals"]["goals"].items():  # a goal's lines after the return cap: at most its amount
        assert sum((g["amount"] for g in groups if g["goal"] == gid), Decimal(0)) <= Decimal(amount)
    keys = [(g["goal"], g["period"]) for g in groups]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_report_lists_the_lines_up_to_its_rows_and_groups_and_counts_beyond(doc, fmt):
    listed = render(doc, fmt, "en", rows=None)
    grouped = render(doc, fmt, "en", rows=len(doc["lines"]) - 1)
    for ln in doc["lines"]:
        assert ln["id"] in listed and f"Line `{ln['id']}`" not in grouped and f'id="line-{ln["id"]}' not in grouped
    assert f"The {len(doc['lines'])} payment lines are too many to list here" in grouped
    assert "Payment lines by goal and period" in grouped and "Payment lines by goal and period" in listed
    few = render(doc, fmt, "en", rows=1)
    exclusions = doc["exclusions"]
    assert len(exclusions) > 1 and f"The {len(exclusions)} exclusions are counted by reason below" in few
    # Each reason's count is shown, and the counts add up to the exclusions.
    from contractlang.markup import counted

    counts = counted(exclusions, "goal", "reason")
    assert sum(n for _, n in counts) == len(exclusions)
    for (goal, reason), n in counts:
        assert re.search(rf"{re.escape(goal)}\W[^\n]*?{n}\b", few)


def test_a_long_number_is_shown_short_with_its_exact_value_at_hand():
    fx = Formatter("da")
    exact = "0.26331514679137438295661210704078981553650298778904"
    assert fx.short(exact) == ("≈0,2633", fx.num(exact))
    assert fx.short("12.5") == ("12,5", None) and fx.short("3") == ("3", None)
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"), parse_float=_no_float)
    doc = copy.deepcopy(doc)
    doc["lines"][0]["outcome"] = exact
    page = render(doc, "html", "da", rows=None)
    assert f'title="Nøjagtig værdi: {fx.num(exact)}">≈0,2633</span>' in page
    assert "≈0,2633 |" in render(doc, "md", "da", rows=None)


def test_the_catalogue_names_each_phrase_once():
    import ast

    source = (Path(__file__).resolve().parents[1] / "contractlang" / "catalogue.py").read_text(encoding="utf-8")
    (table,) = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Dict) and len(n.keys) > 50]
    keys = [k.value for k in table.keys]
    assert sorted(k for k in set(keys) if keys.count(k) > 1) == []  # a second entry would silently win


def test_settle_rows_lists_all_or_groups_on_the_command_line(tmp_path, capsys):
    from contractlang.cli import main

    kolding = Path(__file__).resolve().parents[1] / "contracts" / "kolding-ny-start"
    args = ["settle", str(kolding / "kolding.contract"), "--ledger", str(kolding / "ledger"), "--format", "md"]
    assert main(args + ["--rows", "10"]) == 0
    grouped = capsys.readouterr().out
    assert "The 420 payment lines are too many to list here" in grouped and "#### Line `" not in grouped
    assert main(args + ["--rows", "all"]) == 0
    assert capsys.readouterr().out.count("#### Line `") == 420
    with pytest.raises(SystemExit) as exc:
        main(args + ["--rows", "many"])
    assert exc.value.code == 2 and "expected a whole number or 'all'" in capsys.readouterr().err
