"""Danish keywords: a file chooses its language, both languages give the same model, and `fmt` and
`convert` translate between them without touching names, texts or comments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contractlang.check import check
from contractlang.cli import main
from contractlang.errors import ParseError
from contractlang.keywords import DANISH, language_of, words
from contractlang.parse import _grammar_path, parse_file, parse_text
from contractlang.printer import format_contract

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = sorted((ROOT / "contracts").rglob("*.contract"))
LANGUAGE_MD = ROOT / "docs" / "language.md"


def _blocks(section: str) -> list[str]:
    doc = LANGUAGE_MD.read_text(encoding="utf-8")
    body = doc.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```contractlang\n(.*?)```", body, flags=re.S)


def test_every_keyword_of_the_grammar_has_a_danish_word_and_no_other_is_listed():
    grammar = _grammar_path().read_text(encoding="utf-8")
    quoted = {w for line in grammar.split("\n") if not line.lstrip().startswith("//")
              for w in re.findall(r'"([a-z][a-z_ -]*)"', line)}
    assert set(DANISH) == quoted
    assert len(words("da")) == len(set(DANISH.values()))


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_each_bundled_contract_in_danish_is_the_same_contract(path):
    english = parse_file(path)
    danish_text = format_contract(english, "da")
    assert danish_text.startswith("sprog dansk\n")
    danish = parse_text(danish_text, f"{path.name}.da")
    assert danish == english
    assert format_contract(danish) == danish_text  # canonical: fmt keeps the file's language
    assert format_contract(danish, "en") == path.read_text(encoding="utf-8")
    # Every comment and every text in quotes is carried over unchanged.
    for kept in re.findall(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"', path.read_text(encoding="utf-8")):
        assert kept in danish_text
    # The same findings, on the same lines less the two of the declaration.
    found = sorted((d.code, d.span.line - 2, d.message) for d in check(danish) if d.span)
    assert found == sorted((d.code, d.span.line, d.message) for d in check(english) if d.span)


def test_the_examples_of_the_language_reference_are_one_contract_in_two_languages():
    danish, english = _blocks("Danish keywords")
    assert language_of(danish)[0] == "da" and language_of(english)[0] == "en"
    a, b = parse_text(danish, "da.contract"), parse_text(english, "en.contract")
    assert a == b
    assert [d for d in check(a) if d.severity == "error"] == []
    assert format_contract(a, "en") == english and format_contract(b, "da") == danish


def test_the_reference_lists_every_keyword_with_its_danish_word():
    from contractlang.keywords import reference_table

    doc = LANGUAGE_MD.read_text(encoding="utf-8").split("## Danish keywords", 1)[1].split("\n## ", 1)[0]
    assert reference_table() in doc
    listed = dict(re.findall(r"\| `([^`]+)` \| `([^`]+)`", doc))
    listed.update(re.findall(r"\| `[^`]+` \| `[^`]+` \| `([^`]+)` \| `([^`]+)`", doc))
    listed.update(re.findall(r"\| `[^`]+` \| `[^`]+` \| `[^`]+` \| `[^`]+` \| `([^`]+)` \| `([^`]+)`", doc))
    assert listed == DANISH


def test_names_that_are_english_keywords_stay_names_in_danish():
    text = 'contract x "X"\npoint end = end\nmeasure start person boolean at end\n'
    danish = format_contract(parse_text(text), "da")
    assert "tidspunkt end = slut" in danish and "måling start person sandhedsværdi ved end" in danish
    assert parse_text(danish) == parse_text(text)


def test_the_declaration_may_follow_comments_and_keeps_every_position():
    text = '# a comment\n\nsprog dansk\nkontrakt x "X"\ntidspunkt m = start + 3 uger\n'
    language, body = language_of(text)
    assert language == "da" and len(body) == len(text) and body.split("\n")[2].strip() == ""
    c = parse_text(text, "x.contract")
    assert (c.points[0].offset.unit, c.points[0].span.line) == ("weeks", 5)


def test_an_unknown_language_is_a_located_error():
    with pytest.raises(ParseError) as exc:
        parse_text('# header\nsprog svensk\nkontrakt x "X"\n', "x.contract")
    (d,) = exc.value.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("CL001", 2, 7)
    assert "svensk" in d.message and "sprog dansk" in d.hint


def test_a_keyword_of_the_other_language_is_an_error_with_the_word_to_write():
    with pytest.raises(ParseError) as exc:
        parse_text('sprog dansk\nkontrakt x "X"\nmeasure m person boolean\n', "x.contract")
    d = exc.value.diagnostics[0]
    assert d.span.line == 3 and d.hint == "this file has Danish keywords (sprog dansk): write 'måling' for 'measure'"
    with pytest.raises(ParseError) as exc:
        parse_text('kontrakt x "X"\n', "x.contract")
    d = exc.value.diagnostics[0]
    assert d.span.line == 1 and "'kontrakt' is Danish" in d.hint and "sprog dansk" in d.hint
    with pytest.raises(ParseError) as exc:
        parse_text('sprog dansk\nkontrakt x "X"\nmaaling m person sandhedsværdi\n', "x.contract")
    assert exc.value.diagnostics[0].hint == "did you mean 'måling'?"


def test_a_name_with_danish_letters_is_refused_with_its_ascii_spelling():
    with pytest.raises(ParseError) as exc:
        parse_text('sprog dansk\nkontrakt x "X"\nmåling beskæftigelse person sandhedsværdi\n', "x.contract")
    (d,) = exc.value.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("CL001", 3, 8)
    assert d.hint == "write 'beskaeftigelse'"


def test_a_danish_keyword_glued_to_a_word_is_a_misspelt_word():
    with pytest.raises(ParseError) as exc:
        parse_text('sprog dansk\nkontrakt x "X"\ntidspunkt m = start + 3 månederx\n', "x.contract")
    assert "must stand as a whole word" in exc.value.diagnostics[0].message


def test_fmt_and_convert_translate_on_the_command_line(tmp_path, capsys):
    source = ROOT / "contracts" / "kolding-ny-start" / "kolding.contract"
    danish = tmp_path / "kolding.contract"
    assert main(["convert", str(source), "--to", "dsl", "--language", "da", "-o", str(danish)]) == 0
    capsys.readouterr()
    assert danish.read_text(encoding="utf-8").startswith("sprog dansk\n")
    assert main(["fmt", "--check", str(danish)]) == 0  # canonical in its own language
    assert main(["fmt", "--language", "en", str(danish)]) == 0
    assert capsys.readouterr().out == source.read_text(encoding="utf-8")
    assert main(["fmt", "--check", "--language", "en", str(danish)]) == 1
    assert "not in canonical form" in capsys.readouterr().out
    yaml_source = source.with_suffix(".yaml")
    assert main(["convert", str(yaml_source), "--to", "dsl", "--language", "da"]) == 0
    assert parse_text(capsys.readouterr().out) == parse_file(source)
