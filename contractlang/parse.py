"""parse: contract text → syntax tree (Lark, LALR) → model.

The tree becomes the model in `from_tree` (building objects only; meaning is checked in `check`).
Errors are collected (the parser recovers and goes on) and raised together as
one `ParseError` whose diagnostics point at file, line and column.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import hashlib
import itertools
import os
import re
import stat
from pathlib import Path

import attrs
from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import model as m
from .errors import ParseError, error
from .from_tree import _Builder, _span
from .keywords import DANISH, NAMED_TERMINALS, english, language_of, word, words
from .limits import MAX_BYTES, MAX_ERRORS, MAX_NESTING, text_number_problem

_GRAMMAR_NAME = "contract.lark"


def _grammar_path() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "grammar" / _GRAMMAR_NAME, here.parent / "grammar" / _GRAMMAR_NAME):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"grammar {_GRAMMAR_NAME} not found beside the package")


@functools.lru_cache(maxsize=None)
def parser(language: str = "en", all_tokens: bool = False) -> Lark:
    """The LALR parser of files written in `language` (`keywords.LANGUAGES`), built once per process (its
    tables loaded from the user's cache when there). With `all_tokens`, its trees keep the keywords too
    (for translating a file's keywords)."""
    from .keywords import grammar as grammar_of

    grammar = grammar_of(language)
    cache = _cache_file(grammar + ("\n// all tokens" if all_tokens else ""))
    built = Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False, postlex=_WholeWords(),
                 keep_all_tokens=all_tokens, cache=cache or False)
    if cache:
        _private(Path(cache))
    return built


def _cache_file(grammar: str) -> str | None:
    """Where Lark keeps the parser tables between runs: in the user's own cache directory, or nowhere.

    Building the tables takes a few tenths of a second, loading them a hundredth. Lark stores them
    with pickle, so the directory and the file must be the user's and writable by nobody else. A
    cache file that is not (another user's, a link, group- or world-writable) is removed and built
    again, never loaded; where the directory is not the user's, the parser is built afresh each time.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = Path(base) / "contractlang"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = directory.stat()
    except OSError:
        return None
    if not _owned_and_private(st):
        return None
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
    path = directory / f"parser-{digest}.lark-cache"
    try:
        st = path.lstat()
    except FileNotFoundError:
        return str(path)
    except OSError:
        return None
    if stat.S_ISREG(st.st_mode) and _owned_and_private(st):
        return str(path)
    # Someone else's file, a link, or one that others could have rewritten (written under umask 000):
    # never unpickle it. The directory is ours alone, so removing it and building afresh is safe.
    try:
        path.unlink()
    except OSError:
        return None
    return str(path)


def _owned_and_private(st: os.stat_result) -> bool:
    """The file or directory belongs to this user and nobody else may write to it."""
    return not ((hasattr(os, "getuid") and st.st_uid != os.getuid()) or st.st_mode & 0o022)


def _private(path: Path) -> None:
    """Make the cache file Lark just wrote readable and writable by its owner alone (whatever the umask)."""
    try:
        if path.is_file() and not path.is_symlink() and _owned_and_private(path.parent.stat()):
            path.chmod(0o600)
    except OSError:
        pass


class _GluedWord(Exception):
    """A keyword was lexed as the first part of a longer word (`goall` → `goal` + `l`)."""

    def __init__(self, first: Token, rest: Token):
        super().__init__(f"{first}{rest}")
        self.first, self.rest = first, rest


class _WholeWords:
    """Keeps the contextual lexer from reading a keyword out of the front of a longer word.

    Where a name is not allowed, the lexer only tries keywords and would read
    `goall` as `goal` followed by `l`, or `flagged_x` as `flag ged_x` — a silent
    misparse. A keyword must be a whole word: if the next token starts right
    where a keyword ends and both sides are word characters, the pair is one
    misspelt word, reported as such.
    """

    always_accept = ()
    _TEXT = frozenset({"NAME", "NUMBER", "INT", "STRING", "DATE", "MONTH_DAY"})

    def process(self, stream):
        prev = None
        for tok in stream:
            if tok.type == "NAME" and not tok.isascii():  # only a Danish file's lexer reads æ, ø and å in a word
                raise _ForeignName(tok)
            if (prev is not None and prev.type not in self._TEXT and tok.start_pos == prev.end_pos
                    and _is_word_char(str(prev)[-1:]) and _is_word_char(str(tok)[:1])):
                raise _GluedWord(prev, tok)
            prev = tok
            yield tok


class _ForeignName(Exception):
    """A name with letters beyond a–z (`beskæftigelse`): names are ASCII, whatever the keywords' language."""

    def __init__(self, tok: Token):
        super().__init__(str(tok))
        self.tok = tok


def _foreign_name_diagnostic(path: str, tok: Token):
    plain = str(tok).translate(str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"}))
    hint = f"write '{plain}'" if plain.isascii() else "write the name with the letters a–z, digits and '_'"
    return error("CL001", f"the name '{tok}' has letters beyond a–z; a name is written with a–z, A–Z, digits and '_' "
                 "(titles in quotes may hold any letter)", _span(path, tok.line, tok.column, len(tok)), hint=hint)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


# ---- friendly errors -------------------------------------------------------------

_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "INT": "a whole number", "STRING": 'a quoted text ("…")',
    "DATE": "a date (YYYY-MM-DD)", "MONTH_DAY": "a day of the year (MM-DD)", "$END": "the end of the file",
    "CURRENCY": "a currency (DKK, GBP, EUR …)",
}
# The terminals that are a choice of keywords, described in the file's language.
_CHOICES = {
    "LEVEL": ("person", "household"), "LEVEL_PLURAL": ("persons", "households"), "ANCHOR": ("start", "end"),
    "MISSING_METHOD": ("mean", "zero", "none", "observed only"), "PERIODS": ("monthly", "quarterly", "half-yearly", "yearly"),
    "DUE_UNIT": ("quarter", "month", "half-year"), "LOGIC": ("strict", "three-valued"),
}


def _describe(term: str, language: str = "en") -> str:
    if term in _WORDS:
        return _WORDS[term]
    if term in _CHOICES:
        return _join([word(w, language) for w in _CHOICES[term]])
    if term == "UNIT":
        return f"a unit (DKK, %, {word('count', language)}, {word('months', language)} …)"
    try:
        pattern = parser(language).get_terminal(term).pattern
    except KeyError:
        return term.lower()
    if pattern.type == "str":
        return f"'{pattern.value}'"
    return term.lower()


def _keywords(expected: set[str], language: str = "en") -> list[str]:
    words = []
    for term in expected:
        try:
            pattern = parser(language).get_terminal(term).pattern
        except KeyError:
            continue
        if pattern.type == "str" and pattern.value.isidentifier():
            words.append(pattern.value)
    return words


def _offset(text: str, line: int, column: int) -> int:
    """The index in `text` of a 1-based line and column."""
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return len(text)
    return start + column - 1


def _unclosed(text: str, end: int) -> tuple[int, int, str] | None:
    """The innermost '{' (or '(' or '[') before `end` that is not closed by then, outside strings and
    comments: (line, column, the text of its line), or None."""
    masked = _MASK.sub(lambda mo: " " * len(mo.group(0)), text[:end])
    stack = []
    for mo in _BRACKET.finditer(masked):
        if mo.group() in "({[":
            stack.append(mo.start())
        elif stack:
            stack.pop()
    if not stack:
        return None
    at = stack[-1]
    line = text.count("\n", 0, at) + 1
    begin = text.rfind("\n", 0, at) + 1
    stop = text.find("\n", at)
    return line, at - begin + 1, text[begin:stop if stop >= 0 else len(text)]


def _open_string(line_text: str) -> int | None:
    """The 1-based column of the string a line opens and does not close where meant: with an odd number of
    quotes, the first quote (the string runs to the next quote, taking the rest of what was meant)."""
    quotes = [i for i, ch in enumerate(line_text) if ch == '"' and (i == 0 or line_text[i - 1] != "\\")]
    comment = line_text.find("#")
    if comment >= 0 and all(q > comment for q in quotes[:1]):
        return None
    return quotes[0] + 1 if len(quotes) % 2 == 1 else None


def _syntax_diagnostic(path: str, err: UnexpectedInput, text: str = "", language: str = "en"):
    """The located error of a syntax error; where a bracket or a string is left open, it names where it
    opened (where the mistake is), not only where the parser gave up."""
    d = _plain_syntax_diagnostic(path, err, text, language)
    if not text or d.span is None:
        return d
    line_text = text.split("\n")[d.span.line - 1] if d.span.line - 1 < text.count("\n") + 1 else ""
    opened = _open_string(line_text)
    if opened is not None and opened < d.span.column:
        return error("CL001", f"{d.message}; the string that opens at line {d.span.line}, column {opened} "
                     "ends at the next '\"' on the line", _span(path, d.span.line, opened),
                     hint="is a closing '\"' missing?")
    at_end = isinstance(err, UnexpectedEOF) or isinstance(err, UnexpectedToken) and err.token.type == "$END"
    # A block left open shows where the next declaration begins: a keyword at the start of a line where
    # the block's '}' was still expected.
    next_declaration = (isinstance(err, UnexpectedToken) and "RBRACE" in set(err.expected)
                        and err.token.type != "NAME" and err.column == 1)
    if at_end or next_declaration:
        where = _unclosed(text, _offset(text, d.span.line, d.span.column))
        if where is not None:
            line, column, source = where
            what = source.strip()
            what = what if len(what) <= 60 else what[:57] + "…"
            until = "by the end of the file" if at_end else f"before line {d.span.line}"
            return error("CL001", f"the '{source[column - 1]}' opened at line {line}, column {column} ({what}) is not "
                         f"closed {until}: {d.message}", _span(path, line, column),
                         hint=f"is a closing '{_CLOSING[source[column - 1]]}' missing {until}?")
    return d


_CLOSING = {"{": "}", "(": ")", "[": "]"}


def _plain_syntax_diagnostic(path: str, err: UnexpectedInput, text: str = "", language: str = "en"):
    if isinstance(err, UnexpectedToken) and err.token.type == "$END":
        expected = sorted(_describe(t, language) for t in err.expected)
        return error("CL001", "the file ends in the middle of a declaration; expected "
                     + ", ".join(expected[:8]), _span(path, err.line if err.line > 0 else 1, max(err.column, 1)),
                     hint="is a closing '}' missing?")
    if isinstance(err, UnexpectedEOF):
        return error("CL001", "the file ends in the middle of a declaration", _span(path, 1, 1),
                     hint="is a closing '}' missing?")
    if isinstance(err, UnexpectedToken):
        tok = err.token
        start = getattr(tok, "start_pos", None)
        if tok.type == "NAME" and start and text and _is_word_char(text[start - 1]):
            # The lexer took a keyword off the front of this word (`personsx` → `persons` + `x`).
            begin = start
            while begin > 0 and _is_word_char(text[begin - 1]):
                begin -= 1
            first = Token("KEYWORD", text[begin:start], start_pos=begin, line=tok.line,
                          column=tok.column - (start - begin))
            return _glued_diagnostic(path, _GluedWord(first, tok), language)
        expected = set(err.expected)
        words = sorted({_describe(t, language) for t in expected})
        hint = None
        if tok.type == "NAME":
            close = difflib.get_close_matches(str(tok), _keywords(expected, language), n=1)
            if close:
                hint = f"did you mean '{close[0]}'?"
            hint = _other_language(str(tok), language) or hint
        msg = f"unexpected {_shown(tok)}; expected " + _join(words)
        return error("CL001", msg, _span(path, tok.line, tok.column, len(str(tok)) or 1), hint=hint)
    if isinstance(err, UnexpectedCharacters):
        words = sorted({_describe(t, language) for t in (err.allowed or ())})
        ch = err.char
        msg = f"unexpected character {ch!r}" + (f"; expected {_join(words)}" if words else "")
        return error("CL001", msg, _span(path, err.line, err.column))
    return error("CL001", str(err), _span(path, getattr(err, "line", 1), getattr(err, "column", 1)))


def _other_language(name: str, language: str) -> str | None:
    """The hint for a keyword of the other language where a keyword was expected (`measure` in a Danish file,
    `kontrakt` in an English one), or None."""
    if language == "da" and name in DANISH:
        return f"this file has Danish keywords (sprog dansk): write '{DANISH[name]}' for '{name}'"
    danish = {v: k for k, v in DANISH.items() if v != k}
    if language == "en" and name in danish:
        return (f"'{name}' is Danish ('{danish[name]}' in English); a file written with Danish keywords begins "
                "with the line 'sprog dansk'")
    return None


def _glued_diagnostic(path: str, glued: _GluedWord, language: str = "en"):
    first, rest = glued.first, glued.rest
    glued_word = f"{first}{rest}"
    close = difflib.get_close_matches(glued_word, words(language), n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"put a space after '{first}' if two words were meant"
    return error("CL001", f"unexpected word '{glued_word}'; '{first}' is a keyword and must stand as a whole word",
                 _span(path, first.line, first.column, len(glued_word)), hint=hint)


def _shown(tok: Token) -> str:
    if tok.type == "NAME":
        return f"name '{tok}'"
    if tok.type in ("NUMBER", "INT"):
        return f"number {tok}"
    return f"'{tok}'"


def _join(words: list[str]) -> str:
    if len(words) > 10:
        words = words[:10] + ["…"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# Danish number formats and `kr.`: caught before parsing for a friendly message. A group of
# thousands never starts with 0, so `0.005 DKK` is half an øre, not five thousand.
_DANISH_THOUSANDS = re.compile(r"(?<![\w.])[1-9]\d{0,2}(?:\.\d{3}){2,}(?:,\d+)?(?![\w.])"
                               r"|(?<![\w.])[1-9]\d{0,2}\.\d{3}(?:,\d+)?(?=\s*(?:kr\b|DKK))")
_DECIMAL_COMMA = re.compile(r"(?<![\w.,])\d+,\d+(?=\s*%|(?![\d\s,]))")
# Thousands separated by commas, as English writes them (two groups or more: `1,400` alone is a decimal comma).
_COMMA_THOUSANDS = re.compile(r"(?<![\w.,])[1-9]\d{0,2}(?:,\d{3}){2,}(?:\.\d+)?(?![\w,])")
_KR = re.compile(r"(?<=\d)\s*kr\.?(?!\w)")
_BRACKET = re.compile(r"[(){}\[\]]")
_DIGITS = re.compile(r"(?<![\w.])\d[\d_]*(?:\.\d*)?")
_STRING = re.compile(r'"([^"\\\n]|\\.)*"')  # a quoted text (on one line)
_MASK = re.compile(_STRING.pattern + r'|#[^\n]*')  # a quoted text or a comment: what bracket counts skip


def _prescan(text: str, path: str) -> list:
    """Danish number formats, numbers beyond the limits and deep nesting, found in the raw text.

    Each kind reports at most `MAX_ERRORS` places, and a place costs a binary search, not a scan
    of the text: a hostile file full of them costs linear time.
    """
    diags = []
    masked = _MASK.sub(lambda mo: " " * len(mo.group(0)), text)
    starts = [0] + [mo.end() for mo in re.finditer("\n", masked)]

    def at(pos: int, width: int = 1) -> m.SourceSpan:
        line = bisect.bisect_right(starts, pos)
        return _span(path, line, pos - starts[line - 1] + 1, width)

    for rx, code, what, style, fix in (
        (_DANISH_THOUSANDS, "CL003", "a number with '.' between thousands", "Danish",
         lambda s: s.replace(".", "_").replace(",", ".")),  # every digit kept: 8.600,50 is 8_600.50
        (_DECIMAL_COMMA, "CL003", "a decimal comma", "Danish", lambda s: s.replace(",", ".")),
        (_COMMA_THOUSANDS, "CL003", "a number with ',' between thousands", "English", lambda s: s.replace(",", "_")),
        (_KR, "CL003", "'kr.' as a unit", "Danish", lambda s: " DKK"),
    ):
        for mo in itertools.islice(rx.finditer(masked), MAX_ERRORS):
            found = mo.group(0).strip()
            diags.append(error(code, f"{what}: '{found}' is written in {style} format", at(mo.start(), len(mo.group(0))),
                               hint=f"write '{fix(found).strip()}' (digits may be grouped with '_', e.g. 1_400_000 DKK)"))
    too_long = (mo for mo in _DIGITS.finditer(masked)
                if mo.end() - mo.start() > 10 and text_number_problem(mo.group(0)))  # ≤ 10 characters: within limits
    for mo in itertools.islice(too_long, MAX_ERRORS):
        number = mo.group(0)
        shown = number if len(number) <= 24 else number[:20] + "…"
        diags.append(error("CL018", f"the number {shown} {text_number_problem(number)}", at(mo.start(), len(number)),
                           hint="contractlang settles exactly and refuses a number it could not carry through "
                                "every report; is the figure written wrongly?"))
    depth, worst = 0, None
    for mo in _BRACKET.finditer(masked):
        if mo.group() in "({[":
            depth += 1
            if depth > MAX_NESTING:
                worst = mo.start()
                break
        else:
            depth -= 1
    if worst is not None:
        diags.append(error("CL002", f"brackets are nested more than {MAX_NESTING} deep",
                           at(worst), hint="a contract never needs this; is the file generated wrongly?"))
    return diags


def decode(data: bytes, path: str) -> str:
    """Bytes → text, refusing what is not a contract: too large, binary, not UTF-8."""
    if len(data) > MAX_BYTES:
        raise ParseError([error("CL002", f"the file is {len(data):,} bytes; a contract file may be at most {MAX_BYTES:,}",
                                _span(path, 1, 1))])
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ParseError([error("CL002", "the file holds binary data (a NUL byte); a contract file is UTF-8 text",
                                _span(path, line, nul - (data.rfind(b"\n", 0, nul) + 1) + 1))])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ParseError([error("CL002", "the file is not valid UTF-8 text", _span(path, line, col))]) from None
    return text.removeprefix("\ufeff")


def parse_text(text: str, path: str = "<contract>") -> m.Contract:
    """Parse contract text into a `Contract`; raise `ParseError` with every syntax error found.

    The text is written with English or Danish keywords (`keywords.language_of`); both give the same model."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        decode(text.encode("utf-8"), path)
    diags = _prescan(text, path)
    if any(d.code == "CL002" for d in diags):
        raise ParseError(diags)
    language, body = language_of(text, path)
    errors: list = []

    stuck: list = []  # the terminals the parser expected at the last error

    def on_error(err: UnexpectedInput) -> bool:
        expected = set(getattr(err, "expected", None) or ())
        if expected and stuck and expected == stuck[-1]:
            return False  # the parser waits for the same thing token after token: one error says it
        stuck.append(expected)
        d = _syntax_diagnostic(path, err, body, language)
        if not errors or errors[-1].span.line != d.span.line:
            errors.append(d)
        return len(errors) < MAX_ERRORS and not isinstance(err, UnexpectedEOF)

    try:
        tree = parser(language).parse(body, on_error=on_error)
    except _GluedWord as glued:
        errors.append(_glued_diagnostic(path, glued, language))
        tree = None
    except _ForeignName as foreign:
        errors.append(_foreign_name_diagnostic(path, foreign.tok))
        tree = None
    except UnexpectedInput as err:
        d = _syntax_diagnostic(path, err, body, language)
        again = stuck and set(getattr(err, "expected", None) or ()) == stuck[-1]  # the error said already
        if not again and (not errors or errors[-1] != d):
            errors.append(d)
        tree = None
    except Exception as err:  # lark's recovery can fail on pathological input; report, never crash
        errors.append(error("CL001", f"the parser could not recover here: {type(err).__name__}", _span(path, 1, 1)))
        tree = None
    # Prefer the friendly pre-scan message over a syntax error on the same line.
    lines = {d.span.line for d in diags}
    diags += [e for e in errors if e.span.line not in lines]
    if diags:
        raise ParseError(sorted(diags, key=lambda d: (d.span.line, d.span.column)))
    if language != "en":
        _in_english(tree, language)
    try:
        contract = _Builder(path).transform(tree)
    except RecursionError:
        raise ParseError([_too_deep(path)]) from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, RecursionError):
            raise ParseError([_too_deep(path)]) from None
        raise exc.orig_exc from None
    return attrs.evolve(contract, source=text, path=path)


def _in_english(tree, language: str) -> None:
    """Replace, in place, the keywords the model keeps (`husstand`, `slut`) by the English ones."""
    for subtree in tree.iter_subtrees():
        for k, child in enumerate(subtree.children):
            if isinstance(child, Token) and child.type in NAMED_TERMINALS:
                subtree.children[k] = child.update(value=english(str(child), language))


def _too_deep(path: str):
    return error("CL002", "an expression is nested too deeply to read (a very long chain of '-' or 'not')",
                 _span(path, 1, 1), hint="a contract never needs this; is the file generated wrongly?")


def parse_file(path: str | Path) -> m.Contract:
    """Read and parse a DSL file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ParseError([error("CL002", f"cannot read {p}: {exc.strerror}")]) from None
    return parse_text(decode(data, str(p)), str(p))


