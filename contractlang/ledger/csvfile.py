"""Reading one ledger CSV file: bounded bytes read once and hashed, split into cells by Polars.

A file is read with `stat` checked first (a directory, FIFO or device is refused unopened) and
at most `MAX_FILE_BYTES` + 1 bytes; the SHA-256 is of exactly those bytes, which are then parsed.
Line numbers are physical lines, counted as CSV counts them: `\\n`, `\\r\\n` and `\\r` end a line,
nothing else does (U+0085, U+2028 or a form feed inside a field are ordinary characters). A
quoted field may hold line breaks, as CSV allows; a row is numbered by the line it starts on and
a cell by the line and column where its field starts. Quotes must be well formed (a field is
quoted whole, a quote inside it doubled); a stray quote is an error at its own line and column.

Diagnostics are collected in a `Problems` list with the column *name* of the offending cell and
located (line, column, source line) once at the end, each in constant time per row.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import os
import re
import stat
from pathlib import Path

import attrs
import polars as pl

from .. import model as m
from ..errors import Diagnostic, error
from .vocabulary import MAX_FILE_BYTES, REQUIRED, WHITESPACE, close_match, show
from .vocabulary import columns as file_columns

_QUOTE_OR_COMMA = re.compile(r'[,"]')
STRAY_QUOTE = ('a quote (") inside a field that does not start with one; quote the whole field '
               'and double the quotes inside it')
AFTER_QUOTE = "text after the closing quote of a quoted field; a quoted field ends at a comma or at the end of the row"
UNCLOSED = "this quoted field is never closed (its closing quote is missing)"


class Malformed(Exception):
    """Quotes that do not pair up, at a line index (0-based) and column (1-based)."""

    def __init__(self, line: int, col: int, message: str):
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


def scan_record(lines: list[str | None], first: int) -> tuple[list[tuple[int, int]], int]:
    """The field starts (line index, column) of the record beginning at `lines[first]`, and its last line index.

    Raises Malformed where quotes do not follow CSV's rules.
    """
    li, text, i = first, lines[first] or "", 0
    starts = [(li, 1)]
    while True:
        found = _QUOTE_OR_COMMA.search(text, i)
        if found is None:
            return starts, li
        i = found.start()
        if text[i] == ",":
            i += 1
            starts.append((li, i + 1))
            continue
        if starts[-1] != (li, i + 1):
            raise Malformed(li, i + 1, STRAY_QUOTE)
        opened, i = (li, i + 1), i + 1
        while True:  # inside the quotes, across lines if need be
            j = text.find('"', i)
            if j < 0:
                li += 1
                if li >= len(lines):
                    raise Malformed(*opened, UNCLOSED)
                text, i = lines[li] or "", 0
                continue
            if text.startswith('"', j + 1):
                i = j + 2
                continue
            i = j + 1
            break
        if i < len(text) and text[i] != ",":
            raise Malformed(li, i + 1, AFTER_QUOTE)


@attrs.define(eq=False)
class Table:
    """One ledger file as read: its hash, header, physical lines and the cells of its usable rows.

    `frame` holds one row per data row that is not blank and has as many fields as the header:
    `line` (Int64, the physical line the row starts on) and one Utf8 column per column of FILES
    (the cell stripped, "" when empty or when the file has no such column). It is None when the
    header has a problem (a row check would only repeat it).
    """

    name: str
    file: str
    sha256: str
    header: list[str]
    body: bytes  # the bytes parsed (a BOM removed, line ends made `\n`)
    _lines: pl.Series | None = None
    frame: pl.DataFrame | None = None
    rows: int = 0
    index: dict[str, int] = attrs.Factory(dict)
    _python_lines: list | None = None
    extra: tuple[str, ...] = ()  # the contract's attributes: columns the file has beside LEDGER.md's

    @property
    def lines(self) -> pl.Series:
        """The physical lines of the file (made again from `body` when they were let go)."""
        if self._lines is None:
            self._lines = physical_lines(self.body)
        return self._lines

    def let_go_of_lines(self) -> None:
        """Free the lines once the rows are cut into cells; a diagnostic that needs them makes them again."""
        self._lines = self._python_lines = None

    def locate(self, line: int, field: str | None) -> tuple[int, int, str | None]:
        """(line, column, source line) of the cell of `field` in the row that starts on `line`."""
        if self._python_lines is None:
            self._python_lines = self.lines.to_list()
        lines = self._python_lines
        text = lines[line - 1] if 0 < line <= len(lines) else None
        k = self.index.get(field) if field else None
        if k is None or text is None:
            return line, 1, text
        if '"' not in text:
            return line, sum(len(f) + 1 for f in text.split(",")[:k]) + 1, text
        starts, _ = scan_record(lines, line - 1)
        li, col = starts[min(k, len(starts) - 1)]
        return li + 1, col, lines[li]


class Problems:
    """The diagnostics of a ledger, collected in any order and located and sorted at the end."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._found: list[tuple] = []

    def __bool__(self) -> bool:
        return bool(self._found)

    def at(self, name: str, line: int, col: int, code: str, message: str, hint: str | None = None,
           source: str | None = None) -> None:
        """A problem at a known position (a file, its header)."""
        self._found.append((name, None, line, col, None, code, message, hint, source))

    def cells(self, table: Table, field: str | None, lines, code: str, messages, hints=None) -> None:
        """One problem per row, in the cell of `field` (column 1 of the row when None)."""
        for i, (line, message) in enumerate(zip(lines, messages)):
            self._found.append((table.name, table, line, None, field, code, message,
                                hints[i] if hints else None, None))

    def diagnostics(self) -> list[Diagnostic]:
        """Every problem located and in order: by file (as in FILES), line, column."""
        order = {name: i for i, name in enumerate(("cohorts.csv", "households.csv", "persons.csv", "measurements.csv",
                                                      "payments.csv"))}
        located = []
        for seq, (name, table, line, col, field, code, message, hint, source) in enumerate(self._found):
            if table is not None:
                line, col, source = table.locate(line, field)
            located.append(((order.get(name, -1), line, col, seq), name, line, col, code, message, hint, source))
        located.sort(key=lambda x: x[0])
        paths = {name: str(self.directory / name) for name in order}
        return [error(code, message, m.SourceSpan(paths.get(name) or str(self.directory / name), line, col),
                      hint=hint, source_line=source)
                for _, name, line, col, code, message, hint, source in located]


