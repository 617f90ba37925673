"""Danish reports speak Danish all through (issue 4).

The engine explains itself in English prose (`detail`, `reason`, `exemption`, `expr`, `text`) and writes
the same explanation as `facts` next to it (docs/settlement-json.md, "Facts"). Reports build their
sentences from the facts in the report's language. These tests render the Viborg sample settlement and a
small hand-built ledger that reaches every kind of explanation, and check that

* the Danish reports hold none of the engine's English phrases, and say each thing in Danish;
* the English reports still say them in English;
* the facts say everything the prose says (the English sentence built from the facts is the prose, with
  the dates in the report's format);
* a document without facts (an older one) still renders, with the prose, which the phrase check catches.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest

from contractlang import load, parse
from contractlang import settle as settle_dir
from contractlang.evaluate import settle
from contractlang import trace
from contractlang.i18n import PLAIN, Formatter, exclusion_detail, exemption_text, missing_text
from contractlang.narrate import describe_step, subject_detail
from contractlang.ledger import load_ledger
from contractlang.render import render, render_exclusions, render_flag
from tests.ledgers import LedgerBuilder

ROOT = Path(__file__).resolve().parents[1]
VIBORG = ROOT / "contracts" / "viborg"

#: The engine's English phrases (evaluate.py, explain.py): none may reach a Danish report.
ENGLISH = ("started ", "stay reached", "stay ended", "minimum stay", "falls on", "does not satisfy", "school grade",
           "at the household's start", "household replaced by", "household not replaced", "exemption does not apply",
           "no measurement row", "before the point", "ended (", "latest observed", "observed before",
           "the default applies", "table ", ", row ", "mean of ", " subjects", "left out of the share",
           "a group had no observed", "pays nothing", "imputed 0", "nothing is paid", "starts ", "measured ",
           "no goal, flag", "reads a value", "Note:", "No observed values")


def english_in(text: str) -> list[str]:
    """The engine's English phrases in a report, outside the contract's own text (fenced ``` blocks, <pre>)
    and outside HTML markup (the page's style sheet and tags)."""
    text = re.sub(r"^ *```text\n.*?^ *```$", "", text, flags=re.S | re.M)
    text = re.sub(r"<pre class=\"source\">.*?</pre>|<style>.*?</style>", "", text, flags=re.S)
    text = re.sub(r"<[^>]+>", "", text)
    return [p for p in ENGLISH if p in text]


# ---- a small ledger that reaches every explanation the engine writes -----------------------------

MINI = '''
contract mini "Lille kontrakt" § "K"
currency DKK
party F "Fonden" funder § "1"
party K "Kommunen" recipient § "2"
programme § "3" {
  intervention 2024-01-01 to 2025-12-31
  data collection ends 2026-12-31
  minimum stay 3 months
}
point baseline = start § "4"
point m6 = start + 6 months § "4"
point m12 = start + 12 months § "4"
measure status person § "5" {
  values job, none, unknown
  at baseline, m6, m12
}
measure level person § "5" {
  values low, high
  at m6
}
measure absence person decimal 0 to 100 at baseline, m6 § "5"
measure rare person boolean at m6 § "5"
measure plan household decimal 0 to 100 at m6 § "5"
table prices "Priser" § "6" {
  columns price "Pris" DKK
  row low "Lavt niveau": 1_000
  row high "Højt niveau": 2_000
}
goal job "Job" § "7" {
  payer K
  subjects persons where age >= 18
  points m6, m12
  let reference = previous(status, unknown)
  outcome status == job and reference != job
  pay 1_000 DKK per success
  missing mean except replaced § "7.1"
}
goal priced "Prissat" § "8" {
  payer K
  subjects persons where age >= 18
  points m6
  outcome status == job
  pay prices.price[level] per participant
  missing none § "8.1"
}
goal rare_goal "Sjælden" § "9" {
  payer K
  subjects persons where age >= 18
  points m6
  outcome rare
  pay 100 DKK per success
  missing mean § "9.1"
}
goal plans "Planer" § "10" {
  payer K
  subjects households where start_date < 2024-02-01
  points m6
  outcome plan
  pay 10 DKK per unit
  missing none § "10.1"
}
goal absence_goal "Fravær" § "11" {
  payer K
  subjects persons where school_grade between 0 and 9
  points m6 from cohort start
  compare mean absence of intervention against control by cohort
  outcome max(0, control - intervention)
  pay 10 DKK per unit
  missing observed only § "11.1"
}
metric share_job "Andel i job" § "12" {
  subjects persons
  share where status@m6 == job
  target 50 %
}
'''
AS_OF = dt.date(2024, 12, 31)


def mini_ledger() -> LedgerBuilder:
    b = LedgerBuilder()
    b.cohort("c1", "2024-01-01").cohort("c2", "2024-02-01").cohort("c3", "2024-09-01")
    # H1: an adult with a job before and at m6 (previous() finds baseline), a schoolchild, a baby without a grade
    b.household("H1", "2024-01-01", cohort="c1").person("P1", "H1", "1980-01-01").person("C1", "H1", "2014-05-01", 3)
    b.person("B1", "H1", "2023-01-01")
    b.measure("P1", "status", "baseline", "job").measure("P1", "status", "m6", "job").measure("P1", "level", "m6", "high")
    b.measure("C1", "absence", "m6", "5").measure("H1", "plan", "m6", "80")
    b.measure("P1", "absence", "baseline", "3")                      # nobody reads it: not_read
    b.measure("P1", "status", "m12", "job", date="2025-02-01")       # measured after the settlement date: not_due
    # H2: no status before m6 (previous() falls back to the default), no level (the price cannot be read)
    b.household("H2", "2024-01-01").person("P2", "H2", "1990-01-01").measure("P2", "status", "m6", "job")
    # H3 moved before m6 and was replaced by H4; H4 has no row at m6
    b.household("H3", "2024-01-01", end="2024-05-01", reason="moved").person("P3", "H3", "1985-01-01")
    b.household("H4", "2024-05-15", replaces="H3").person("P4", "H4", "1970-01-01")
    # H5 stayed one month: it does not count
    b.household("H5", "2024-01-01", end="2024-02-01", reason="dropped").person("P5", "H5", "1975-01-01")
    b.measure("P5", "status", "m6", "job")
    # H6 starts after the settlement date
    b.household("H6", "2025-03-01").person("P6", "H6", "1975-01-01").measure("P6", "status", "baseline", "job")
    # control children; cohort c2's control child has no absence: no group mean
    b.household("K1", "2024-01-01", group="control", cohort="c1").person("C2", "K1", "2014-05-01", 3)
    b.measure("C2", "absence", "m6", "9")
    b.household("H7", "2024-02-01", cohort="c2").person("C3", "H7", "2014-05-01", 4).measure("C3", "absence", "m6", "4")
    b.household("K2", "2024-02-01", group="control", cohort="c2").person("C4", "K2", "2014-05-01", 4)
    return b


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> dict:
    contract = parse(MINI)
    return settle(contract, load_ledger(mini_ledger().write(tmp_path_factory.mktemp("mini") / "ledger"), contract), AS_OF)


@pytest.fixture(scope="module")
def viborg() -> dict:
    return settle_dir(load(VIBORG / "viborg.contract"), VIBORG / "ledger")


@pytest.fixture(scope="module")
def viborg_md(viborg) -> dict[str, str]:
    return {lang: render(viborg, "md", lang, rows=None) for lang in ("da", "en")}


# ---- the Viborg sample settlement --------------------------------------------------------------------

def test_viborg_danish_report_has_no_english_engine_prose(viborg_md):
    assert english_in(viborg_md["da"]) == []


def test_viborg_english_report_still_says_it_in_english(viborg_md):
    en = viborg_md["en"]
    for phrase in ("started ", "stay reached 3 months on", "stay ended", "at the household's start", "does not satisfy",
                   "school grade", "no measurement row for a due point", "ended (moved) on", "before the point",
                   "household not replaced: the exemption does not apply", "the latest observed `benefit_type` before",
                   "no `benefit_type` observed before", "the default applies", "by table `benefit_types`, row ",
                   "mean of ", " subjects", "no goal, flag or comparison of the contract reads"):
        assert phrase in en, phrase


def test_viborg_danish_report_says_it_in_danish(viborg_md):
    da = viborg_md["da"]
    date = r"\d{1,2}\. [a-zæøå]{3,4}\. \d{4}"
    for pattern in (
            rf"Opgøres for person `P\d+` i husstand `H\d+`: startede {date}; opholdet nåede 3 måneder den {date}; "
            rf"\d+ år ved husstandens start\.",
            rf"\| husstand `H\d+` startede {date}; opholdet sluttede den {date}, før det nåede 3 måneder \({date}\) \|",
            r"\| \d+ år ved start, klassetrin \d+: opfylder ikke `age >= 18` \|",
            r"\| \d+ år ved start, intet klassetrin: opfylder ikke `age >= 18` \|",
            rf"Imputeret ved `m\d+` \(husstand `H\d+` ophørte den {date} \(fraflyttet\), før målingen den {date}\)",
            r"Imputeret ved `m\d+` \(ingen målerække, skønt målingen skulle foreligge\)",
            r"Undtagelse: husstanden er ikke erstattet, så undtagelsen gælder ikke\.",
            r"= `employed`: den seneste observerede `benefit_type` før `m12`, målt ved `baseline`\.",
            r"= `unknown`: ingen `benefit_type` observeret før `m12`; standardværdien gælder\.",
            r"= `education_employment`, ifølge tabel `benefit_types`, række Voksne i beskæftigelse\.",
            rf"Opgøres for kohorte `c1`: kohorte `c1` startede {date}; \d+ subjekter i `intervention`, "
            r"\d+ subjekter i `control`\.",
            r"Beregnet gennemsnittet for `control` ved `m12`: gennemsnit af \d+ observerede `school_absence_pct` "
            r"blandt \d+ subjekter i `control` = ",
            r"\| læses ikke af kontrakten \| intet mål, flag eller sammenligning i kontrakten læser `fit_status` ved `m12` "
            r"for dette subjekt"):
        assert re.search(pattern, da), pattern


def test_viborg_html_and_text_in_danish(viborg):
    page = render(viborg, "html", "da", rows=None)
    assert english_in(page) == []
    assert "opholdet sluttede den" in page and "opfylder ikke <code>age &gt;= 18</code>" in page
    text = render_exclusions(viborg, "da")
    assert english_in(text) == []
    assert "opholdet sluttede den" in text and "intet mål, flag eller sammenligning" in text


# ---- every explanation, on a small ledger ------------------------------------------------------------

def test_mini_ledger_reaches_every_explanation(mini):
    """The small ledger is worth testing with: it gives every reason, every fact and every note."""
    reasons = {e["reason"] for e in mini["exclusions"]} | {r["reason"] for r in mini["row_exclusions"]}
    assert reasons == {"not_counting", "not_eligible", "not_due", "missing_not_replaced", "replaced_no_correction",
                       "rate_missing", "not_started", "not_read"}
    steps = [s for ln in mini["lines"] for s in ln["trace"]] + [s for f in mini["flags"] for s in f["trace"]] \
        + [s for m in mini["reports"]["metrics"] for s in m["trace"]]
    assert {s.get("code") for s in steps if s["kind"] == "note"} == {
        "share_missing", "no_group_mean", "no_observations_imputed", "no_observations_cohort"}
    facts = [s.get("facts") or {} for s in steps]
    assert any(f.get("observed_at") for f in facts) and any("observed_at" in f and f["observed_at"] is None for f in facts)
    assert any(f.get("exemption") == "replaced" for f in [e["facts"] for e in mini["exclusions"]])
    assert any(f.get("exemption") == "not_replaced" for f in facts)
    assert any("cohort_start" in f for f in facts) and any("group" in f for f in facts)
    assert any("age" in e["facts"] and e["facts"]["grade"] is None for e in mini["exclusions"] if e["reason"] == "not_eligible")
    assert any("age" not in e["facts"] for e in mini["exclusions"] if e["reason"] == "not_eligible")


@pytest.mark.parametrize("fmt", ["md", "html", "text"])
def test_mini_danish_reports_have_no_english_engine_prose(mini, fmt):
    assert english_in(render(mini, fmt, "da")) == []
    assert english_in(render_exclusions(mini, "da")) == []
    assert english_in(render_flag(mini, "no_observations", "da")) == []


def test_mini_danish_sentences(mini):
    da = render(mini, "md", "da")
    for sentence in (
            "| `m12` falder den 1. jan. 2025, efter 31. dec. 2024 |",
            "| `m6` for kohorte `c3` falder den 1. mar. 2025 |",
            "| 1 år ved start, intet klassetrin: opfylder ikke `age >= 18` |",
            "| 9 år ved start, klassetrin 3: opfylder ikke `age >= 18` |",
            "| opfylder ikke `start_date < 2024-02-01` |",
            "| husstand `H5` startede 1. jan. 2024; opholdet sluttede den 1. feb. 2024, før det nåede 3 måneder "
            "(1. apr. 2024) |",
            "| husstand `H3` ophørte den 1. maj 2024 (fraflyttet), før målingen den 1. jul. 2024; "
            "husstanden er erstattet af `H4` (ingen korrektion) |",
            "| ingen målerække, skønt målingen skulle foreligge |",
            "| prisen `prices.price[level]` læser en værdi, der mangler for dette subjekt |",
            "| husstand `H6` starter den 1. mar. 2025, efter 31. dec. 2024 |",
            "| målt den 1. feb. 2025, efter 31. dec. 2024 |",
            "| intet mål, flag eller sammenligning i kontrakten læser `absence` ved `baseline` for dette subjekt",
            "Undtagelse: husstanden er ikke erstattet, så undtagelsen gælder ikke.",
            "Opgøres for kohorte `c2`: kohorte `c2` startede 1. feb. 2024; 1 subjekter i `intervention`, "
            "1 subjekter i `control`.",
            "Beregnet gennemsnittet for `control` ved `m6`: gennemsnit af 0 observerede `absence` blandt 1 subjekter "
            "i `control` = mangler.",
            "Bemærkning: en gruppe havde intet observeret subjekt; målingen udløser ingen betaling.",
            "Bemærkning: 5 personer uden en observeret værdi er udeladt af andelen: `B1`, `C1`, `P3`, `P4`, `C3`.",
            "Bemærkning: intet subjekt er observeret for `rare_goal` ved `m6`; der imputeres 0.",
            "Bemærkning: kohorte `c2` ved `m6`: et gruppegennemsnit kunne ikke dannes; intet udbetales.",
            "### Ingen observerede værdier at danne et gennemsnit af",
            "Andel: 2 af 2 personer × 100 = 100\u00a0%.",
            "Afstand til målet: 100 − 50 = 50 procentpoint."):
        assert sentence in da, sentence


def test_mini_english_sentences(mini):
    en = render(mini, "md", "en")
    for sentence in (
            "| `m12` falls on 1 Jan 2025, after 31 Dec 2024 |",
            "| `m6` of cohort `c3` falls on 1 Mar 2025 |",
            "| age 1 at start, school grade none: does not satisfy `age >= 18` |",
            "| does not satisfy `start_date < 2024-02-01` |",
            "| household `H3` ended (moved) on 1 May 2024, before the point (1 Jul 2024); "
            "household replaced by `H4` (no correction) |",
            "| the price `prices.price[level]` reads a value that is missing for this subject |",
            "| household `H6` starts 1 Mar 2025, after 31 Dec 2024 |",
            "| measured 1 Feb 2025, after 31 Dec 2024 |",
            "Note: 5 persons without an observed value are left out of the share: `B1`, `C1`, `P3`, `P4`, `C3`.",
            "Note: no subject observed for `rare_goal` at `m6`; imputed 0.",
            "### No observed values to average",
            "Computed the `control` mean at `m6`: mean of 0 observed `absence` of 1 `control` subjects = missing."):
        assert sentence in en, sentence


def test_the_flag_the_engine_raises_has_a_title_in_each_language(mini):
    flag = next(f for f in mini["flags"] if f["id"] == "no_observations")
    assert flag["title"] is None   # the document keeps null: reports take the title from their catalogue
    assert render_flag(mini, "no_observations", "da").splitlines()[2].startswith("Ingen observerede værdier")
    assert render_flag(mini, "no_observations", "en").splitlines()[2].startswith("No observed values to average")
    sheet = openpyxl.load_workbook(io.BytesIO(render(mini, "xlsx", "da")))["Flag"]
    assert sheet["B2"].value == "Ingen observerede værdier at danne et gennemsnit af"


def test_xlsx_exclusions_in_danish(mini):
    book = openpyxl.load_workbook(io.BytesIO(render(mini, "xlsx", "da")))
    cells = [str(c.value or "") for row in book["Udeladelser"].iter_rows() for c in row]
    cells += [str(c.value or "") for row in book["Rækker"].iter_rows() for c in row]
    assert english_in("\n".join(cells)) == []
    assert "husstanden er erstattet af H4 (ingen korrektion)" in "\n".join(cells)


def test_exclusions_and_their_facts_do_not_depend_on_the_trace(tmp_path):
    contract = parse(MINI)
    ledger = load_ledger(mini_ledger().write(tmp_path / "ledger"), contract)
    with_trace, without = settle(contract, ledger, AS_OF), settle(contract, ledger, AS_OF, trace=False)
    assert with_trace["exclusions"] == without["exclusions"]
    assert with_trace["row_exclusions"] == without["row_exclusions"]
    assert with_trace["totals"] == without["totals"]


# ---- the facts say what the prose says -------------------------------------------------------------------

def _as_rendered(prose: str, fx: Formatter) -> str:
    """The engine's prose as a report built from facts words it: dates in the locale's format, end reasons in
    words, a price expression without quotes, and no stay to reach when the contract sets none."""
    prose = re.sub(r"started (\d{4}-\d\d-\d\d); stay reached 0 months on \d{4}-\d\d-\d\d",
                   r"started \1 (the contract sets no minimum stay)", prose)
    prose, satisfy, condition = prose.partition("does not satisfy ")   # the condition is the contract's text
    prose = re.sub(r"\d{4}-\d\d-\d\d", lambda m: fx.date(m.group(0)), prose) + satisfy + condition
    prose = prose.replace("(no_longer_needed)", "(no longer needed)")
    return re.sub(r"the price '(.*)' reads", r"the price \1 reads", prose)


def _documents(mini, viborg):
    docs = [mini, viborg]
    for d in ("aarhus-personlige-budgetter", "kolding-ny-start", "rudersdal-aaben-og-rolig", "vaeksthuset-ny-start",
              "examples/rate-card"):
        path = ROOT / "contracts" / d
        docs.append(settle_dir(load(next(iter(sorted(path.glob("*.contract"))))), path / "ledger"))
    return docs


def test_facts_say_what_the_prose_says(mini, viborg):
    """For every explanation with facts, the English built from the facts is the engine's English prose."""
    fx = Formatter("en")
    checked: set[str] = set()
    for doc in _documents(mini, viborg):
        for record in doc["exclusions"] + doc["row_exclusions"]:
            assert "facts" in record, record
            assert exclusion_detail(record, fx, PLAIN) == _as_rendered(record["detail"], fx)
            checked.add(record["reason"])
        steps = [s for ln in doc["lines"] for s in ln["trace"]] + [s for f in doc["flags"] for s in f["trace"]] \
            + [s for x in doc["reports"]["metrics"] + doc["reports"]["figures"] for s in x["trace"]]
        for step in steps:
            if step["kind"] == "subject":
                assert subject_detail(trace.from_json(step), fx, PLAIN) == _as_rendered(step["detail"], fx)
            elif step["kind"] == "impute":
                assert missing_text(step["facts"], fx) == _as_rendered(step["reason"], fx)
                assert exemption_text(step["facts"], fx) == step["exemption"]
            elif step["kind"] == "note":
                assert describe_step(step, doc, fx)[0] == f"Note: {step['text']}."
            elif step["kind"] == "value" and "facts" in step and "table" in step["facts"]:
                f = step["facts"]
                assert step["expr"] == f"table {f['table']}, row {f['row']}"
                assert step["name"] == f"{f['table']}.{f['column']}[{f['key']}]"
            elif step["kind"] == "value" and "facts" in step:
                f = step["facts"]
                assert (step["expr"] == f"latest observed {f['measure']} before {f['before']}: at {f['observed_at']}"
                        if f["observed_at"] else
                        step["expr"] == f"no {f['measure']} observed before {f['before']}; the default applies")
            elif step["kind"] == "compute" and "facts" in step:
                f = step["facts"]
                expr = {"group": f"mean of {f.get('observed')} observed {f.get('measure')} of {f.get('subjects')} "
                                 f"{f.get('group')} subjects",
                        "count": f"{f.get('count')} of {f.get('subjects')} {f.get('level')} × 100",
                        "rounded": f"{f.get('rounded')} − {f.get('target')} (percentage points)"}
                assert step["expr"] == next(v for k, v in expr.items() if k in f)
            else:
                continue
            checked.add(step["kind"] if step["kind"] != "note" else step["code"])
    assert checked == {"not_counting", "not_eligible", "not_due", "missing_not_replaced", "replaced_no_correction",
                       "rate_missing", "not_started", "not_read", "subject", "impute", "value", "compute",
                       "share_missing", "no_group_mean", "no_observations_imputed", "no_observations_cohort"}


# ---- older documents: no facts, the prose ---------------------------------------------------------------

def _without_facts(doc: dict) -> dict:
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in ("facts", "code")}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x
    return strip(copy.deepcopy(doc))


def test_a_document_without_facts_shows_the_prose(mini):
    """A document from before `facts` renders as before: the engine's prose. The phrase check catches it."""
    old = _without_facts(mini)
    da = render(old, "md", "da")
    found = english_in(da)
    for phrase in ("started ", "falls on", "does not satisfy", "household replaced by", "no measurement row",
                   "latest observed", "mean of ", "left out of the share", "a group had no observed"):
        assert phrase in found, phrase
    assert "Bemærkning: 5 persons without an observed value are left out of the share: B1, C1, P3, P4, C3" in da


def test_facts_with_a_missing_field_fall_back_to_the_prose():
    fx = Formatter("da")
    record = {"reason": "not_counting", "detail": "household H1 started 2024-01-01; stay ended …",
              "facts": {"household": "H1"}}
    assert exclusion_detail(record, fx) == record["detail"]
    step = {"kind": "subject", "subject": "P1", "level": "persons", "household": "H1", "detail": "started 2024-01-01",
            "facts": {"stay_months": 3}}
    assert "started 2024-01-01" in describe_step(step, {}, fx)[0]


def test_table_lookups_in_words():
    """A lookup step's table and row come from its `facts` when it has them, else from its name and `expr`."""
    fx = Formatter("da")
    step = {"kind": "value", "name": "prices.price[low]", "expr": "table prices, row Lavt niveau", "value": "1000"}
    assert describe_step(step, {}, fx)[0] == "`prices.price[low]` = 1.000, ifølge tabel `prices`, række Lavt niveau." \
        .replace("`", "")
    with_facts = dict(step, expr="tabel?", facts={"table": "prices", "column": "price", "key": "low", "row": "Lavt niveau"})
    assert describe_step(with_facts, {}, fx)[0] == describe_step(step, {}, fx)[0]
    other = dict(step, expr="table other, row X")   # not the lookup's own table: shown as it is
    assert describe_step(other, {}, fx)[0] == "prices.price[low] = 1.000, efter table other, row X."
