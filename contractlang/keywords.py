"""The keywords of the language in English and in Danish, chosen per file.

A contract file is written with English keywords unless its first line (after any comments) says
otherwise: `sprog dansk` for Danish keywords, `language english` for English ones (the default, which
may be written too). Names, quoted texts, numbers, dates, units of money (`DKK`), comments, the names of
built-in functions (`max`, `previous`) and of rounding modes (`half_up`) are the same in both: only the
words of the grammar change. The Danish grammar is the English one (`grammar/contract.lark`) with each
quoted keyword replaced by its Danish word from `DANISH`, so the two parse to the same tree and the
same model; `fmt --language` and `convert --language` translate a file's keywords, nothing else.
"""

from __future__ import annotations

import functools
import re

from .errors import ParseError, error
from .from_tree import _span

#: Every keyword of the grammar and its Danish word. A keyword missing here is a test failure.
DANISH = {
    "acknowledge": "accepter", "adjust": "reguler", "against": "mod", "amends": "ændrer", "all": "alle", "and": "og", "assumed": "antaget", "at": "ved", "attribute": "egenskab",
    "base": "grundlag", "between": "mellem", "beyond": "udover", "boolean": "sandhedsværdi", "by": "efter", "cap": "loft",
    "capitalised": "kapitaliseret", "carried forward": "overført", "check": "kontrol", "cohort": "kohorte", "collection": "indsamling",
    "columns": "kolonner", "compare": "sammenlign", "conditions": "betingelser", "contract": "kontrakt",
    "count": "antal", "currency": "valuta", "data": "data", "date": "dato", "dated": "dateret", "days": "dage", "decimal": "decimaltal",
    "decision": "beslutning", "disbursement": "udbetaling", "due": "forfalder", "each": "hver", "else": "ellers", "effective": "gældende", "end": "slut", "evidence": "dokumentation", "excludes": "udelukker",
    "ends": "slutter", "except": "undtagen", "figure": "størrelse", "flag": "advarsel", "floor": "gulv", "following": "følgende",
    "for": "for", "from": "fra", "goal": "mål", "goals": "mål", "grant": "bevilling", "grants": "bevillinger",
    "half-year": "halvår", "if": "hvis", "half-yearly": "halvårlig", "household": "husstand", "households": "husstande",
    "in": "i", "instalment": "rate", "integer": "heltal", "interest": "rente", "intervention": "indsats",
    "let": "lad", "lines": "linjer", "match": "vælg", "mean": "gennemsnit", "measure": "måling",
    "metric": "nøgletal", "minimum": "minimum", "missing": "manglende", "month": "måned", "monthly": "månedlig",
    "months": "måneder", "none": "ingen", "not": "ikke", "observed only": "kun observerede", "of": "af", "on": "på", "once": "engang",
    "or": "eller", "order": "sorter", "outcome": "resultat", "party": "part", "paid": "betalte", "pay": "betal", "payer": "betaler",
    "per": "pr", "percentage_point": "procentpoint", "percentage_points": "procentpoint", "period": "periode", "periods": "perioder", "pooled": "samlet",
    "person": "person", "persons": "personer", "places": "decimaler", "point": "tidspunkt", "points": "tidspunkter",
    "programme": "program", "quarter": "kvartal", "quarterly": "kvartalsvis", "reduction": "reduktion",
    "relative": "relativ", "remainder": "rest", "replacement": "erstatning", "replaces": "erstatter", "requires": "kræver", "return": "afkast",
    "rounding": "afrunding", "row": "række", "settlement": "afregning", "share": "andel", "start": "start",
    "stay": "ophold", "strict": "strenge", "subject": "deltager", "subjects": "målgruppe", "sum": "sum", "table": "tabel",
    "target": "målsætning", "text": "tekst", "then": "så", "three-valued": "treværdige", "tiers": "trin", "to": "til", "tranche": "tranche",
    "tranches": "trancher", "unless": "medmindre", "until": "indtil", "values": "værdier", "weeks": "uger",
    "weighted": "vægtet", "when": "når", "where": "hvor", "within": "inden", "year": "år", "yearly": "årlig",
    "years": "år", "zero": "nul",
}

#: The languages a file may be written in: code -> (its name in English, in Danish).
LANGUAGES = {"en": ("english", "engelsk"), "da": ("danish", "dansk")}
#: The first line that chooses a language, as `fmt` writes it.
DECLARATION = {"en": "language english", "da": "sprog dansk"}
#: The words that begin a declaration of the language (in either language).
DECLARING = tuple(d.split()[0] for d in DECLARATION.values())
_NAMED = {name: code for code, names in LANGUAGES.items() for name in names}
# Comment and blank lines, then `language` or `sprog` and a word: the declaration, if the file has one.
_HEAD = re.compile(r"\A(?:[ \t\r\f]*(?:#[^\n]*)?\n)*[ \t\r\f]*(" + "|".join(DECLARING) + r")\b[ \t]*([^\s#]*)")
_QUOTED = re.compile(r'"([^"\\\n]+)"')