def read_bytes(path: Path) -> tuple[bytes | None, str | None]:
    """The bytes of a regular file of at most MAX_FILE_BYTES, or (None, why not); (None, None) if absent."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None, (f"is a link to a file that does not exist" if os.path.islink(path) else None)
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"
    kind = _not_regular(st.st_mode)
    if kind:
        return None, f"is {kind}, not a regular file; a ledger file is UTF-8 CSV text"
    if st.st_size > MAX_FILE_BYTES:
        return None, f"is {st.st_size:,} bytes; a ledger file may have at most {MAX_FILE_BYTES:,}"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"
    with os.fdopen(fd, "rb", buffering=0) as fh:
        st = os.fstat(fd)  # what was opened, which may differ from what was checked
        kind = _not_regular(st.st_mode)
        if kind:
            return None, f"is {kind}, not a regular file; a ledger file is UTF-8 CSV text"
        limit = min(st.st_size, MAX_FILE_BYTES) + 1
        chunks, size = [], 0
        while size < limit:
            chunk = fh.read(limit - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) != st.st_size:
        return None, "changed while it was being read"
    return data, None


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return ("a directory" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "not a regular file")


def read_table(directory: Path, name: str, required: bool, problems: Problems, extra: tuple[str, ...] = ()) -> Table | None:
    """Read one ledger file; None (with problems noted) when it is absent or cannot be read as CSV. `extra`: the
    columns the contract adds to the file (its attributes)."""
    path = directory / name
    data, why = read_bytes(path)
    if data is None:
        if why is not None:
            problems.at(name, 1, 1, "CL040", f"{name} {why}")
        elif required:
            problems.at(name, 1, 1, "CL040", f"the ledger has no {name}")
        return None
    sha256 = hashlib.sha256(data).hexdigest()
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    del data
    nul = body.find(b"\0")
    if nul >= 0:
        problems.at(name, body.count(b"\n", 0, nul) + 1, 1, "CL040",
                    f"{name} holds binary data; a ledger file is UTF-8 CSV text")
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = body.rfind(b"\n", 0, exc.start) + 1
        col = len(body[start:exc.start].decode("utf-8", errors="replace")) + 1
        problems.at(name, body.count(b"\n", 0, exc.start) + 1, col, "CL040", f"{name} is not valid UTF-8 text")
        return None
    if not body:
        problems.at(name, 1, 1, "CL040", f"{name} is empty; it needs a header row")
        return None
    if b"\r" in body:  # CSV's three line ends become one, so lines count the same for every reader below
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        raw = physical_lines(body)
    except pl.exceptions.PolarsError as exc:
        problems.at(name, 1, 1, "CL040", f"{name} could not be read as CSV ({str(exc).splitlines()[0]})")
        return None
    expected_lines = body.count(b"\n") + (not body.endswith(b"\n"))
    if raw.len() != expected_lines:  # a guard: Polars must give one row per physical line
        problems.at(name, 1, 1, "CL040", f"{name} could not be split into its {expected_lines} lines")
        return None
    table = Table(name, str(path), sha256, [], body, raw)
    table.extra = extra
    del raw
    records = _records(table, b'"' in body, problems)
    if records is None:
        return None
    header_line = table.lines[0]
    table.header = _header(table, records)
    if not _check_header(table, problems, header_line):
        return table
    data_records = records.slice(1)
    table.rows = int((~data_records["blank"]).sum())
    width = len(table.header)
    bad = data_records.filter(~pl.col("blank") & (pl.col("n") != width))
    problems.cells(table, None, bad["line"].to_list(), "CL041",
                   [f"the row has {n} fields; the header has {width}" for n in bad["n"].to_list()])
    table.let_go_of_lines()
    table.frame = _cells(table, body, data_records, problems)
    return table


def physical_lines(body: bytes) -> pl.Series:
    """Each physical line as one cell: no quoting, a separator that cannot occur (NUL is refused)."""
    return pl.read_csv(body, has_header=False, separator="\x00", quote_char=None, infer_schema=False,
                       new_columns=["raw"]).to_series()


def _records(table: Table, quoted: bool, problems: Problems) -> pl.DataFrame | None:
    """One row per CSV record: `line` it starts on, `n` fields, `blank` (whitespace only, skipped)."""
    raw = table.lines
    lines = pl.DataFrame({"raw": raw}).with_row_index("i").with_columns(
        line=(pl.col("i") + 1).cast(pl.Int64), n=(raw.str.count_matches(",", literal=True).fill_null(0) + 1).cast(pl.Int64))
    # Only a line without a comma can be blank: strip just those.
    single = lines.filter(pl.col("n") == 1)
    blank = single.filter(pl.col("raw").is_null() | (pl.col("raw").str.strip_chars(WHITESPACE) == ""))["i"]
    lines = lines.with_columns(blank=pl.col("i").is_in(blank.implode()))
    if not quoted:
        return lines.select("line", "n", "blank")
    odd = (raw.str.count_matches('"', literal=True).fill_null(0) % 2).cast(pl.Int64)
    inside = ((odd.cum_sum() - odd) % 2) == 1  # the line continues a quoted field of the line before
    lines = lines.with_columns(q=raw.str.contains('"', literal=True).fill_null(False), inside=inside)
    records = lines.filter(~pl.col("inside"))
    python_lines = raw.to_list()
    ends = records["i"].shift(-1, fill_value=len(python_lines))
    quoted_records = records.with_columns(end=ends).filter(pl.col("q"))
    counts = {}
    for start, end in zip(quoted_records["i"].to_list(), quoted_records["end"].to_list()):
        try:
            starts, last = scan_record(python_lines, start)
        except Malformed as bad:
            problems.at(table.name, bad.line + 1, bad.col, "CL041", bad.message, source=python_lines[bad.line])
            return None
        if last != end - 1:  # a guard: the quotes paired up differently from their count per line
            problems.at(table.name, start + 1, 1, "CL041", "the quotes of this row do not pair up",
                        source=python_lines[start])
            return None
        counts[start + 1] = len(starts)
    table._python_lines = python_lines
    fixed = pl.DataFrame({"line": list(counts), "nq": list(counts.values())}, schema={"line": pl.Int64, "nq": pl.Int64})
    return (records.join(fixed, on="line", how="left", maintain_order="left")
            .select("line", n=pl.coalesce("nq", "n"), blank=pl.col("blank") & ~pl.col("q")))


def _header(table: Table, records: pl.DataFrame) -> list[str]:
    """The column names: the fields of the first record (a line without quotes is split at its commas)."""
    first = table.lines[0]
    if first is None:
        return []
    if '"' not in first:
        return first.split(",")
    end = records["line"][1] - 1 if records.height > 1 else table.lines.len()
    text = "\n".join(x or "" for x in table.lines.slice(0, end).to_list())
    return next(csv.reader(io.StringIO(text, newline="")), [])


def _check_header(table: Table, problems: Problems, source: str | None) -> bool:
    """Unknown, repeated and missing columns; True when the rows can be read by column."""
    expected = file_columns(table.name) + table.extra
    first = table.lines[0] or ""
    if '"' in first:
        starts = [(li + 1, col) for li, col in scan_record(table.lines.to_list(), 0)[0]]
    else:
        starts = [(1, col) for col in itertools.accumulate((len(f) + 1 for f in first.split(",")), initial=1)]
    usable, seen = True, {}
    for i, col in enumerate(table.header):
        line, column = starts[i]
        if col in seen:
            problems.at(table.name, line, column, "CL043",
                        f"column '{show(col)}' appears twice in the header of {table.name} "
                        f"(first as column {seen[col] + 1})",
                        hint="a ledger file names each column once: which copy holds the data is not for "
                             "the reader to guess", source=source)
            usable = False
            continue
        seen[col] = i
        if col not in expected:
            close = close_match(col, expected)
            problems.at(table.name, line, column, "CL041", f"unknown column '{show(col)}' in {table.name}",
                        hint=f"did you mean '{close}'?" if close else "expected columns: " + ", ".join(expected),
                        source=source)
    for col in expected:
        if col not in seen and (col in REQUIRED or col in table.extra):
            problems.at(table.name, 1, 1, "CL041", f"{table.name} has no column '{col}'"
                        + (" (an attribute the contract reads)" if col in table.extra else ""), source=source)
            usable = False
    table.index = {col: i for col, i in seen.items() if col in expected}
    return usable


def _cells(table: Table, body: bytes, records: pl.DataFrame, problems: Problems) -> pl.DataFrame | None:
    """The stripped cells of every usable data row, by Polars' CSV reader, with the line each row starts on.

    Column by column, each taken out of the parsed frame before the next is made, so that a large
    file is held about once, not twice; a column is stripped only if a cell starts or ends with
    whitespace."""
    expected = file_columns(table.name) + table.extra
    empty = pl.DataFrame(schema={"line": pl.Int64, **{c: pl.Utf8 for c in expected}})
    if records.height == 0:
        return empty
    try:
        df = pl.read_csv(body, has_header=True, infer_schema=False, quote_char='"', truncate_ragged_lines=True)
    except pl.exceptions.PolarsError as exc:
        problems.at(table.name, 1, 1, "CL040", f"{table.name} could not be read as CSV ({str(exc).splitlines()[0]})")
        return None
    if df.height != records.height or df.width != len(table.header):  # a guard: Polars saw other rows than we did
        problems.at(table.name, 1, 1, "CL040", f"{table.name} could not be read as CSV: {df.height} rows of "
                    f"{df.width} columns where {records.height} rows of {len(table.header)} were counted")
        return None
    names = df.columns
    keep = ~records["blank"] & (records["n"] == len(table.header))
    every_row = bool(keep.all())
    # Polars' own whitespace is Python's but for U+001C-U+001F; where none occurs, it strips the same, faster.
    spaces = WHITESPACE if any(c in body for c in b"\x1c\x1d\x1e\x1f") else None
    columns = [records["line"] if every_row else records["line"].filter(keep)]
    for c in expected:
        if c not in table.index:
            columns.append(pl.repeat("", columns[0].len(), dtype=pl.Utf8, eager=True).alias(c))
            continue
        cell = df.drop_in_place(names[table.index[c]])
        if cell.null_count():
            cell = cell.fill_null("")
        if cell.str.contains(_EDGE_SPACE).any():
            cell = cell.str.strip_chars(spaces)
        columns.append((cell if every_row else cell.filter(keep)).alias(c))
        del cell
    return pl.DataFrame(columns)


#: A cell that starts or ends with whitespace (Python's, as `str.strip` strips it).
_EDGE_SPACE = "^[{0}]|[{0}]$".format("".join(f"\\x{{{ord(ch):x}}}" for ch in WHITESPACE))
