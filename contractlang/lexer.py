"""A Pygments lexer for the contract language, so that contract code is highlighted wherever Pygments is
used (the docs site, `pygmentize`, editors and tools built on it). It is registered as the Pygments
lexer `contractlang` (file names `*.contract`) by the package's entry point `pygments.lexers`.

The keywords are those of the grammar in English and in Danish (`keywords.DANISH`, which a test holds
to every quoted word of `grammar/contract.lark`), so a file in either language is highlighted, with
`language`/`sprog` at its head.
"""

from __future__ import annotations

import functools
import re

from pygments.lexer import RegexLexer, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text

from .keywords import DECLARING, LANGUAGES
from .keywords import words as keywords_of


@functools.cache
def keywords() -> tuple[str, ...]:
    """Every keyword in English and in Danish (`goal`, `mål`, `observed only`), and the words of a file's
    language declaration; longest first."""
    found = {w for language in LANGUAGES for w in keywords_of(language)} | set(DECLARING)
    return tuple(sorted(found, key=lambda w: (-len(w), w)))


def textmate_grammar() -> dict:
    """A TextMate grammar of the language (VS Code and most editors read them), with the lexer's rules:
    committed as editors/vscode/syntaxes/contractlang.tmLanguage.json and held to this by a test."""
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "contractlang",
        "scopeName": "source.contractlang",
        "fileTypes": ["contract"],
        "patterns": [
            {"name": "comment.line.number-sign.contractlang", "match": "#.*$"},
            {"name": "string.quoted.double.contractlang", "begin": '"', "end": '"|$',
             "patterns": [{"name": "constant.character.escape.contractlang", "match": "\\\\."}]},
            {"name": "keyword.other.clause.contractlang", "match": "§"},
            {"name": "constant.numeric.date.contractlang", "match": "\\b\\d{4}-\\d{2}-\\d{2}\\b"},
            {"name": "constant.numeric.contractlang", "match": "\\b\\d[\\d_]*(\\.\\d+)?"},
            {"name": "keyword.control.contractlang",
             "match": "\\b(" + "|".join(re.escape(w).replace("\\ ", " ") for w in keywords()) + ")\\b"},
            {"name": "support.constant.unit.contractlang", "match": "\\b[A-Z]{3}\\b|%"},
            {"name": "keyword.operator.contractlang", "match": "=>|[<>!=]=|[<>]|[-+*/@=]"},
            {"name": "punctuation.contractlang", "match": "[{}()\\[\\],:.]"},
        ],
    }


class ContractLexer(RegexLexer):
    """Contract files of contractlang (`.contract`)."""

    name = "contractlang"
    aliases = ["contractlang", "contract"]
    filenames = ["*.contract"]

    tokens = {
        "root": [
            (r"\s+", Text.Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"(\\.|[^"\\\n])*"', String.Double),
            (r"§", Keyword.Pseudo),
            (r"\d{4}-\d{2}-\d{2}\b", Number.Other),          # a date
            (r"\d[\d_]*(\.\d+)?", Number),
            (words(keywords(), prefix=r"\b", suffix=r"\b"), Keyword),
            (r"\b[A-Z]{3}\b", Name.Constant),                  # a currency
            (r"%", Name.Constant),
            (r"=>|[<>!=]=|[<>]|[-+*/@=]", Operator),
            (r"[{}()\[\],:.]", Punctuation),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r".", Text),
        ],
    }
