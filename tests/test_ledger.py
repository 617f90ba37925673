"""The ledger reader: one bad ledger per error code and per hostile input, each asserting the exact
`file:line:col` and message; the frames; and the lazy views against the old reader on every
bundled ledger."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import attrs
import polars as pl
import pytest

from contractlang import load
from contractlang.cli import main
from contractlang.errors import LedgerError, error, render_text
from contractlang.ledger import (MAX_VALUE_DIGITS, MAX_VALUE_EXPONENT, Household, Ledger, Observation, Person,
                                 load_ledger)
from contractlang.ledger import csvfile
from contractlang.ledger.vocabulary import WHITESPACE
from contractlang.model import SourceSpan
from tests import old_ledger_reader

ROOT = Path(__file__).resolve().parent.parent
VIBORG = load(ROOT / "contracts" / "viborg" / "viborg.contract")

GOOD = {
    "cohorts.csv": "cohort,start_date\nc1,2024-01-01\n",
    "households.csv": ("household_id,group,start_date,end_date,end_reason,replaces,cohort\n"
                       "H1,intervention,2024-01-10,,,,c1\n"
                       "H2,control,2024-01-10,2024-06-01,moved,,c1\n"),
    "persons.csv": ("person_id,household_id,birth_date,school_grade\n"
                    "P1,H1,1980-01-01,\n"
                    "P2,H1,2012-05-05,4\n"
                    "P3,H2,1979-03-03,\n"),
    "measurements.csv": ("subject_id,measure,point,date,value\n"
                         "P1,benefit_type,baseline,2024-01-10,employed\n"
                         "P2,school_absence_pct,baseline,,12.5\n"
                         "P1,life_satisfaction,baseline,,7\n"
                         "H1,action_plan_pct,end,,80\n"
                         "P1,in_su_education,m12,,true\n"),
}


def ledger_dir(tmp_path: Path, **files) -> Path:
    """A ledger directory: GOOD with some files replaced (text or bytes) or removed (None)."""
    d = tmp_path / "ledger"
    d.mkdir(exist_ok=True)
    for name, text in {**GOOD, **files}.items():
        if text is None:
            continue
        (d / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return d


def files(**named) -> dict:
    """`files(households="...")` → {"households.csv": "..."} for ledger_dir."""
    return {f"{k}.csv": v for k, v in named.items()}


def problems(tmp_path: Path, contract=VIBORG, **named) -> list[tuple[str, str, str]]:
    """(`name:line:col`, code, message) of every diagnostic, in the order reported."""
    d = tmp_path / "ledger"
    d.mkdir(exist_ok=True)
    for name, text in {**GOOD, **files(**named)}.items():
        if text is not None:
            (d / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        elif (d / name).exists():
            (d / name).unlink()
    with pytest.raises(LedgerError) as exc:
        load_ledger(d, contract)
    return [(f"{Path(x.span.file).name}:{x.span.line}:{x.span.column}", x.code, x.message)
            for x in exc.value.diagnostics]


def one(tmp_path, **named) -> tuple[str, str, str]:
    found = problems(tmp_path, **named)
    assert len(found) == 1, found
    return found[0]


HEAD = {name: text.splitlines()[0] + "\n" for name, text in GOOD.items()}
H = HEAD["households.csv"]
P = HEAD["persons.csv"]
M = HEAD["measurements.csv"]


# ---- the good ledger and its frames ---------------------------------------------------------

def test_the_good_ledger_loads_with_frames_of_the_documented_schema(tmp_path):
    ledger = load_ledger(ledger_dir(tmp_path), VIBORG)
    f = ledger.frames
    assert f.households.schema == pl.Schema({
        "household_id": pl.Utf8, "group": pl.Utf8, "start": pl.Date, "end": pl.Date, "end_reason": pl.Utf8,
        "replaces": pl.Utf8, "cohort": pl.Utf8, "line": pl.Int64})
    assert f.persons.schema == pl.Schema({"person_id": pl.Utf8, "household_id": pl.Utf8, "birth": pl.Date,
                                          "grade": pl.Int64, "line": pl.Int64})
    assert f.cohorts.schema == pl.Schema({"cohort": pl.Utf8, "start": pl.Date, "line": pl.Int64})
    assert f.measurements.schema == pl.Schema({"subject_id": pl.Utf8, "measure": pl.Utf8, "point": pl.Utf8,
                                               "date": pl.Date, "value": pl.Utf8, "delivered": pl.Date,
                                               "line": pl.Int64})
    assert f.households.rows() == [
        ("H1", "intervention", dt.date(2024, 1, 10), None, None, None, "c1", 2),
        ("H2", "control", dt.date(2024, 1, 10), dt.date(2024, 6, 1), "moved", None, "c1", 3)]
    assert f.persons["grade"].to_list() == [None, 4, None]
    assert f.measurements["line"].to_list() == [2, 3, 4, 5, 6]
    assert f.measurements["value"].to_list() == ["employed", "12.5", "7", "80", "true"]


def test_views_are_built_on_first_access_only(tmp_path):
    ledger = load_ledger(ledger_dir(tmp_path), VIBORG)
    assert not {"households", "persons", "cohorts", "values", "members", "replaced_by"} & set(vars(ledger))
    assert ledger.values["P1", "life_satisfaction", "baseline"] == Observation(7, 4, None)
    assert ledger.values["P2", "school_absence_pct", "baseline"].value == Decimal("12.5")
    assert ledger.values["P1", "benefit_type", "baseline"].date == dt.date(2024, 1, 10)
    assert ledger.households["H2"] == Household("H2", "control", dt.date(2024, 1, 10), dt.date(2024, 6, 1),
                                                "moved", None, "c1", 3)
    assert ledger.persons["P2"] == Person("P2", "H1", dt.date(2012, 5, 5), 4, 3)
    assert ledger.members == {"H1": ["P1", "P2"], "H2": ["P3"]}
    assert ledger.cohorts == {"c1": (dt.date(2024, 1, 1), 2)}
    assert "values" in vars(ledger)


def test_an_absent_file_that_is_not_required_gives_an_empty_frame_of_its_schema(tmp_path):
    contract = load(ROOT / "contracts" / "kolding-ny-start" / "kolding.contract")
    ledger = load_ledger(ROOT / "contracts" / "kolding-ny-start" / "ledger", contract)
    assert ledger.frames.cohorts.height == 0
    assert ledger.frames.cohorts.schema == pl.Schema({"cohort": pl.Utf8, "start": pl.Date, "line": pl.Int64})
    assert ledger.cohorts == {}


BUNDLED = sorted(p.parent for p in ROOT.glob("contracts/*/ledger/households.csv")) + \
    sorted(p.parent for p in ROOT.glob("contracts/examples/*/ledger/households.csv"))


@pytest.mark.parametrize("directory", BUNDLED, ids=lambda p: p.parent.name)
def test_the_views_equal_what_the_old_reader_made_of_every_bundled_ledger(directory):
    contract = load(next(directory.parent.glob("*.contract")))
    old = old_ledger_reader.read(directory, contract)
    new = load_ledger(directory, contract)
    assert {k: attrs.astuple(h) for k, h in new.households.items()} == old["households"]
    assert {k: attrs.astuple(p) for k, p in new.persons.items()} == old["persons"]
    assert new.cohorts == old["cohorts"]
    assert {k: (type(o.value).__name__, str(o.value), o.line, o.date) for k, o in new.values.items()} == old["values"]
    assert new.members == old["members"]
    assert new.replaced_by == old["replaced_by"]
    assert new.files == old["files"]
    assert new.directory == str(directory)


def test_the_sha256_is_of_the_bytes_read_once(tmp_path, monkeypatch):
    d = ledger_dir(tmp_path)
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *a, **k: opened.append(Path(path).name) or real_open(path, *a, **k))
    ledger = load_ledger(d, VIBORG)
    assert sorted(opened) == sorted(GOOD)
    assert {f["file"]: f["sha256"] for f in ledger.files} == {
        name: hashlib.sha256((d / name).read_bytes()).hexdigest() for name in GOOD}
    assert [f["rows"] for f in ledger.files] == [2, 3, 1, 5]  # households, persons, cohorts, measurements


# ---- CL040: a file missing or unreadable -----------------------------------------------------

def test_cl040_missing_households(tmp_path):
    assert one(tmp_path, households=None) == ("households.csv:1:1", "CL040", "the ledger has no households.csv")


def test_cl040_binary_file_names_the_line_of_the_nul(tmp_path):
    assert one(tmp_path, persons=P.encode() + b"P1,H1,1980-01-01,\nP\x002,H1,1980-01-01,\n") == (
        "persons.csv:3:1", "CL040", "persons.csv holds binary data; a ledger file is UTF-8 CSV text")


def test_cl040_invalid_utf8_names_line_and_column(tmp_path):
    assert one(tmp_path, persons=P.encode() + b"P1,H1,1980-01-01,\nP\xff2,H1,1980-01-01,\n") == (
        "persons.csv:3:2", "CL040", "persons.csv is not valid UTF-8 text")


def test_cl040_empty_file(tmp_path):
    assert one(tmp_path, cohorts="") == ("cohorts.csv:1:1", "CL040", "cohorts.csv is empty; it needs a header row")


def test_cl040_the_ledger_is_not_a_directory(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(LedgerError) as exc:
        load_ledger(tmp_path / "file", VIBORG)
    assert exc.value.diagnostics[0].message == f"{tmp_path / 'file'} is not a directory of ledger CSV files"


# ---- CL041: a malformed row or header --------------------------------------------------------

def test_cl041_unknown_column_with_a_hint(tmp_path):
    found = problems(tmp_path, cohorts="cohort,start_dat\nc1,2024-01-01\n")
    assert found == [("cohorts.csv:1:1", "CL041", "cohorts.csv has no column 'start_date'"),
                     ("cohorts.csv:1:8", "CL041", "unknown column 'start_dat' in cohorts.csv")]
    with pytest.raises(LedgerError) as exc:
        load_ledger(tmp_path / "ledger", VIBORG)
    assert exc.value.diagnostics[1].hint == "did you mean 'start_date'?"


def test_cl041_missing_required_column(tmp_path):
    assert one(tmp_path, cohorts="cohort\nc1\n") == ("cohorts.csv:1:1", "CL041", "cohorts.csv has no column 'start_date'")


def test_cl041_a_row_with_the_wrong_number_of_fields(tmp_path):
    assert one(tmp_path, persons=P + "P1,H1,1980-01-01,\nP2,H1,2012-05-05,4\nP3,H2,1979-03-03\n") == (
        "persons.csv:4:1", "CL041", "the row has 3 fields; the header has 4")


def test_cl041_empty_id_and_dates(tmp_path):
    found = problems(tmp_path, households=H + "H1,intervention,2024-01-10,,,,c1\nH2,control,2024-01-10,,,,c1\n"
                                              ",control,,2024-13-01,moved,,c1\n")
    assert found == [
        ("households.csv:4:1", "CL041", "household_id is empty"),
        ("households.csv:4:10", "CL041", "start_date is empty; a date (YYYY-MM-DD) is required"),
        ("households.csv:4:11", "CL041", "end_date '2024-13-01' is not a date in the form YYYY-MM-DD"),
    ]


def test_cl041_end_date_and_end_reason_go_together(tmp_path):
    assert one(tmp_path, households=H + "H1,intervention,2024-01-10,,moved,,c1\nH2,control,2024-01-10,,,,c1\n") == (
        "households.csv:2:29", "CL041", "end_date and end_reason go together: give both or neither")


def test_cl041_empty_value(tmp_path):
    assert one(tmp_path, measurements=M + "P1,life_satisfaction,baseline,, \n") == (
        "measurements.csv:2:32", "CL041", "value is empty; a missing measurement is a missing row, not an empty value")


# ---- CL042: a value not in the data dictionary ----------------------------------------------

def test_cl042_group_reason_and_dates_in_order(tmp_path):
    found = problems(tmp_path, households=H + "H1,interventon,2024-01-10,,,,c1\n"
                                              "H2,control,2024-01-10,2023-06-01,mooved,,c1\n")
    assert found == [
        ("households.csv:2:4", "CL042", "group 'interventon' is not one of intervention, control"),
        ("households.csv:3:23", "CL042", "end_date 2023-06-01 is before start_date 2024-01-10"),
        ("households.csv:3:34", "CL042", "end_reason 'mooved' is not one of completed, moved, dropped, "
                                         "no_longer_needed, other"),
    ]


def test_cl042_measurements(tmp_path):
    found = problems(tmp_path, measurements=M + "P1,benefit_typ,baseline,,employed\n"
                                                "P1,benefit_type,m6,,employed\n"
                                                "P1,benefit_type,baseline,,employd\n"
                                                "P1,life_satisfaction,baseline,,11\n"
                                                "P1,in_su_education,m12,,yes\n")
    assert found == [
        ("measurements.csv:2:4", "CL042", "unknown measure 'benefit_typ'"),
        ("measurements.csv:3:17", "CL042", "benefit_type is not measured at point 'm6' (points: baseline, m12, m18, m24)"),
        ("measurements.csv:4:27", "CL042", "'employd' is not a value of benefit_type; did you mean 'employed'?"),
        ("measurements.csv:5:32", "CL042", "11 is outside the range 0 to 10 of life_satisfaction"),
        ("measurements.csv:6:25", "CL042", "'yes' is not a boolean; write true or false"),
    ]


def test_cl042_hints(tmp_path):
    d = ledger_dir(tmp_path, **files(measurements=M + "P1,benefit_typ,baseline,,employed\n"))
    with pytest.raises(LedgerError) as exc:
        load_ledger(d, VIBORG)
    assert exc.value.diagnostics[0].hint == "did you mean 'benefit_type'?"


def test_cl042_school_grade(tmp_path):
    assert one(tmp_path, persons=P + "P1,H1,1980-01-01,11\nP2,H1,2012-05-05,4\nP3,H2,1979-03-03,\n") == (
        "persons.csv:2:18", "CL042", "school_grade '11' is not a grade from 0 to 10")


# ---- CL043: duplicates ----------------------------------------------------------------------

def test_cl043_duplicates_name_the_first_line(tmp_path):
    found = problems(tmp_path,
                     cohorts="cohort,start_date\nc1,2024-01-01\nc1,2024-02-01\n",
                     households=H + "H1,intervention,2024-01-10,,,,c1\nH2,control,2024-01-10,,,,c1\n"
                                    "H1,control,2024-01-10,,,,c1\n",
                     persons=P + "P1,H1,1980-01-01,\nP1,H2,1980-01-01,\nH2,H2,1980-01-01,\n",
                     measurements=M + "P1,life_satisfaction,baseline,,7\nP1,life_satisfaction,baseline,,8\n")
    assert found == [
        ("cohorts.csv:3:1", "CL043", "cohort 'c1' appears twice (first on line 2)"),
        ("households.csv:4:1", "CL043", "household 'H1' appears twice (first on line 2)"),
        ("persons.csv:3:1", "CL043", "person 'P1' appears twice (first on line 2)"),
        ("persons.csv:4:1", "CL043", "'H2' is both a person and a household id"),
        ("measurements.csv:3:1", "CL043", "life_satisfaction of P1 at baseline appears twice (first on line 2)"),
    ]


def test_cl043_a_duplicated_header_column_is_an_error(tmp_path):
    """Issue 12: the old reader let the last copy win (a flipped `group` settled to 0.00 with exit 0)."""
    text = ("household_id,group,start_date,end_date,end_reason,replaces,cohort,group\n"
            "H1,intervention,2024-01-10,,,,c1,control\nH2,control,2024-01-10,,,,c1,intervention\n")
    assert one(tmp_path, households=text) == (
        "households.csv:1:67", "CL043", "column 'group' appears twice in the header of households.csv (first as column 2)")


# ---- CL044: references ----------------------------------------------------------------------

def test_cl044_references(tmp_path):
    found = problems(tmp_path,
                     households=H + "H1,intervention,2024-01-10,,,H9,c1\nH2,control,2024-01-10,,,,c7\n",
                     persons=P + "P1,H1,1980-01-01,\nP2,H8,1980-01-01,\n",
                     measurements=M + "P1,life_satisfaction,baseline,,7\nP7,life_satisfaction,baseline,,7\n"
                                      "P1,action_plan_pct,end,,50\n")
    assert found == [
        ("households.csv:2:30", "CL044", "replaces 'H9', which is not a household of the ledger"),
        ("households.csv:3:26", "CL044", "cohort 'c7' is not in cohorts.csv"),
        ("persons.csv:3:4", "CL044", "household 'H8' is not in households.csv"),
        ("measurements.csv:3:1", "CL044", "subject 'P7' is not a person of the ledger (life_satisfaction is measured per person)"),
        ("measurements.csv:4:1", "CL044", "subject 'P1' is not a household of the ledger (action_plan_pct is measured per household)"),
    ]


def test_cl044_a_cohort_named_without_cohorts_csv(tmp_path):
    contract = load(ROOT / "contracts" / "kolding-ny-start" / "kolding.contract")
    d = tmp_path / "ledger"
    d.mkdir()
    for name in ("households.csv", "persons.csv", "measurements.csv"):
        (d / name).write_text((ROOT / "contracts" / "kolding-ny-start" / "ledger" / name).read_text())
    text = (d / "households.csv").read_text().splitlines()
    text[1] = text[1] + "x1"
    (d / "households.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(LedgerError) as exc:
        load_ledger(d, contract)
    [found] = exc.value.diagnostics
    assert (found.code, found.message) == ("CL044", "cohort 'x1' is named, but the ledger has no cohorts.csv")


def test_a_household_with_a_bad_group_is_one_error_not_one_per_person(tmp_path):
    found = problems(tmp_path, households=H + "H1,intervention,2024-01-10,,,,c1\nH2,contrl,2024-01-10,2024-06-01,moved,,c1\n")
    assert [f[1] for f in found] == ["CL042"]


# ---- hostile input (issue 12) ---------------------------------------------------------------

def test_a_directory_in_place_of_a_file(tmp_path):
    d = ledger_dir(tmp_path)
    (d / "persons.csv").unlink()
    (d / "persons.csv").mkdir()
    with pytest.raises(LedgerError) as exc:
        load_ledger(d, VIBORG)
    assert [(x.code, x.message) for x in exc.value.diagnostics] == [
        ("CL040", "persons.csv is a directory, not a regular file; a ledger file is UTF-8 CSV text")]


def test_a_fifo_in_place_of_a_file_is_refused_without_waiting(tmp_path):
    d = ledger_dir(tmp_path)
    (d / "measurements.csv").unlink()
    os.mkfifo(d / "measurements.csv")
    code = ("import sys; from contractlang import load; from contractlang.ledger import load_ledger\n"
            "from contractlang.errors import LedgerError\n"
            f"c = load({str(ROOT / 'contracts/viborg/viborg.contract')!r})\n"
            f"try: load_ledger({str(d)!r}, c)\n"
            "except LedgerError as e: print(e.diagnostics[0].message)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)  # the old reader hung
    assert out.stdout.strip() == "measurements.csv is a named pipe (FIFO), not a regular file; a ledger file is UTF-8 CSV text"


def test_a_link_to_a_device_is_refused_unread(tmp_path):
    d = ledger_dir(tmp_path)
    (d / "cohorts.csv").unlink()
    (d / "cohorts.csv").symlink_to("/dev/zero")
    with pytest.raises(LedgerError) as exc:
        load_ledger(d, VIBORG)
    assert [(x.code, x.message) for x in exc.value.diagnostics] == [
        ("CL040", "cohorts.csv is a device, not a regular file; a ledger file is UTF-8 CSV text")]


def test_a_file_over_the_size_bound_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(csvfile, "MAX_FILE_BYTES", 40)
    d = ledger_dir(tmp_path)
    size = (d / "measurements.csv").stat().st_size
    with pytest.raises(LedgerError) as exc:
        load_ledger(d, VIBORG)
    assert [x.message for x in exc.value.diagnostics] == [
        f"households.csv is {(d / 'households.csv').stat().st_size:,} bytes; a ledger file may have at most 40",
        f"persons.csv is {(d / 'persons.csv').stat().st_size:,} bytes; a ledger file may have at most 40",
        f"measurements.csv is {size:,} bytes; a ledger file may have at most 40"]


def test_non_ascii_digits_are_located_errors_not_crashes(tmp_path):
    """`'²'.isdigit()` is true and `int('²')` raised; `Decimal('٣')` is 3 and was accepted."""
    found = problems(tmp_path, persons=P + "P1,H1,1980-01-01,²\nP2,H1,２０１２-05-05,\nP3,H2,1979-03-03,\n",
                     measurements=M + "P1,life_satisfaction,baseline,,٣\n")
    assert found == [
        ("persons.csv:2:18", "CL042", "school_grade '²' is not a grade from 0 to 10"),
        ("persons.csv:3:7", "CL041", "birth_date '２０１２-05-05' is not a date in the form YYYY-MM-DD"),
        ("measurements.csv:2:32", "CL042", "'٣' is not a number: write digits 0-9 (decimals use '.')"),
    ]


@pytest.mark.parametrize("separator", ["\u0085", "\u2028", "\f", "\u2029", "\x1c"])
def test_line_numbers_do_not_drift_on_unicode_line_separators(tmp_path, separator):
    """`str.splitlines` split at these; CSV does not, so the error is on line 3, not 4."""
    found = problems(tmp_path, households=H + f"H1,intervention,2024-01-10,,,,c1\n"
                                              f"H2,contrl{separator}x,2024-01-10,,,,c1\n")
    assert [f[0] for f in found] == ["households.csv:3:4"]


def test_quoted_fields_may_hold_line_breaks_and_later_rows_keep_their_lines(tmp_path):
    text = (H + '"H1",intervention,2024-01-10,,,,c1\n'
            '"H\n9","control",2024-01-10,,,,"c1"\n'
            'H2,contrl,2024-01-10,,,,c1\n')
    assert problems(tmp_path, households=text) == [
        ("households.csv:5:4", "CL042", "group 'contrl' is not one of intervention, control")]


def test_a_quoted_multiline_row_is_numbered_by_its_first_line(tmp_path):
    text = H + 'H1,intervention,2024-01-10,,,,c1\n"H\n9","control",2024-01-10,,,,"c1"\nH2,control,2024-01-10,,,,c1\n'
    ledger = load_ledger(ledger_dir(tmp_path, **files(households=text)), VIBORG)
    assert ledger.frames.households["line"].to_list() == [2, 3, 5]
    assert ledger.households["H\n9"].line == 3


def test_a_cell_after_a_multiline_field_is_located_on_its_own_line(tmp_path):
    text = H + 'H1,intervention,2024-01-10,,,,c1\nH2,control,2024-01-10,,,,c1\n"H\n9",contrl,2024-01-10,,,,c1\n'
    assert problems(tmp_path, households=text) == [
        ("households.csv:5:4", "CL042", "group 'contrl' is not one of intervention, control")]


def test_a_stray_quote_is_located(tmp_path):
    assert one(tmp_path, persons=P + 'P1,H1,1980-01-01,\nP"2,H1,1980-01-01,\n') == (
        "persons.csv:3:2", "CL041", csvfile.STRAY_QUOTE)


def test_an_unclosed_quote_is_located_where_it_opens(tmp_path):
    assert one(tmp_path, persons=P + 'P1,H1,1980-01-01,\nP2,"H1,1980-01-01,\nP3,H1,1980-01-01,\n') == (
        "persons.csv:3:4", "CL041", csvfile.UNCLOSED)


def test_text_after_a_closing_quote_is_located(tmp_path):
    assert one(tmp_path, persons=P + 'P1,"H1"x,1980-01-01,\n') == ("persons.csv:2:8", "CL041", csvfile.AFTER_QUOTE)


def test_carriage_returns_end_lines_as_csv_says(tmp_path):
    text = H.replace("\n", "\r") + "H1,intervention,2024-01-10,,,,c1\r\nH2,contrl,2024-01-10,,,,c1\r"
    assert problems(tmp_path, households=text) == [
        ("households.csv:3:4", "CL042", "group 'contrl' is not one of intervention, control")]


def test_blank_lines_are_skipped_and_keep_physical_numbers(tmp_path):
    text = H + "\n   \nH1,intervention,2024-01-10,,,,c1\n\u3000\nH2,contrl,2024-01-10,,,,c1\n"
    assert problems(tmp_path, households=text) == [
        ("households.csv:6:4", "CL042", "group 'contrl' is not one of intervention, control")]


@pytest.mark.parametrize("text, message", [
    ("1E-999999", "'1E-999999' has 999999 decimal places; a ledger value has at most 28"),
    ("1E+999999", "'1E+999999' is too large; a ledger value is below 1E+28"),
    ("1" * 40, f"'{'1' * 40}' has 40 digits; a ledger value has at most 28"),
    ("1E" + "9" * 30, f"'1E{'9' * 30}' has an exponent out of bounds; a ledger value has at most 28 decimal places "
                      "and is below 1E+28"),
    ("5" * 70, f"'{'5' * 59}…' is too long for a number (at most 64 characters)"),
    ("1_0", "'1_0' is not a number (decimals use '.')"),
    ("NaN", "'NaN' is not a number (decimals use '.')"),
    ("Infinity", "'Infinity' is not a number (decimals use '.')"),
])
def test_decimal_values_are_bounded(tmp_path, text, message):
    assert one(tmp_path, measurements=M + f"P2,school_absence_pct,baseline,,{text}\n") == (
        "measurements.csv:2:33", "CL042", message)


def test_the_bounds_admit_what_they_say(tmp_path):
    ok = "0." + "0" * (MAX_VALUE_EXPONENT - 1) + "1"
    assert len(ok) - 2 == MAX_VALUE_EXPONENT and MAX_VALUE_DIGITS == 28
    ledger = load_ledger(ledger_dir(tmp_path, **files(measurements=M + f"P2,school_absence_pct,baseline,,{ok}\n"
                                                                     "P1,life_satisfaction,baseline,,1E+1\n")), VIBORG)
    assert ledger.values["P2", "school_absence_pct", "baseline"].value == Decimal("1E-28")
    assert ledger.values["P1", "life_satisfaction", "baseline"].value == 10


def test_cells_are_stripped_as_python_strips(tmp_path):
    assert WHITESPACE == "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    text = M + "P1,life_satisfaction,baseline,,\x1c7\u3000\nP2,life_satisfaction , baseline,, 5\x85\n"
    ledger = load_ledger(ledger_dir(tmp_path, **files(measurements=text)), VIBORG)
    assert ledger.frames.measurements["value"].to_list() == ["7", "5"]
    assert ledger.frames.measurements["measure"].to_list() == ["life_satisfaction", "life_satisfaction"]


def test_every_error_is_reported_not_just_the_first(tmp_path):
    rows = "".join(f"P1,benefit_type,x{i},,employed\n" for i in range(300))
    found = problems(tmp_path, measurements=M + rows, households=H + "H1,intervention,2024-01-10,,,,c1\nH2,ctrl,2024-01-10,,,,c1\n")
    assert len(found) == 301
    assert found[0][0] == "households.csv:3:4"
    assert [f[0] for f in found[1:]] == [f"measurements.csv:{i}:17" for i in range(2, 302)]


# ---- reporting many errors in linear time ---------------------------------------------------

def test_the_text_report_shows_at_most_50_per_code_and_counts_the_rest():
    span = SourceSpan("f.csv", 1, 1)
    diags = [error("CL042", f"bad {i}", span) for i in range(60)] + [error("CL041", "other", span)]
    lines = render_text(diags).splitlines()
    assert sum(line.startswith("f.csv:1:1: error[CL042]") for line in lines) == 50
    assert lines[-1] == "… and 10 more CL042 errors"
    assert "f.csv:1:1: error[CL041]: other" in lines
    assert render_text(diags, max_per_code=None).count("error[CL042]") == 60


def test_a_source_is_split_into_lines_once_however_many_diagnostics_point_into_it(monkeypatch):
    from contractlang import errors
    calls = []
    real = errors.split_lines
    monkeypatch.setattr(errors, "split_lines", lambda text: calls.append(1) or real(text))
    source = "".join(f"line {i}\n" for i in range(5000))
    diags = [error("CL042", "x", SourceSpan("big.csv", i + 1, 1)) for i in range(5000)]
    out = render_text(diags, {"big.csv": source}, max_per_code=None)
    assert len(calls) == 1
    assert out.splitlines()[-3:] == ["big.csv:5000:1: error[CL042]: x", "    line 4999", "    ^"]


def test_ledger_diagnostics_carry_their_source_line_so_the_file_is_not_read_again(tmp_path):
    d = ledger_dir(tmp_path, **files(measurements=M + "".join(f"P1,benefit_type,x{i},,employed\n" for i in range(2000))))
    with pytest.raises(LedgerError) as exc:
        load_ledger(d, VIBORG)
    diags = exc.value.diagnostics
    assert len(diags) == 2000 and all(x.source_line == f"P1,benefit_type,x{i},,employed" for i, x in enumerate(diags))
    out = render_text(diags)
    assert out.splitlines()[1:3] == ["    P1,benefit_type,x0,,employed", "                    ^"]
    assert out.splitlines()[-1] == "… and 1950 more CL042 errors"


def test_the_cli_reports_a_bad_ledger_without_a_traceback(tmp_path, capsys):
    d = ledger_dir(tmp_path, **files(persons=P + "P1,H1,1980-01-01,²\nP2,H1,2012-05-05,4\nP3,H2,1979-03-03,\n"))
    status = main(["settle", str(ROOT / "contracts" / "viborg" / "viborg.contract"), "--ledger", str(d)])
    out = capsys.readouterr()
    assert status == 1
    assert out.out.splitlines() == [f"{d / 'persons.csv'}:2:18: error[CL042]: school_grade '²' is not a grade from 0 to 10",
                                    "    P1,H1,1980-01-01,²", "                     ^"]
    assert "Traceback" not in out.err


def test_ledger_is_the_type_the_engine_reads(tmp_path):
    assert isinstance(load_ledger(ledger_dir(tmp_path), VIBORG), Ledger)
