"""parse: contract text → syntax tree (Lark, LALR) → model.

The transformer only builds model objects; meaning is checked in `check`.
Errors are collected (the parser recovers and goes on) and raised together as
one `ParseError` whose diagnostics point at file, line and column.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import functools
import hashlib
import itertools
import os
import re
import stat
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import model as m
from .errors import ParseError, error
from .limits import MAX_BYTES, MAX_ERRORS, MAX_NESTING, text_number_problem

_GRAMMAR_NAME = "contract.lark"


def _grammar_path() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "grammar" / _GRAMMAR_NAME, here.parent / "grammar" / _GRAMMAR_NAME):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"grammar {_GRAMMAR_NAME} not found beside the package")


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser, built once per process (its tables loaded from the user's cache when there)."""
    grammar = _grammar_path().read_text(encoding="utf-8")
    cache = _cache_file(grammar)
    built = Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False, postlex=_WholeWords(),
                 cache=cache or False)
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
            if (prev is not None and prev.type not in self._TEXT and tok.start_pos == prev.end_pos
                    and _is_word_char(str(prev)[-1:]) and _is_word_char(str(tok)[:1])):
                raise _GluedWord(prev, tok)
            prev = tok
            yield tok


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


# ---- friendly errors -------------------------------------------------------------

_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "INT": "a whole number", "STRING": 'a quoted text ("…")',
    "DATE": "a date (YYYY-MM-DD)", "UNIT": "a unit (DKK, %, count, months …)", "LEVEL": "person or household",
    "LEVEL_PLURAL": "persons or households", "ANCHOR": "start or end", "MISSING_METHOD": "mean, zero, none or observed only",
    "PERIODS": "half-yearly, quarterly or yearly", "DUE_UNIT": "quarter, month or half-year",
    "MONTH_DAY": "a day of the year (MM-DD)", "$END": "the end of the file",
}


def _describe(term: str) -> str:
    if term in _WORDS:
        return _WORDS[term]
    try:
        pattern = parser().get_terminal(term).pattern
    except KeyError:
        return term.lower()
    if pattern.type == "str":
        return f"'{pattern.value}'"
    return term.lower()


def _keywords(expected: set[str]) -> list[str]:
    words = []
    for term in expected:
        try:
            pattern = parser().get_terminal(term).pattern
        except KeyError:
            continue
        if pattern.type == "str" and pattern.value.isidentifier():
            words.append(pattern.value)
    return words


def _span(path: str, line: int, column: int, width: int = 1) -> m.SourceSpan:
    return m.SourceSpan(path, line, column, line, column + width)


def _syntax_diagnostic(path: str, err: UnexpectedInput, text: str = ""):
    if isinstance(err, UnexpectedToken) and err.token.type == "$END":
        expected = sorted(_describe(t) for t in err.expected)
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
            return _glued_diagnostic(path, _GluedWord(first, tok))
        expected = set(err.expected)
        words = sorted({_describe(t) for t in expected})
        hint = None
        if tok.type == "NAME":
            close = difflib.get_close_matches(str(tok), _keywords(expected), n=1)
            if close:
                hint = f"did you mean '{close[0]}'?"
        msg = f"unexpected {_shown(tok)}; expected " + _join(words)
        return error("CL001", msg, _span(path, tok.line, tok.column, len(str(tok)) or 1), hint=hint)
    if isinstance(err, UnexpectedCharacters):
        words = sorted({_describe(t) for t in (err.allowed or ())})
        ch = err.char
        msg = f"unexpected character {ch!r}" + (f"; expected {_join(words)}" if words else "")
        return error("CL001", msg, _span(path, err.line, err.column))
    return error("CL001", str(err), _span(path, getattr(err, "line", 1), getattr(err, "column", 1)))


