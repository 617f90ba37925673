"""Every example of contract code on the docs site checks: a whole contract parses and checks without an
error; an excerpt is word for word part of a bundled contract, which does; a declaration of the language
reference's table parses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contractlang.check import check
from contractlang.keywords import language_of
from contractlang.parse import parse_file, parse_text

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
BLOCKS = [(page, n, text) for page in PAGES
          for n, text in enumerate(re.findall(r"```contractlang\n(.*?)```", page.read_text(encoding="utf-8"), re.S))]
CONTRACTS = {path: path.read_text(encoding="utf-8") for path in sorted((ROOT / "contracts").rglob("*.contract"))}


def _whole(text: str) -> bool:
    body = language_of(text)[1]
    return re.match(r"\s*(#[^\n]*\n\s*)*(contract|kontrakt)\b", body) is not None


def test_the_docs_have_examples():
    assert len(BLOCKS) >= 10 and sum(_whole(text) for _, _, text in BLOCKS) >= 3


@pytest.mark.parametrize("page,n,text", BLOCKS, ids=lambda v: v.name if isinstance(v, Path) else str(v)[:0])
def test_every_example_of_contract_code_checks(page, n, text):
    if _whole(text):
        contract = parse_text(text, f"{page.name}#{n}")
        assert [d for d in check(contract) if d.severity == "error"] == []
        return
    # An excerpt: each of its paragraphs word for word in one bundled contract, which checks.
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\n\s*…\s*\n", text) if p.strip()]  # `…`: left out
    homes = [path for path, source in CONTRACTS.items() if all(p in source for p in paragraphs)]
    if homes:
        assert [d for d in check(parse_file(homes[0])) if d.severity == "error"] == []
    else:  # declarations written for the page: they parse
        parse_text(f'contract x "X"\n{text}', f"{page.name}#{n}")


def test_every_declaration_in_the_reference_table_parses():
    doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    table = [line for line in doc.split("\n") if line.startswith("| `")]
    top = ("party ", "grant ", "point ", "measure ", "rounding ", "cap ", "return cap ", "relative reduction ",
           "figure ", "currency ", "contract ", "decision ", "acknowledge ")
    examples = [x for line in table for x in re.findall(r"`([^`]+)`", line.split("|")[2])
                if x.startswith(top) and not x.startswith("rounding split")]  # the tranches' rounding is in their block
    assert len(examples) >= 10
    for x in examples:
        text = x if x.startswith("contract ") else f'contract x "X"\n{x}\n'
        try:
            parse_text(text.replace("  ", "\n"), "language.md")
        except Exception as exc:
            raise AssertionError(f"{x}: {exc}") from None
