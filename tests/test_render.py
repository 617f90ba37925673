"""Reports rendered from the hand-made settlement document (tests/fixtures/settlement_sample.json).

The fixture follows docs/settlement-json.md and holds the seed's worked
example for school absence, cohort 1 (Bilag 5.1 2.6.2): 130,000.00,
72,150.00 and 0.00. These tests check that every format, in both languages,
shows the engine's numbers in the locale's format, explains each line well
enough to redo it to the øre, and renders to the same bytes every time.
"""

from __future__ import annotations

import copy
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

from contractlang.i18n import CATALOGUE, Formatter
from contractlang.render import (FORMATS, UnknownLine, canonical, describe_step, render, render_exclusions, render_flag,
                                 render_line)

FIXTURE = Path(__file__).parent / "fixtures" / "settlement_sample.json"
NBSP = "\u00a0"
SEED_LINE = "school_absence/c1/m18"
LANGS = ("da", "en")


def _no_float(text):
    raise AssertionError(f"the settlement document must not hold a JSON float: {text}")


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"), parse_float=_no_float)


def D(s) -> Decimal:
    return Decimal(s)


def line(doc, line_id):
    return next(ln for ln in doc["lines"] if ln["id"] == line_id)


# ---- the fixture itself is a consistent settlement ------------------------------------------

def test_fixture_totals_are_the_sums_of_the_lines(doc):
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


def test_fixture_periods_and_rows(doc):
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
    assert (da.pct("5.07"), en.pct("5.07")) == (f"5,07{NBSP}%", "5.07%")
    assert (da.pct("74"), en.pct("74")) == (f"74{NBSP}%", "74%")
    assert (da.date("2028-10-31"), en.date("2028-10-31")) == ("31. okt. 2028", "31 Oct 2028")
    assert da.num("-21.05263157894736842105263158") == "-21,0526315789…"        # cut short, never rounded
    assert en.num("6500.00") == "6,500.00" and da.num("6500.00") == "6.500,00"
    assert da.num("0.239583333333…") == "0,2395833333…"                          # the engine cut it short already
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
    for needed in ("9,50", "7,50", "-21,0526315789…", "-21,1", "-10,0", "11,1", "6.500,00", f"72.150,00{NBSP}kr.",
                   "§ Bilag 5.1 2.6.2", "halve væk fra nul", "1 decimal", "§ Tilsagn 5.2", "§ Bilag 5.1 1.1",
                   f"53.391,00{NBSP}kr.", f"18.759,00{NBSP}kr.", f"74{NBSP}%", "measurements.csv linje 4104"):
        assert needed in text, needed
    assert "Afrundet -21,0526315789… til -21,1 (1 decimal, halve væk fra nul" in text


def test_explain_the_seed_line_in_english(doc):
    text = render_line(doc, SEED_LINE, "en")
    for needed in ("9.50", "7.50", "-21.1", "-10.0", "11.1", "6,500.00", f"DKK{NBSP}72,150.00", "§ Bilag 5.1 2.6.2",
                   "half away from zero", "Rounded -21.0526315789… to -21.1 (1 decimal, half away from zero"):
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
             "## Payment goals", "## Payment lines", "## Audit trails", "## Flags", "## Exclusions", "### Rows accounting"]
    positions = [md.index(h) for h in heads]
    assert positions == sorted(positions)
    for ln in doc["lines"]:
        assert f"### Line `{ln['id']}`" in md
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
    assert page.index('id="integrity"') < page.index('id="summary"') < page.index('id="goals"') < page.index('id="lines"') \
        < page.index('id="flags"') < page.index('id="exclusions"')
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
    assert Decimal(str(total[amount_col - 1])) == D(doc["totals"]["pool"])
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
