"""Hypothesis strategies for fuzz cases: contract files, ledgers and command-line options.

Every mutation has a name; `cases(target, exclude=...)` leaves out the named
mutations (the quick run in CI leaves out those that reproduce a known,
recorded defect: see `known.py` and FINDINGS.md). A case is a JSON-able dict
(see `harness.py`), and its `note` lists the mutations that made it.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

from . import corpus
from .harness import IMG_MARKER, SCRIPT_MARKER, encode_bytes

TARGETS = ("check", "fmt", "convert", "settle", "explain")
#: The documents of `settle`: the reports and the JSON, then the tables of lines.
DOCUMENT_FORMATS = ("text", "json", "md", "html", "xlsx")
TABLE_FORMATS = ("csv", "parquet")
FORMATS = DOCUMENT_FORMATS + TABLE_FORMATS
EXT = {"text": "txt", "json": "json", "md": "md", "html": "html", "xlsx": "xlsx", "csv": "csv", "parquet": "parquet",
       "yaml": "yaml", "dsl": "contract"}

# ---- hostile material ------------------------------------------------------------------------------

HUGE_INT = "9" * 4400
HOSTILE_NUMBERS = (
    "1" + "0" * 48, "0.00499999999999999999999999999999999999999999999999999999999", "0.005",
    "-1", "0", "00", "1_000_000_000_000_000_000", "1e999999", "99999999", "1.000,50", "2147483648",
    "0.0000000000000000000000000000000000000000000000000001", "1_", "_1", "1__0", "12345678901234567890.123456789",
)
HOSTILE_DATES = ("9999-12-31", "0001-01-01", "2024-02-30", "2024-13-01", "2023-02-29", "2024-02-29", "99999-01-01")
HOSTILE_CHARS = ("\u0085", "\u2028", "\u2029", "\ufeff", "\u202e", "\u0301", "²", "٣", "１", "\x00", "\x0c", "\r",
                 "\t", "\x1b[31m", "😀", "ǅ", "\u00a0", "\\", '"', "§", "#", "{", "}", "%", "æøå")
HOSTILE_TEXT = (
    "=HYPERLINK(\"http://x.invalid\",\"click\")", "=1+1", "+1+1", "-1+1", "@SUM(A1)", "=cmd|' /C calc'!A0",
    "`" + IMG_MARKER + "`", "a`b``c" + IMG_MARKER, IMG_MARKER, SCRIPT_MARKER, "x\u0085y", "Ærø – ½ § 3.2",
    "", "x" * 5000, "line\\nbreak", "](javascript:alert(1))", "| a | b |", "*_~", "&amp;&lt;",
)
HOSTILE_IDS = ("=1+1", "=HYPERLINK(\"http://x.invalid\")", "+1", "@A1", "-1+2", "a``b" + IMG_MARKER + "``",
               "`x`" + IMG_MARKER, SCRIPT_MARKER, "ø1", "H 1", "\u202eH1")
HOSTILE_CELLS = (
    "1E-99", "1e308", "NaN", "-NaN", "Infinity", "-0", "sNaN", "1\u00852", "a\nb", "x\u0085y", "\u2028", '"', "=1+1", "`x`", IMG_MARKER, SCRIPT_MARKER, "", " ",
    "9999-12-31", "0001-01-01", "2024-02-30", "20240101", "2024-1-1", "+1", "1_000", "0x10", "x" * 100_000,
    "0.00000000000000000000000000000000000000000000000000000000001", "1.5", "-5", "101", "true", "TRUE", "null",
    "intervention", "control", "completed", "H001", "P001",
)
KEYWORDS = (
    "contract", "party", "goal", "payer", "pay", "per", "cap", "tranche", "tranches", "point", "measure", "missing",
    "mean", "outcome", "subjects", "persons", "households", "points", "start", "end", "months", "DKK", "%", "§",
    "{", "}", "(", ")", "[", "]", ",", ":", "=", "+", "-", "*", "/", "and", "or", "not", "where", "when", "let",
    "table", "row", "columns", "figure", "metric", "flag", "rounding", "places", "half_up", "until", "remainder",
    "settlement", "periods", "due", "order", "lines", "by", "date", "subject", "return", "on", "all", "goals",
    "previous", "count", "deviation", "assumed", "decision", "cohort", "compare", "against", "between", "\n", " ",
)

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\d{4}-\d{2}-\d{2}|\d[\d_]*(?:\.\d+)?|[^\W\d]\w*|\n|[ \t]+|.', re.S)
_NUMBER = re.compile(r"\d[\d_]*(?:\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _short(text: str, n: int = 40) -> str:
    """A token as it appears in a case's notes: repr, cut to n characters."""
    return repr(text[:n]) + ("…" if len(text) > n else "")