def reference_table() -> str:
    """Every keyword and its Danish word as a Markdown table of three pairs a row (docs/language.md holds it)."""
    pairs = sorted(DANISH.items())
    rows = -(-len(pairs) // 3)
    columns = [pairs[k * rows:(k + 1) * rows] for k in range(3)]
    lines = ["| English | dansk | English | dansk | English | dansk |", "|---|---|---|---|---|---|"]
    for k in range(rows):
        cells = [cell for col in columns
                 for cell in ((f"`{col[k][0]}`", f"`{col[k][1]}`") if k < len(col) else ("", ""))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def word(english: str, language: str) -> str:
    """The keyword `english` as a file in `language` writes it."""
    return DANISH.get(english, english) if language == "da" else english


def words(language: str) -> tuple[str, ...]:
    """Every keyword of the language's grammar, longest first."""
    return tuple(sorted({word(w, language) for w in DANISH}, key=lambda w: (-len(w), w)))


def grammar_path():
    from .parse import _grammar_path
    return _grammar_path()


@functools.cache
def grammar(language: str) -> str:
    """The grammar of files written in `language`: the English grammar with its keywords translated."""
    text = grammar_path().read_text(encoding="utf-8")
    if language == "en":
        return text

    def line(source: str) -> str:
        if source.lstrip().startswith("//"):
            return source
        return _QUOTED.sub(lambda mo: f'"{DANISH.get(mo.group(1), mo.group(1))}"', source)

    # A name is read as far as its letters go, æ, ø and å included, so that a keyword with them (`måling`)
    # is told from a name as an English one is (names themselves stay ASCII: `parse` refuses others).
    text = text.replace("NAME: /[a-zA-Z_][a-zA-Z0-9_]*/", "NAME: /[^\\W\\d]\\w*/")
    return "\n".join(line(s) for s in text.split("\n"))


@functools.cache
def _english(language: str) -> dict[str, str]:
    """A keyword of `language` -> the English one the model holds (where two English words share one, the
    plural: Danish `procentpoint` is `percentage_points`)."""
    out: dict[str, str] = {}
    for en in sorted(DANISH, key=lambda w: not w.endswith("s")):
        out.setdefault(word(en, language), en)
    return out


def english(value: str, language: str) -> str:
    """A keyword read from a file in `language` (`husstand`), as the model holds it (`household`)."""
    return value if language == "en" else _english(language).get(value, value)


def in_language(regex: str, language: str) -> str:
    """A regular expression that names English keywords (`data\\s+collection\\s+ends`), naming the keywords of
    `language` instead: each word of letters outside an escape that is a keyword is replaced."""
    out, k = [], 0
    while k < len(regex):
        if regex[k] == "\\":
            out.append(regex[k:k + 2])
            k += 2
        elif regex[k].isalpha():
            end = k
            while end < len(regex) and (regex[end].isalnum() or regex[end] == "_"):
                end += 1
            found = regex[k:end]
            out.append(re.escape(word(found, language)) if found in DANISH else found)
            k = end
        else:
            out.append(regex[k])
            k += 1
    return "".join(out)


def language_of(text: str, path: str = "<contract>") -> tuple[str, str]:
    """(the language a contract text is written in, the text with its declaration blanked out).

    The declaration is replaced by spaces, so every line and column of the rest stays where it was.
    An unknown language is a located error."""
    mo = _HEAD.match(text)
    if mo is None:
        return "en", text
    name = mo.group(2)
    if name not in _NAMED:
        line = text.count("\n", 0, mo.start(2)) + 1
        column = mo.start(2) - (text.rfind("\n", 0, mo.start(2)) + 1) + 1
        shown = f"'{name}'" if name else "nothing"
        raise ParseError([error("CL001", f"'{mo.group(1)}' names the language of the file's keywords; found {shown}",
                                _span(path, line, column, max(len(name), 1)),
                                hint="write 'sprog dansk' (Danish keywords) or 'language english' (English keywords)")])
    return _NAMED[name], text[:mo.start(1)] + " " * (mo.end(2) - mo.start(1)) + text[mo.end(2):]


def translate(english_text: str, language: str) -> str:
    """Canonical English DSL text → the same contract with the keywords of `language` (and its declaration
    as first line). Only keywords change: names that happen to be English words (a point called `end`),
    texts and comments are left as they are."""
    if language == "en":
        return english_text
    from .parse import parser

    tree = parser("en", all_tokens=True).parse(english_text)
    keyword_types = _keyword_types()
    places = sorted((tok.start_pos, tok.end_pos, str(tok)) for tok in tree.scan_values(
        lambda v: getattr(v, "type", None) in keyword_types))
    out, at = [], 0
    for start, end, value in places:
        out += [english_text[at:start], word(value, language)]
        at = end
    out.append(english_text[at:])
    return DECLARATION[language] + "\n\n" + "".join(out)


@functools.cache
def _keyword_types() -> frozenset[str]:
    """The grammar's terminals that are keywords: a quoted word, or a choice of quoted words (`ANCHOR`)."""
    from .parse import parser

    out = set()
    for term in parser("en", all_tokens=True).terminals:
        pattern = term.pattern
        if pattern.type == "str" and pattern.value in DANISH:
            out.add(term.name)
        elif pattern.type == "re" and term.name in NAMED_TERMINALS:
            out.add(term.name)
    return frozenset(out)


#: The grammar's named terminals whose value is a keyword the model keeps (`LEVEL`: person or household).
NAMED_TERMINALS = frozenset({"ANCHOR", "LEVEL", "LEVEL_PLURAL", "MISSING_METHOD", "PERIODS", "DUE_UNIT", "UNIT",
                             "LOGIC", "LINK", "POOLED", "FLOOR"})
