"""The Pygments lexer (`contractlang.lexer`): registered by the package's entry point, it reads every
bundled contract without an error token, and highlights every keyword of the grammar as a keyword."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Keyword, Name, Number, String

from contractlang.lexer import ContractLexer, keywords
from contractlang.parse import _grammar_path

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = sorted((ROOT / "contracts").rglob("*.contract"))


def test_the_lexer_is_registered_with_pygments():
    assert isinstance(get_lexer_by_name("contractlang"), ContractLexer)
    assert isinstance(get_lexer_for_filename("viborg.contract"), ContractLexer)


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_a_bundled_contract_lexes_without_an_error_and_back_to_its_text(path):
    text = path.read_text(encoding="utf-8")
    tokens = list(ContractLexer().get_tokens(text))
    assert not [t for t in tokens if t[0] in Error]
    assert "".join(v for _, v in tokens) == text if text.endswith("\n") else text + "\n"


def test_keywords_strings_numbers_comments_and_names_are_told_apart():
    text = ('# a note\ngoal employment "Beskæftigelse" § "2.4" {\n  pay 8_600 DKK per success\n'
            '  outcome benefit_types.criterion[x] >= 6.5\n}\n')
    kinds = {v: t for t, v in ContractLexer().get_tokens(text) if v.strip()}
    assert kinds["# a note"] in Comment and kinds['"Beskæftigelse"'] in String
    assert kinds["goal"] in Keyword and kinds["pay"] in Keyword and kinds["per"] in Keyword
    assert kinds["8_600"] in Number and kinds["6.5"] in Number and kinds["employment"] in Name


def test_every_quoted_word_of_the_grammar_is_a_keyword():
    grammar = _grammar_path().read_text(encoding="utf-8")
    words = set(re.findall(r'"([a-z_]+)"', grammar))
    assert {"goal", "acknowledge", "tranche", "previous", "match"} & words <= set(keywords())
    for word in words:
        [(kind, value), *_] = ContractLexer().get_tokens(word)
        assert value == word and kind in Keyword, word


def test_the_textmate_grammar_is_the_committed_one_and_its_rules_compile():
    import json
    import os

    from contractlang.lexer import textmate_grammar

    editors = ROOT / "editors" / "vscode"
    path = editors / "syntaxes" / "contractlang.tmLanguage.json"
    text = json.dumps(textmate_grammar(), ensure_ascii=False, indent=2) + "\n"
    if os.environ.get("CONTRACTLANG_REGOLD") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text
    grammar = json.loads(text)
    for rule in grammar["patterns"]:
        for key in ("match", "begin", "end"):
            if key in rule:
                re.compile(rule[key])
    keyword = re.compile(next(r["match"] for r in grammar["patterns"] if r["name"].startswith("keyword.control")))
    assert all(keyword.fullmatch(w) for w in keywords()) and not keyword.fullmatch("employment")
    package = json.loads((editors / "package.json").read_text(encoding="utf-8"))
    assert package["contributes"]["grammars"][0]["scopeName"] == grammar["scopeName"]
    assert (editors / package["contributes"]["grammars"][0]["path"]).exists()