def _allowed(names, exclude):
    return [n for n in names if n not in exclude]


# ---- contracts -------------------------------------------------------------------------------------

CONTRACT_MUTATIONS = ("token_delete", "token_dup", "token_swap", "token_replace", "token_insert", "number_blowup",
                      "date_edit", "deep_nesting", "unicode_insert", "invalid_utf8", "truncate", "title_inject",
                      "huge_int")


@st.composite
def mutate_contract(draw, text: str, suffix: str, exclude=frozenset()) -> tuple[bytes, list[str]]:
    """Apply one to three named mutations to the text of a contract file."""
    notes = []
    data: bytes | None = None
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(_allowed(CONTRACT_MUTATIONS, exclude)))
        tokens = _TOKEN.findall(text)
        idx = st.integers(0, max(0, len(tokens) - 1))
        if kind == "token_delete" and tokens:
            i = draw(idx)
            notes.append(f"token_delete {_short(tokens[i])}")
            del tokens[i]
        elif kind == "token_dup" and tokens:
            i = draw(idx)
            notes.append(f"token_dup {_short(tokens[i])}")
            tokens.insert(i, tokens[i])
        elif kind == "token_swap" and len(tokens) > 1:
            i, j = draw(idx), draw(idx)
            notes.append(f"token_swap {_short(tokens[i])} {_short(tokens[j])}")
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif kind == "token_replace" and tokens:
            i = draw(idx)
            new = draw(st.sampled_from(KEYWORDS) | st.sampled_from(tokens))
            notes.append(f"token_replace {_short(tokens[i])} -> {_short(new)}")
            tokens[i] = new
        elif kind == "token_insert":
            i = draw(idx)
            new = draw(st.sampled_from(KEYWORDS))
            notes.append(f"token_insert {new!r}")
            tokens.insert(i, new)
        elif kind in ("number_blowup", "huge_int"):
            nums = [k for k, t in enumerate(tokens) if _NUMBER.fullmatch(t)]
            if nums:
                i = draw(st.sampled_from(nums))
                new = HUGE_INT if kind == "huge_int" else draw(st.sampled_from(HOSTILE_NUMBERS))
                notes.append(f"{kind} {_short(tokens[i])} -> {_short(new)}")
                tokens[i] = new
        elif kind == "date_edit":
            dates = [k for k, t in enumerate(tokens) if _DATE.fullmatch(t)]
            if dates:
                i = draw(st.sampled_from(dates))
                new = draw(st.sampled_from(HOSTILE_DATES))
                notes.append(f"date_edit {tokens[i]} -> {new}")
                tokens[i] = new
        elif kind == "deep_nesting":
            depth = draw(st.sampled_from((30, 200, 1000, 5000)))
            nums = [k for k, t in enumerate(tokens) if _NUMBER.fullmatch(t)]
            if nums and suffix == ".contract":
                i = draw(st.sampled_from(nums))
                notes.append(f"deep_nesting {depth} around {_short(tokens[i])}")
                tokens[i] = "(" * depth + tokens[i] + ")" * depth
            else:
                i = draw(idx)
                notes.append(f"deep_nesting {depth} brackets")
                tokens.insert(i, "[" * depth)
        elif kind == "unicode_insert":
            i = draw(idx)
            ch = draw(st.sampled_from(HOSTILE_CHARS))
            notes.append(f"unicode_insert {ch!r}")
            tokens.insert(i, ch)
        elif kind == "title_inject":
            quoted = [k for k, t in enumerate(tokens) if t.startswith('"') and len(t) > 1]
            if quoted:
                i = draw(st.sampled_from(quoted))
                new = draw(st.sampled_from(HOSTILE_TEXT)).replace('"', "'")
                notes.append(f"title_inject {tokens[i][:30]!r} -> {new[:40]!r}")
                tokens[i] = '"' + new + '"'
        elif kind == "truncate":
            joined = "".join(tokens)
            cut = draw(st.integers(0, len(joined)))
            notes.append(f"truncate at {cut}")
            tokens = [joined[:cut]]
        elif kind == "invalid_utf8":
            joined = "".join(tokens).encode("utf-8", "surrogateescape")
            cut = draw(st.integers(0, len(joined)))
            junk = draw(st.sampled_from((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x00")))
            notes.append(f"invalid_utf8 {junk!r} at byte {cut}")
            data = joined[:cut] + junk + joined[cut:]
            text = data.decode("utf-8", "surrogateescape")
            continue
        text = "".join(tokens)
    if data is not None and data.decode("utf-8", "surrogateescape") == text:
        return data, notes
    return text.encode("utf-8", "surrogateescape"), notes


# ---- a grammar-aware generator of small contracts and their ledgers ----------------------------------

_GENERATED = """\
contract {cid} "{title}"
party F "{fund}" funder
party G "Co-fund" funder
party M "{payer}" recipient
point baseline = start
point m6 = start + {months} months
point end = end
measure ok person boolean at m6, end
measure score person integer 0 to {high} at baseline, end
rounding line {places} places half_up
rounding split 2 places half_up
programme {{
  intervention {istart} to {iend}
  data collection ends {dce}
  minimum stay {stay} months
}}
goal success "{gtitle}" {{
  payer M
  subjects persons
  points m6, end
  outcome ok
  pay {rate} DKK per success
  missing {missing}
}}
goal better{btitle} {{
  payer M
  subjects persons
  points end
  outcome max(0, score@end - score@baseline)
  pay {rate2} DKK per unit
  missing mean
}}
cap better {cap} DKK
tranches on all goals {{
  tranche 1 until {until} DKK: F 74 %, G 26 %
  tranche 2: F 100 %
  rounding split, remainder G
}}
settlement {{
  periods {periods}
  due end of following quarter
  order lines by date, goal, subject
}}
"""

GENERATED_MUTATIONS = ("gen_hostile_title", "gen_hostile_id", "gen_big_rate", "gen_tiny_rate", "gen_month_overflow",
                       "gen_extreme_dates", "gen_big_cap", "gen_untitled")


def _title(draw, exclude, notes, what):
    if "gen_hostile_title" in exclude or not draw(st.booleans()):
        return "Generated " + what
    t = draw(st.sampled_from(HOSTILE_TEXT)).replace('"', "'").replace("\\", "/")
    notes.append(f"gen_hostile_title {what}: {t[:40]!r}")
    return t


@st.composite
def generated_contract(draw, exclude=frozenset()) -> tuple[str, dict[str, list[list[str]]], list[str]]:
    """A small contract from a template with drawn parts, and a ledger written for it."""
    notes = ["generated"]

    def pick(name, normal, hostile):
        if name in exclude or draw(st.integers(0, 3)) != 0:
            return draw(st.sampled_from(normal))
        value = draw(st.sampled_from(hostile))
        notes.append(f"{name} {str(value)[:40]}")
        return value

    months = pick("gen_month_overflow", (6, 1, 12, 0), (1200, 99_999, 10**6, 10**12))
    istart, iend, dce = pick("gen_extreme_dates", (("2024-01-01", "2025-12-31", "2026-12-31"),),
                             (("0001-01-01", "2025-12-31", "9999-12-31"), ("2024-01-01", "9999-12-31", "9999-12-31")))
    fields = dict(
        btitle="" if "gen_untitled" not in exclude and draw(st.booleans()) else ' "Generated score"',
        cid="gen", title=_title(draw, exclude, notes, "contract"), fund=_title(draw, exclude, notes, "fund"),
        payer=_title(draw, exclude, notes, "payer"), gtitle=_title(draw, exclude, notes, "goal"),
        months=months, high=draw(st.sampled_from((10, 100))), places=draw(st.sampled_from((2, 0, 2, 4))),
        istart=istart, iend=iend, dce=dce, stay=draw(st.sampled_from((0, 3))),
        rate=pick("gen_big_rate", ("1_234.57", "8_600", "0.01"), ("1" + "0" * 48, "9" * 30 + ".99")),
        rate2=pick("gen_tiny_rate", ("333.33", "1"), ("0.004999999999999999999999999999999999999999999999999999999999",
                                                     "0.005", "0." + "0" * 60 + "1")),
        missing=draw(st.sampled_from(("mean except replaced", "mean", "none"))),
        cap=pick("gen_big_cap", ("4_000", "0", "100"), ("1" + "0" * 40,)),
        until=pick("gen_big_cap", ("6_000", "0.01"), ("1" + "0" * 40,)),
        periods=draw(st.sampled_from(("half-yearly", "quarterly", "yearly"))),
    )
    text = _GENERATED.format(**fields)
    n = draw(st.integers(1, 5))
    ids = []
    for k in range(n):
        pid = f"P{k + 1}"
        if "gen_hostile_id" not in exclude and draw(st.integers(0, 5)) == 0:
            pid = draw(st.sampled_from(("=1+1", "+cmd", "`x`" + IMG_MARKER, SCRIPT_MARKER, "ø_1", "@A1", "-2")))
            pid = pid + str(k)
            notes.append(f"gen_hostile_id {pid[:30]!r}")
        ids.append(pid)
    households = [["household_id", "group", "start_date", "end_date", "end_reason", "replaces", "cohort"]]
    persons = [["person_id", "household_id", "birth_date", "school_grade"]]
    measures = [["subject_id", "measure", "point", "date", "value"]]
    for k, pid in enumerate(ids):
        start = f"2024-{draw(st.integers(1, 9)):02d}-{draw(st.integers(1, 28)):02d}"
        ended = draw(st.booleans())
        households.append([f"H{k + 1}", "intervention", start, "2025-06-30" if ended else "",
                           "moved" if ended else "", "", ""])
        persons.append([pid, f"H{k + 1}", "1990-05-05", ""])
        for point in ("m6", "end"):
            v = draw(st.sampled_from(("true", "false", None)))
            if v is not None:
                measures.append([pid, "ok", point, "", v])
        for point in ("baseline", "end"):
            v = draw(st.one_of(st.none(), st.integers(0, 10)))
            if v is not None:
                measures.append([pid, "score", point, "", str(v)])
    return text, {"households.csv": households, "persons.csv": persons, "measurements.csv": measures}, notes


# ---- ledgers ---------------------------------------------------------------------------------------

LEDGER_MUTATIONS = ("dup_column", "drop_column", "reorder_columns", "rename_column", "hostile_cell", "dup_row",
                    "drop_row", "reorder_rows", "dangling_id", "quoted_newline", "u0085_field", "bom", "crlf",
                    "empty_file", "header_only", "truncate_bytes", "blank_lines", "extra_file", "special_dir",
                    "special_fifo", "special_devzero", "special_dangling", "huge_number", "extreme_exponent",
                    "non_ascii_digits", "short_row", "hostile_id")
_FLIP = {"intervention": "control", "control": "intervention", "true": "false", "false": "true"}


@st.composite
def mutate_ledger(draw, rows: dict[str, list[list[str]]], exclude=frozenset()):
    """Apply one to three named mutations to a ledger; return (files {name: spec}, notes, subprocess_only)."""
    rows = {k: [list(r) for r in v] for k, v in rows.items()}
    raw: dict[str, bytes] = {}
    special: dict[str, str] = {}
    notes, subprocess_only = [], False
    newline = "\n"
    short: list[tuple[str, int]] = []  # rows that lose their last field when written
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(_allowed(LEDGER_MUTATIONS, exclude)))
        name = draw(st.sampled_from(sorted(rows)))
        table = rows[name]
        header = table[0]
        body = table[1:]
        col = draw(st.integers(0, len(header) - 1))
        row_i = draw(st.integers(1, max(1, len(table) - 1)))
        if kind == "dup_column":
            flip = draw(st.booleans())
            notes.append(f"dup_column {name}:{header[col]}{' flipped' if flip else ''}")
            for r in table:
                r.append(r[col] if r is header or not flip else _FLIP.get(r[col], r[col] + "x"))
        elif kind == "drop_column":
            notes.append(f"drop_column {name}:{header[col]}")
            for r in table:
                del r[col]
        elif kind == "reorder_columns":
            perm = draw(st.permutations(range(len(header))))
            notes.append(f"reorder_columns {name}:{list(perm)}")
            rows[name] = [[r[i] for i in perm] for r in table]
        elif kind == "rename_column":
            new = draw(st.sampled_from((header[col].upper(), " " + header[col], header[col] + " ", "\ufeff" + header[col],
                                        header[col][:-1], "", header[col] + "\u0085")))
            notes.append(f"rename_column {name}:{header[col]!r} -> {new!r}")
            header[col] = new
        elif kind in ("hostile_cell", "huge_number", "extreme_exponent", "non_ascii_digits") and body:
            if kind == "huge_number":
                value = "9" * 5000
            elif kind == "extreme_exponent":
                value = draw(st.sampled_from(("1E-999999", "1E+999999", "1E-5000")))
            elif kind == "non_ascii_digits":
                value = draw(st.sampled_from(("²", "٣", "１", "1²", "৩")))
            else:
                value = draw(st.sampled_from(HOSTILE_CELLS))
            if kind != "hostile_cell":  # aim at the value or grade columns, where numbers are read
                for wanted in ("value", "school_grade"):
                    if wanted in header:
                        col = header.index(wanted)
            notes.append(f"{kind} {name}:{row_i + 1}:{header[col]} = {value[:40]!r}")
            table[row_i][col] = value
            # the decimal module's C code cannot be interrupted by the harness's alarm: run it in a subprocess
            subprocess_only |= kind == "extreme_exponent"
        elif kind == "dup_row" and body:
            notes.append(f"dup_row {name}:{row_i + 1}")
            table.insert(row_i, list(table[row_i]))
        elif kind == "drop_row" and body:
            notes.append(f"drop_row {name}:{row_i + 1}")
            del table[row_i]
        elif kind == "reorder_rows" and body:
            perm = draw(st.permutations(range(len(body))))
            notes.append(f"reorder_rows {name}")
            rows[name] = [header] + [body[i] for i in perm]
        elif kind == "dangling_id" and body:
            notes.append(f"dangling_id {name}:{row_i + 1}:{header[col]}")
            table[row_i][col] = table[row_i][col] + "_gone"
        elif kind in ("quoted_newline", "u0085_field") and body:
            sep = "\n" if kind == "quoted_newline" else "\u0085"
            notes.append(f"{kind} {name}:{row_i + 1}:{header[col]}")
            table[row_i][col] = table[row_i][col] + sep + "tail"
        elif kind == "hostile_id" and body:
            idcol = header.index(header[0])  # households/persons/cohorts: the id is the first column
            if name != "measurements.csv" and header[0].endswith(("_id", "cohort")):
                old = table[row_i][idcol]
                new = draw(st.sampled_from(HOSTILE_IDS))
                notes.append(f"hostile_id {old!r} -> {new!r}")
                for t in rows.values():
                    for r in t[1:]:
                        r[:] = [new if c == old else c for c in r]
        elif kind == "short_row" and body:
            notes.append(f"short_row {name}:{row_i + 1}")
            short.append((name, row_i))
        elif kind == "crlf":
            notes.append("crlf")
            newline = "\r\n"
        elif kind in ("bom", "empty_file", "header_only", "truncate_bytes", "blank_lines"):
            text = corpus.to_csv(rows[name], newline).encode("utf-8")
            if kind == "bom":
                text = b"\xef\xbb\xbf" + text
            elif kind == "empty_file":
                text = b""
            elif kind == "header_only":
                text = text.split(b"\n", 1)[0] + b"\n"
            elif kind == "truncate_bytes":
                text = text[:draw(st.integers(0, len(text)))]
            else:
                text = text.replace(b"\n", b"\n\n", 3) + b"\n \n"
            notes.append(f"{kind} {name}")
            raw[name] = text
        elif kind == "extra_file":
            notes.append("extra_file notes.csv")
            raw["notes.csv"] = b"a,b\n1,2\n"
        elif kind.startswith("special_"):
            what = kind.removeprefix("special_")
            notes.append(f"{kind} {name}")
            special[name] = what
            subprocess_only |= what in ("devzero",)
    for name, i in short:
        if i < len(rows[name]):
            rows[name][i] = rows[name][i][:-1]
    files = {}
    for name, table in rows.items():
        if name in special:
            files["ledger/" + name] = {"special": special[name]}
        elif name in raw:
            files["ledger/" + name] = encode_bytes(raw[name])
        else:
            files["ledger/" + name] = encode_bytes(corpus.to_csv(table, newline).encode("utf-8"))
    for name in set(raw) - set(rows):
        files["ledger/" + name] = encode_bytes(raw[name])
    return files, notes, subprocess_only


def unmutated_ledger(rows: dict[str, list[list[str]]]) -> dict:
    return {"ledger/" + name: {"text": corpus.to_csv(table)} for name, table in rows.items()}


# ---- command-line options --------------------------------------------------------------------------

AS_OF = (None, None, "2024-06-30", "2025-12-31", "2026-12-31", "2028-10-31", "2030-01-01", "2024-02-29",
         "2023-02-29", "20240101", "", "2024-1-1", "2024-06-30T00:00")
AS_OF_EXTREME = ("0001-01-01", "9999-12-31")
OPTION_MUTATIONS = ("o_dir", "o_devfull", "o_missing_parent", "as_of_extreme")


@st.composite
def output_option(draw, fmt: str, exclude=frozenset()) -> tuple[list[str], list[str], list[str]]:
    """(-o argv, directories to create, notes)."""
    choices = ["none", "file", "file"] + _allowed(("o_dir", "o_devfull", "o_missing_parent"), exclude)
    kind = draw(st.sampled_from(choices))
    ext = EXT.get(fmt, "out")
    if kind == "none":
        return [], [], []
    if kind == "file":
        return ["-o", f"{{dir}}/out.{ext}"], [], []
    if kind == "o_dir":
        return ["-o", "{dir}/outdir"], ["outdir"], ["o_dir"]
    if kind == "o_devfull":
        return ["-o", "/dev/full"], [], ["o_devfull"]
    return ["-o", f"{{dir}}/missing/sub/out.{ext}"], [], ["o_missing_parent"]


@st.composite
def as_of_option(draw, exclude=frozenset()) -> tuple[list[str], list[str]]:
    values = AS_OF + (() if "as_of_extreme" in exclude else AS_OF_EXTREME)
    v = draw(st.sampled_from(values))
    if v is None:
        return [], []
    return ["--as-of", v], ([f"as_of {v}"] if v in AS_OF_EXTREME else [])


# ---- whole cases -----------------------------------------------------------------------------------


@st.composite
def contract_case_files(draw, exclude=frozenset(), mutate=True):
    """A contract file (bundled, mutated or generated); returns (files, contract name, notes, base dir, generated rows)."""
    if "generated" not in exclude and draw(st.integers(0, 3)) == 0:
        text, rows, notes = draw(generated_contract(exclude))
        data = text.encode("utf-8")
        if mutate and draw(st.booleans()):
            data, more = draw(mutate_contract(text, ".contract", exclude))
            notes += more
        return {"contract.contract": encode_bytes(data)}, "contract.contract", notes, None, rows
    path = draw(st.sampled_from(corpus.contract_files()))
    text = path.read_text(encoding="utf-8")
    notes = [f"base {path.relative_to(corpus.ROOT)}"]
    data = text.encode("utf-8")
    if mutate:
        data, more = draw(mutate_contract(text, path.suffix, exclude))
        notes += more
    name = "contract" + path.suffix
    return {name: encode_bytes(data)}, name, notes, path.parent, None


@st.composite
def cases(draw, target: str, exclude=frozenset(), formats=FORMATS) -> dict:
    """One fuzz case for `target` (check, fmt, convert, settle or explain); `settle` in one of `formats`."""
    exclude = frozenset(exclude)
    if target in ("check", "fmt", "convert"):
        files, name, notes, _, _ = draw(contract_case_files(exclude))
        argv = [target, "{dir}/" + name]
        dirs: list[str] = []
        if target == "check":
            argv += draw(st.sampled_from(([], ["--format", "json"], ["--format", "github"], ["--strict"],
                                          ["--no-notes", "--format", "json"])))
        elif target == "fmt":
            argv.insert(1, "--check")
        else:
            to = draw(st.sampled_from((None, "yaml", "dsl")))
            argv += ["--to", to] if to else []
            o, dirs, more = draw(output_option("yaml" if to != "dsl" else "dsl", exclude))
            argv += o
            notes += more
        return {"target": target, "files": files, "argv": argv, "dirs": dirs, "subprocess_only": False, "note": notes}

    # settle / explain: a contract and a ledger, one of them (or both) hostile
    mode = draw(st.sampled_from(("ledger", "ledger", "contract", "generated")))
    subprocess_only = False
    if mode == "generated" and "generated" not in exclude:
        text, rows, notes = draw(generated_contract(exclude))
        files = {"contract.contract": {"text": text}}
        name = "contract.contract"
        if draw(st.booleans()):
            lf, more, subprocess_only = draw(mutate_ledger(rows, exclude))
            notes += more
        else:
            lf = unmutated_ledger(rows)
        files.update(lf)
    else:
        mutate_c = mode == "contract"
        files, name, notes, base, _ = draw(contract_case_files(exclude | {"generated"}, mutate=mutate_c))
        rows = corpus.slice_ledger(base, draw(st.integers(2, 8)), draw(st.integers(0, 50)))
        notes.append("ledger slice")
        if mode == "contract":
            files.update(unmutated_ledger(rows))
        else:
            lf, more, subprocess_only = draw(mutate_ledger(rows, exclude))
            files.update(lf)
            notes += more
    argv = [target, "{dir}/" + name, "--ledger", "{dir}/ledger"]
    a, more = draw(as_of_option(exclude))
    argv += a
    notes += more
    argv += ["--lang", draw(st.sampled_from(("en", "da")))]
    dirs = []
    if target == "settle":
        fmt = draw(st.sampled_from(formats))
        argv += ["--format", fmt]
        if fmt in ("md", "html", "xlsx", "text") and draw(st.integers(0, 2)) != 0:
            argv.append("--no-trace")  # reports with every trail are slow; a third keep them
        o, dirs, more = draw(output_option(fmt, exclude))
        if fmt in ("xlsx", "parquet") and not o and draw(st.integers(0, 3)) != 0:
            o = ["-o", f"{{dir}}/out.{EXT[fmt]}"]
        argv += o
        notes += more
    else:
        argv.append(draw(line_ids(files)))
    return {"target": target, "files": files, "argv": argv, "dirs": dirs, "subprocess_only": subprocess_only,
            "note": notes}


@st.composite
def line_ids(draw, files: dict) -> str:
    """A payment line id for `explain`: goal/subject/point from the inputs, or something else."""
    contract = next(v for k, v in files.items() if k.startswith("contract"))
    text = contract.get("text", "")
    goals = re.findall(r"(?m)^\s*goal\s+(\w+)|^\s*-?\s*id:\s*(\w+)", text)
    goals = [a or b for a, b in goals] or ["employment"]
    points = re.findall(r"(?m)^\s*point\s+(\w+)", text) or ["m12", "end"]
    subjects = []
    for key in ("ledger/persons.csv", "ledger/households.csv"):
        t = files.get(key, {}).get("text", "")
        subjects += [ln.split(",", 1)[0] for ln in t.splitlines()[1:4]]
    subjects = subjects or ["H001"]
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(st.sampled_from(("", "/", "//", "x" * 300, "a/b/c/d", "ø/å/æ", "\u0085", "-h", "--")))
    if kind == 1:
        return draw(st.sampled_from(goals))  # a goal id: maybe a metric or figure of the same name, or nothing
    return f"{draw(st.sampled_from(goals))}/{draw(st.sampled_from(subjects))}/{draw(st.sampled_from(points))}"