def _glued_diagnostic(path: str, glued: _GluedWord):
    first, rest = glued.first, glued.rest
    word = f"{first}{rest}"
    keywords = sorted({t.pattern.value for t in parser().terminals
                       if t.pattern.type == "str" and t.pattern.value.isidentifier()})
    close = difflib.get_close_matches(word, keywords, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"put a space after '{first}' if two words were meant"
    return error("CL001", f"unexpected word '{word}'; '{first}' is a keyword and must stand as a whole word",
                 _span(path, first.line, first.column, len(word)), hint=hint)


def _shown(tok: Token) -> str:
    if tok.type == "NAME":
        return f"name '{tok}'"
    if tok.type in ("NUMBER", "INT"):
        return f"number {tok}"
    return f"'{tok}'"


def _join(words: list[str]) -> str:
    if len(words) > 10:
        words = words[:10] + ["…"]
    return ", ".join(words) if len(words) < 3 else ", ".join(words[:-1]) + " or " + words[-1]


# Danish number formats and `kr.`: caught before parsing for a friendly message. A group of
# thousands never starts with 0, so `0.005 DKK` is half an øre, not five thousand.
_DANISH_THOUSANDS = re.compile(r"(?<![\w.])[1-9]\d{0,2}(?:\.\d{3}){2,}(?:,\d+)?(?![\w.])"
                               r"|(?<![\w.])[1-9]\d{0,2}\.\d{3}(?:,\d+)?(?=\s*(?:kr\b|DKK))")
_DECIMAL_COMMA = re.compile(r"(?<![\w.,])\d+,\d+(?=\s*%|(?![\d\s,]))")
_KR = re.compile(r"(?<=\d)\s*kr\.?(?!\w)")
_BRACKET = re.compile(r"[(){}\[\]]")
_DIGITS = re.compile(r"(?<![\w.])\d[\d_]*(?:\.\d*)?")
_MASK = re.compile(r'"([^"\\\n]|\\.)*"|#[^\n]*')


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

    for rx, code, what, fix in (
        (_DANISH_THOUSANDS, "CL003", "a number with '.' between thousands", lambda s: s.split(",")[0].replace(".", "_")),
        (_DECIMAL_COMMA, "CL003", "a decimal comma", lambda s: s.replace(",", ".")),
        (_KR, "CL003", "'kr.' as a unit", lambda s: " DKK"),
    ):
        for mo in itertools.islice(rx.finditer(masked), MAX_ERRORS):
            found = mo.group(0).strip()
            diags.append(error(code, f"{what}: '{found}' is written in Danish format", at(mo.start(), len(mo.group(0))),
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
    """Parse contract text into a `Contract`; raise `ParseError` with every syntax error found."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        decode(text.encode("utf-8"), path)
    diags = _prescan(text, path)
    if any(d.code == "CL002" for d in diags):
        raise ParseError(diags)
    errors: list = []

    def on_error(err: UnexpectedInput) -> bool:
        d = _syntax_diagnostic(path, err, text)
        if not errors or errors[-1].span.line != d.span.line:
            errors.append(d)
        return len(errors) < MAX_ERRORS and not isinstance(err, UnexpectedEOF)

    try:
        tree = parser().parse(text, on_error=on_error)
    except _GluedWord as glued:
        errors.append(_glued_diagnostic(path, glued))
        tree = None
    except UnexpectedInput as err:
        d = _syntax_diagnostic(path, err, text)
        if not errors or errors[-1] != d:
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
    try:
        contract = _Builder(path).transform(tree)
    except RecursionError:
        raise ParseError([_too_deep(path)]) from None
    except VisitError as exc:
        if isinstance(exc.orig_exc, RecursionError):
            raise ParseError([_too_deep(path)]) from None
        raise exc.orig_exc from None
    return attrs.evolve(contract, source=text, path=path)


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


# ---- tree → model ------------------------------------------------------------------

def _dec(tok: Token | str) -> Decimal:
    try:
        return Decimal(str(tok).replace("_", ""))
    except InvalidOperation:  # pragma: no cover - the grammar only admits digits
        raise ValueError(tok) from None


def _date(tok: Token, path: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(tok))
    except ValueError:
        raise ParseError([error("CL013", f"'{tok}' is not a calendar date", _span(path, tok.line, tok.column, len(tok)))])


def _unquote(tok: Token) -> str:
    s = str(tok)[1:-1]
    return s.replace('\\"', '"').replace("\\\\", "\\")


class _Builder:
    """Builds model objects; every method receives (meta, children)."""

    def __init__(self, path: str):
        self.path = path

    def transform(self, tree):
        """Build bottom-up, calling `rule(meta, children)` directly.

        Same result as Lark's `Transformer.transform`, without its per-node
        wrapper machinery (a third of the time of checking a contract).
        Errors are wrapped in `VisitError` as Lark would.
        """
        try:
            return self._build(tree)
        except VisitError:
            raise
        except Exception as exc:
            raise VisitError(getattr(tree, "data", "?"), tree, exc) from exc

    def _build(self, tree):
        build = self._build
        children = [build(c) if type(c) is Tree else c for c in tree.children]
        return getattr(self, tree.data)(tree.meta, children)

    def _sp(self, meta) -> m.SourceSpan | None:
        if getattr(meta, "empty", True):
            return None
        return m.SourceSpan(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_sp(self, tok: Token) -> m.SourceSpan:
        return m.SourceSpan(self.path, tok.line, tok.column, tok.end_line, tok.end_column)

    @staticmethod
    def _split(children):
        """Separate optional STRING title, clause and the rest."""
        title = clause = None
        rest = []
        for c in children:
            if isinstance(c, Token) and c.type == "STRING" and title is None:
                title = _unquote(c)
            elif type(c) is _Clause:
                clause = c.text
            else:
                rest.append(c)
        return title, clause, rest

    # -- small pieces
    def clause(self, meta, ch):
        return _Clause(_unquote(ch[0]))

    def decision(self, meta, ch):
        return _Decision(_unquote(ch[0]))

    def assumption(self, meta, ch):
        return _Assumption(_unquote(ch[0]) if ch else "")

    def quantity(self, meta, ch):
        unit = assumption = None
        for c in ch[1:]:
            if isinstance(c, _Assumption):
                assumption = c.text or "assumed"
            else:
                unit = str(c)
        return m.Quantity(value=_dec(ch[0]), unit=unit, assumption=assumption, span=self._sp(meta))

    def signed_number(self, meta, ch):
        return _dec(ch[0])

    def negative_number(self, meta, ch):
        return -_dec(ch[0])

    def empty_cell(self, meta, ch):
        return m.Empty(span=self._sp(meta))

    def symbol(self, meta, ch):
        return m.Symbol(name=str(ch[0]), span=self._sp(meta))

    # -- declarations
    def contract_header(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        return ("header", str(ch[0]), title, clause, self._sp(meta))

    def currency(self, meta, ch):
        return ("currency", str(ch[0]))

    def party(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        return m.Party(id=str(ch[0]), name=title, role=str(rest[0]), clause=clause, span=self._sp(meta))

    def grant(self, meta, ch):
        _, clause, rest = self._split(ch)
        return m.Grant(party=str(rest[0]), amount=rest[1], clause=clause, span=self._sp(meta))

    def party_amount(self, meta, ch):
        return m.PartyAmount(party=str(ch[0]), amount=ch[1], span=self._sp(meta))

    def instalment(self, meta, ch):
        title, clause, rest = self._split(ch)
        return m.Instalment(label=title, date=_date(rest[0], self.path), amounts=tuple(rest[1:]),
                            clause=clause, span=self._sp(meta))

    def disbursement(self, meta, ch):
        _, clause, rest = self._split(ch)
        return m.Disbursement(instalments=tuple(rest), clause=clause, span=self._sp(meta))

    def column(self, meta, ch):
        title, _, rest = self._split(ch[1:])
        return m.Column(id=str(ch[0]), label=title, unit=str(rest[0]), span=self._sp(meta))

    def columns(self, meta, ch):
        return ("columns", tuple(ch))

    def table_check(self, meta, ch):
        return m.TableCheck(target=str(ch[0]), terms=tuple(str(c) for c in ch[1:]), span=self._sp(meta))

    def sum_of(self, meta, ch):
        return ("of", tuple(str(c) for c in ch))

    def weighted(self, meta, ch):
        return ("weighted", str(ch[0]))

    def _row(self, meta, ch, kind):
        title, clause, rest = self._split(ch[1:])
        of = weighted = None
        cells = []
        for c in rest:
            if isinstance(c, tuple) and c[0] == "of":
                of = c[1]
            elif isinstance(c, tuple) and c[0] == "weighted":
                weighted = c[1]
            else:
                cells.append(c)
        return m.Row(id=str(ch[0]), label=title, kind=kind, of=of, weighted_by=weighted, cells=tuple(cells),
                     clause=clause, span=self._sp(meta))

    def row(self, meta, ch):
        return self._row(meta, ch, "row")

    def sum_row(self, meta, ch):
        return self._row(meta, ch, "sum")

    def table(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        columns = next(c[1] for c in rest if isinstance(c, tuple))
        checks = tuple(c for c in rest if isinstance(c, m.TableCheck))
        rows = tuple(c for c in rest if isinstance(c, m.Row))
        return m.Table(id=str(ch[0]), title=title, columns=columns, checks=checks, rows=rows,
                       clause=clause, span=self._sp(meta))

    def intervention(self, meta, ch):
        _, clause, rest = self._split(ch)
        assumed = next((c.text or "assumed" for c in rest[2:] if isinstance(c, _Assumption)), None)
        return ("intervention", _date(rest[0], self.path), _date(rest[1], self.path), clause, assumed)

    def data_collection(self, meta, ch):
        assumption = next((c.text or "assumed" for c in ch if isinstance(c, _Assumption)), None)
        _, clause, rest = self._split([c for c in ch if not isinstance(c, _Assumption)])
        return ("data_collection", _date(rest[0], self.path), assumption, clause)

    def minimum_stay(self, meta, ch):
        _, clause, rest = self._split(ch)
        return ("minimum_stay", rest[0], clause)

    def replacement(self, meta, ch):
        _, clause, rest = self._split(ch)
        return ("replacement", rest[0], tuple(str(c) for c in rest[1:]), clause)

    def programme(self, meta, ch):
        _, clause, rest = self._split(ch)
        kw: dict = {"clause": clause, "span": self._sp(meta)}
        decisions = []
        for item in rest:
            if isinstance(item, _Decision):
                decisions.append(item.text)
            elif item[0] == "intervention":
                kw.update(intervention_start=item[1], intervention_end=item[2], intervention_clause=item[3],
                          intervention_assumption=item[4])
            elif item[0] == "data_collection":
                kw.update(data_collection_end=item[1], data_collection_assumption=item[2], data_collection_clause=item[3])
            elif item[0] == "minimum_stay":
                kw.update(minimum_stay=item[1], minimum_stay_clause=item[2])
            elif item[0] == "replacement":
                kw.update(replacement_within=item[1], replacement_unless=item[2], replacement_clause=item[3])
        if "intervention_start" not in kw:
            raise ParseError([error("CL016", "the programme has no 'intervention FROM to TO' period", self._sp(meta))])
        return m.Programme(decisions=tuple(decisions), **kw)

    def table_ref(self, meta, ch):
        return tuple(str(c) for c in ch)

    def reduction(self, meta, ch):
        _, clause, rest = self._split(ch)
        t, r, c = rest[0]
        return m.Reduction(table=t, row=r, column=c, clause=clause, span=self._sp(meta))

    def offset(self, meta, ch):
        return ch[0]

    def point(self, meta, ch):
        _, clause, rest = self._split(ch[1:])
        offset = rest[1] if len(rest) > 1 else None
        return m.Point(id=str(ch[0]), anchor=str(rest[0]), offset=offset, clause=clause, span=self._sp(meta))

    def boolean_type(self, meta, ch):
        return ("boolean", None)

    def integer_type(self, meta, ch):
        return ("integer", ch[0] if ch else None)

    def decimal_type(self, meta, ch):
        return ("decimal", ch[0] if ch else None)

    def range(self, meta, ch):
        return (ch[0], ch[1])

    def values(self, meta, ch):
        return ("enum", tuple(str(c) for c in ch))

    def point_list(self, meta, ch):
        return ("points", tuple(str(c) for c in ch))

    def measure(self, meta, ch):
        _, clause, rest = self._split(ch[2:])
        kw: dict = {}
        for item in rest:
            if item[0] == "points":
                kw["points"] = item[1]
            elif item[0] == "enum":
                kw.update(kind="enum", values=item[1])
            else:
                kw["kind"] = item[0]
                if item[1]:
                    kw.update(low=item[1][0], high=item[1][1])
        if "kind" not in kw or "points" not in kw:
            raise ParseError([error("CL016", f"measure {ch[0]} has no type and points: write e.g. "
                                    f"'measure {ch[0]} {ch[1]} boolean at m12' or a '{{ values … at … }}' block",
                                    self._sp(meta))])
        return m.Measure(id=str(ch[0]), level=str(ch[1]), clause=clause, span=self._sp(meta), **kw)

    def rounding(self, meta, ch):
        _, clause, rest = self._split(ch)
        return m.Rounding(id=str(rest[0]), places=int(rest[1]), mode=str(rest[2]), clause=clause, span=self._sp(meta))

    # -- goals
    def payer(self, meta, ch):
        return ("payer", str(ch[0]))

    def subjects(self, meta, ch):
        return ("subjects", str(ch[0]), ch[1] if len(ch) > 1 else None)

    def from_cohort(self, meta, ch):
        return "from_cohort"

    def goal_points(self, meta, ch):
        return ("points", tuple(str(c) for c in ch if c != "from_cohort"), "from_cohort" in ch)

    def compare(self, meta, ch):
        return m.Comparison(measure=str(ch[0]), treated=str(ch[1]), control=str(ch[2]), span=self._sp(meta))

    def let(self, meta, ch):
        return m.Let(name=str(ch[0]), expr=ch[1], span=self._sp(meta))

    def outcome(self, meta, ch):
        return ("outcome", ch[0])

    def rate(self, meta, ch):
        return m.Rate(amount=ch[0], per=str(ch[1]), span=self._sp(meta))

    def missing(self, meta, ch):
        _, clause, rest = self._split(ch)
        return m.Missing(method=" ".join(str(rest[0]).split()), exempt=str(rest[1]) if len(rest) > 1 else None,
                         clause=clause, span=self._sp(meta))

    def goal(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        kw: dict = {}
        lets, decisions = [], []
        for item in rest:
            if isinstance(item, m.Let):
                lets.append(item)
            elif isinstance(item, m.Comparison):
                kw["comparison"] = item
            elif isinstance(item, m.Rate):
                kw["rate"] = item
            elif isinstance(item, m.Missing):
                kw["missing"] = item
            elif isinstance(item, _Decision):
                decisions.append(item.text)
            elif item[0] == "payer":
                kw["payer"] = item[1]
            elif item[0] == "subjects":
                kw.update(level=item[1], where=item[2])
            elif item[0] == "points":
                kw.update(points=item[1], from_cohort=item[2])
            elif item[0] == "outcome":
                kw["outcome"] = item[1]
        return m.Goal(id=str(ch[0]), title=title, clause=clause, lets=tuple(lets), decisions=tuple(decisions),
                      span=self._sp(meta), **kw)

    # -- caps, tranches, settlement, flags
    def per_period(self, meta, ch):
        return ("per", str(ch[0]))

    def cap(self, meta, ch):
        _, clause, rest = self._split(ch[1:])
        per = next((c[1] for c in rest if isinstance(c, tuple)), None)
        return m.Cap(goal=str(ch[0]), amount=rest[0], per=per, clause=clause, span=self._sp(meta))

    def interest(self, meta, ch):
        return m.Interest(rate=ch[0], day_count=int(ch[1]), capitalisation=str(ch[2]), span=self._sp(meta))

    def cap_base(self, meta, ch):
        return ("base", tuple(str(c) for c in ch))

    def return_cap_body(self, meta, ch):
        return ("body", ch)

    def return_cap(self, meta, ch):
        _, clause, rest = self._split(ch[2:])
        goals, interest, base = [], None, ()
        for c in rest:
            if isinstance(c, tuple):
                for inner in c[1]:
                    if isinstance(inner, m.Interest):
                        interest = inner
                    else:
                        base = inner[1]
            else:
                goals.append(str(c))
        return m.ReturnCap(payer=str(ch[0]), amount=ch[1], goals=tuple(goals), interest=interest, base=base,
                           clause=clause, span=self._sp(meta))

    def share(self, meta, ch):
        return m.Share(party=str(ch[0]), percent=ch[1], span=self._sp(meta))

    def tranche(self, meta, ch):
        until = next((c for c in ch[1:] if isinstance(c, m.Quantity)), None)
        shares = tuple(c for c in ch[1:] if isinstance(c, m.Share))
        return m.Tranche(number=int(ch[0]), until=until, shares=shares, span=self._sp(meta))

    def split_rule(self, meta, ch):
        return ("split", str(ch[0]), str(ch[1]))

    def tranches(self, meta, ch):
        _, clause, rest = self._split(ch)
        split = rest[-1]
        return m.Tranches(tranches=tuple(rest[:-1]), rounding=split[1], remainder=split[2], clause=clause,
                          span=self._sp(meta))

    def periods(self, meta, ch):
        return str(ch[0])

    def due(self, meta, ch):
        return "end of following " + str(ch[0])

    def order(self, meta, ch):
        return tuple(str(c) for c in ch)

    def settlement(self, meta, ch):
        _, clause, rest = self._split(ch)
        return m.Settlement(periods=rest[0], due=rest[1], order=rest[2], clause=clause, span=self._sp(meta))

    def for_each(self, meta, ch):
        return ("for_each", str(ch[0]))

    def flag_on(self, meta, ch):
        return ("on", _date(ch[0], self.path))

    def flag(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        kw = {}
        for c in rest[:-1]:
            kw[c[0]] = c[1]
        return m.Flag(id=str(ch[0]), title=title, when=rest[-1], clause=clause, span=self._sp(meta), **kw)

    def target(self, meta, ch):
        return ("target", ch[0])

    def metric_rounding(self, meta, ch):
        return ("rounding", str(ch[0]))

    def metric(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        kw: dict = {}
        for c in rest:
            if isinstance(c, tuple) and c[0] == "subjects":
                kw.update(level=c[1], where=c[2])
            elif isinstance(c, tuple) and c[0] in ("target", "rounding"):
                kw[c[0]] = c[1]
            else:
                kw["share"] = c
        return m.Metric(id=str(ch[0]), title=title, clause=clause, span=self._sp(meta), **kw)

    def figure(self, meta, ch):
        title, clause, rest = self._split(ch[1:])
        return m.Figure(id=str(ch[0]), title=title, expr=rest[0], clause=clause, span=self._sp(meta))

    # -- expressions
    def _bin(op):
        def method(self, meta, ch):
            return m.Binary(op=op, left=ch[0], right=ch[1], span=self._sp(meta))
        return method

    add, sub, mul, div = _bin("+"), _bin("-"), _bin("*"), _bin("/")
    eq, ne, lt, le, gt, ge = _bin("=="), _bin("!="), _bin("<"), _bin("<="), _bin(">"), _bin(">=")

    def or_(self, meta, ch):
        return self._flatten("or", ch, meta)

    def and_(self, meta, ch):
        return self._flatten("and", ch, meta)

    def _flatten(self, op, ch, meta):
        operands = []
        for c in ch:
            operands.extend(c.operands if isinstance(c, m.BoolOp) and c.op == op else (c,))
        return m.BoolOp(op=op, operands=tuple(operands), span=self._sp(meta))

    def not_(self, meta, ch):
        return m.Not(operand=ch[0], span=self._sp(meta))

    def neg(self, meta, ch):
        return m.Neg(operand=ch[0], span=self._sp(meta))

    def in_(self, meta, ch):
        return m.In(operand=ch[0], values=ch[1], span=self._sp(meta))

    def set_literal(self, meta, ch):
        return tuple(str(c) for c in ch)

    def between(self, meta, ch):
        return m.Between(operand=ch[0], low=ch[1], high=ch[2], span=self._sp(meta))

    def at(self, meta, ch):
        return m.At(expr=ch[0], point=str(ch[1]), span=self._sp(meta))

    def ref(self, meta, ch):
        return m.Ref(name=str(ch[0]), span=self._tok_sp(ch[0]))

    def date(self, meta, ch):
        return m.DateLit(value=_date(ch[0], self.path), span=self._tok_sp(ch[0]))

    def column_ref(self, meta, ch):
        return m.ColumnRef(table=str(ch[0]), column=str(ch[1]), span=self._sp(meta))

    def lookup(self, meta, ch):
        return m.Lookup(table=str(ch[0]), column=str(ch[1]), key=ch[2], span=self._sp(meta))

    def call(self, meta, ch):
        return m.Call(func=str(ch[0]), args=tuple(c for c in ch[1:] if c is not None), span=self._sp(meta))

    def count(self, meta, ch):
        return m.Count(level=str(ch[0]), where=ch[1], span=self._sp(meta))

    def match_arm(self, meta, ch):
        return m.MatchArm(values=tuple(str(c) for c in ch[:-1]), result=ch[-1], span=self._sp(meta))

    def match(self, meta, ch):
        return m.Match(subject=ch[0], arms=tuple(ch[1:]), span=self._sp(meta))

    # -- the whole file
    def start(self, meta, ch):
        kw: dict = {}
        lists = {m.Party: "parties", m.Grant: "grants", m.Table: "tables", m.Point: "points",
                 m.Measure: "measures", m.Rounding: "roundings", m.Goal: "goals", m.Cap: "caps",
                 m.Flag: "flags", m.Metric: "metrics", m.Figure: "figures"}
        singles = {m.Disbursement: "disbursement", m.Programme: "programme", m.Reduction: "reduction",
                   m.ReturnCap: "return_cap", m.Tranches: "tranches", m.Settlement: "settlement"}
        collected: dict[str, list] = {name: [] for name in lists.values()}
        decisions, dupes = [], []
        header = None
        for item in ch:
            if type(item) in lists:
                collected[lists[type(item)]].append(item)
            elif type(item) in singles:
                name = singles[type(item)]
                if name in kw:
                    dupes.append(error("CL004", f"a contract has one '{name.replace('_', ' ')}' declaration; "
                                       "this is a second one", item.span))
                kw[name] = item
            elif isinstance(item, _Decision):
                decisions.append(item.text)
            elif item[0] == "header":
                if header is not None:
                    dupes.append(error("CL004", "a file holds one contract; this is a second 'contract' line",
                                       item[4]))
                header = item
            elif item[0] == "currency":
                kw["currency"] = item[1]
        if header is None:
            dupes.append(error("CL016", "the file has no 'contract NAME \"title\"' line",
                               m.SourceSpan(self.path, 1, 1)))
        if dupes:
            raise ParseError(dupes)
        return m.Contract(id=header[1], title=header[2], clause=header[3], decisions=tuple(decisions),
                          span=header[4], **kw, **{k: tuple(v) for k, v in collected.items()})


class _Clause:
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


class _Decision(_Clause):
    __slots__ = ()


class _Assumption(_Clause):
    __slots__ = ()
