"""Hostile titles, ids and values in the reports (issue 12, classes 1 and 5).

The rate-card settlement is given titles, party names, line and subject ids and a ledger file name
that try to become a spreadsheet formula, escape a Markdown code span or table, start live HTML,
or send escape sequences to a terminal. Every format must show them as text, whole. Also: goals
and parties without a title, amounts and dates a spreadsheet cannot hold.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import markdown
import openpyxl
import pytest

from contractlang.render import render, render_line

ROOT = Path(__file__).resolve().parents[1]
DOC = json.loads((ROOT / "contracts" / "examples" / "rate-card" / "settlement.json").read_text(encoding="utf-8"))

HOSTILE = [
    '=HYPERLINK("http://evil.example/","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "`` `<img src=x onerror=alert(1)>` ``",
    "x|y<script>alert(1)</script>",
    "\x1b[31mred\x1b[0m",
    "a```\n<img src=y onerror=alert(2)>",
    "[link](javascript:alert(3)) *bold* _it_ &lt;b&gt;",
]


def hostile_doc() -> dict:
    doc = copy.deepcopy(DOC)
    doc["contract"]["title"] = HOSTILE[0]
    doc["parties"]["Investor"]["name"] = HOSTILE[4]
    doc["parties"]["Kommunen"]["name"] = HOSTILE[5]
    for goal, text in zip(doc["goals"], HOSTILE[1:]):
        goal["title"] = text
    for line, text in zip(doc["lines"], HOSTILE):
        line["id"] = text
        line["subject"] = text
    for excl, text in zip(doc["exclusions"], reversed(HOSTILE)):
        excl["subject"] = text
    doc["inputs"]["ledger"][0]["file"] = HOSTILE[6]
    from contractlang.explain import margins

    doc["goals"][0]["cap"] = "1000000.00"
    doc["margins"] = margins(doc)  # the sentences name goals and parties by their (hostile) titles
    return doc


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text, self.rows = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]
        if tag == "tr":
            self.rows.append(0)
        elif tag in ("td", "th"):
            self.rows[-1] += 1

    def handle_data(self, data):
        self.text.append(data)


MARKDOWN_TAGS = {"h1", "h2", "h3", "h4", "p", "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "strong",
                 "em", "ul", "ol", "li", "hr", "br"}


def _read_markdown(md: str) -> _Tags:
    parsed = _Tags()
    parsed.feed(markdown.markdown(md, extensions=["tables", "fenced_code"]))
    return parsed


@pytest.mark.parametrize("lang", ["en", "da"])
def test_markdown_shows_hostile_text_as_text(lang):
    md = render(hostile_doc(), "md", lang)
    parsed = _read_markdown(md)
    assert set(parsed.tags) <= MARKDOWN_TAGS, set(parsed.tags) - MARKDOWN_TAGS
    assert [a for a in parsed.attrs if a.startswith("on") or a in ("href", "src")] == []
    text = "".join(parsed.text)
    for shown in ("<img src=x onerror=alert(1)>", "x|y<script>alert(1)</script>", "<img src=y onerror=alert(2)>",
                  "[link](javascript:alert(3)) *bold* _it_ &lt;b&gt;", '=HYPERLINK("http://evil.example/","click")'):
        assert shown in text, shown
    assert "\x1b" not in md and "\\x1b[31mred" in md


def test_markdown_tables_keep_their_shape_with_pipes_in_ids():
    md = render(hostile_doc(), "md", "en")
    for table in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M):
        rows = table.splitlines()
        cells = [len(re.split(r"(?<!\\)\|", row)) for row in rows]
        assert len(set(cells)) == 1, rows[:3]


def test_markdown_code_spans_cannot_be_closed_from_inside():
    from contractlang.render import MARKDOWN

    for s in ("`", "``", "a`b", "`x`", "a```b", "``` ````"):
        span = MARKDOWN.code(s)
        parsed = _read_markdown(span)
        assert parsed.tags == ["p", "code"] and "".join(parsed.text).strip() == s.strip(), (s, span)


def test_html_report_escapes_hostile_text():
    page = render(hostile_doc(), "html", "en")
    parsed = _Tags()
    parsed.feed(page)
    assert "img" not in parsed.tags and parsed.tags.count("script") <= 1  # the page's own script, if any
    assert not any(a.startswith("on") for a in parsed.attrs)
    assert "x|y<script>alert(1)</script>" in "".join(parsed.text)
    assert hostile_doc()["margins"] and 'id="margins"' in page


def test_xlsx_writes_hostile_text_as_text_never_a_formula():
    data = render(hostile_doc(), "xlsx", "en")
    totals = re.compile(r"SUBTOTAL\(109,[A-Z]+\d+:[A-Z]+\d+\)")  # the only formulas: the totals under the tables
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                for formula in re.findall(rb"<f>(.*?)</f>", z.read(name)):
                    assert totals.fullmatch(formula.decode()), (name, formula)
                assert b"<f " not in z.read(name), name
    wb = openpyxl.load_workbook(io.BytesIO(data))
    values = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f" or totals.fullmatch(cell.value[1:]), (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    values.add(cell.value)
    for text in HOSTILE[:6] + HOSTILE[7:]:
        assert any(text in v for v in values), text
    assert "\\x1b[31mred\\x1b[0m" in values  # a control character is shown, never written raw


def test_text_summary_and_trail_send_no_escape_sequences():
    doc = hostile_doc()
    for out in (render(doc, "text", "en"), render_line(doc, HOSTILE[6], "en")):
        assert "\x1b" not in out and "\\x1b[31mred" in out


def test_untitled_goals_and_parties_render_in_every_format():
    doc = copy.deepcopy(DOC)
    doc["contract"]["title"] = None
    for goal in doc["goals"]:
        goal["title"] = None
    for party in doc["parties"].values():
        party["name"] = None
    for fmt in ("md", "html", "text", "xlsx"):
        out = render(doc, fmt, "da")
        assert out
    assert "| `Investor` | Investor |" in render(doc, "md", "en")  # the id stands in for the missing name


def test_xlsx_amounts_and_dates_beyond_a_spreadsheet_are_exact_text():
    doc = copy.deepcopy(DOC)
    big = "12345678901234567.89"  # 19 significant digits: a spreadsheet number would round it
    doc["lines"][0]["amount"] = big
    doc["lines"][0]["date"] = "1899-12-31"
    wb = openpyxl.load_workbook(io.BytesIO(render(doc, "xlsx", "en")))
    ws = wb["Lines"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == doc["lines"][0]["id"])
    assert big in [c.value for c in row] and "1899-12-31" in [c.value for c in row]


def test_xlsx_a_value_with_more_digits_than_a_spreadsheet_keeps_is_a_number_with_its_exact_text_in_a_comment():
    doc = copy.deepcopy(DOC)
    exact = "0.23958333333333333333333333333333333333333333333333"  # an imputed mean, 50 digits
    doc["lines"][0]["outcome"] = exact
    wb = openpyxl.load_workbook(io.BytesIO(render(doc, "xlsx", "da")))
    ws = wb["Linjer"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == doc["lines"][0]["id"])
    cell = next(c for c in row if c.comment is not None)
    assert isinstance(cell.value, float) and abs(cell.value - 0.239583333333333) < 1e-15
    assert cell.comment.text == f"Nøjagtig værdi: {exact}"
