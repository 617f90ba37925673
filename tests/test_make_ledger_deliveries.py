"""The Viborg generator's `--deliveries` option (contracts/viborg/make_ledger.py) and the bundled
delivery series in contracts/viborg/deliveries/ledger: `delivered_on`, late rows, corrections, the
base data unchanged, and `settle --known-as-of` at each delivery."""

from __future__ import annotations

import csv
import datetime as dt
import filecmp
import hashlib
import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from contractlang.cli import main

ROOT = Path(__file__).resolve().parents[1]
VIBORG = ROOT / "contracts" / "viborg"
GENERATOR = VIBORG / "make_ledger.py"
BUNDLED = VIBORG / "deliveries" / "ledger"
DATES = ("2025-01-31", "2026-01-31", "2028-12-31")
DELIVERIES = [dt.date.fromisoformat(d) for d in DATES]
BASE_FILES = ("cohorts.csv", "households.csv", "persons.csv")
FILES = BASE_FILES + ("measurements.csv",)
SMALL = {"households": 14, "control_households": 6, "seed": 3}
# sha256 of the files the generator wrote for SMALL before it had --deliveries
SMALL_BEFORE = {
    "cohorts.csv": "0dd99d1aa4de9f54ea9ce6ef04b9c62088e3f9bff745ca52b306713958ac0629",
    "households.csv": "26bb091cd043fa292554aefd2c8eaed223af8fd46f0a40667e0865e72a66cd7d",
    "measurements.csv": "6ebe6cee1d189331142924bea065a868c5b9884a32e8c950ff8b53763bf3f6a7",
    "persons.csv": "b979148670172d723962b73fbccbe4939fd4f1527254ae944ddd82f685a585f0",
}
EMPLOYMENT = {"benefit_type", "in_su_education", "completed_education_6m", "fit_status"}


def _module():
    spec = importlib.util.spec_from_file_location("make_ledger_viborg_deliveries", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ML = _module()


def _rows(directory: Path) -> list[list[str]]:
    with open(directory / "measurements.csv", newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _same(a: Path, b: Path, name: str) -> bool:
    return filecmp.cmp(a / name, b / name, shallow=False)


def _group(measure: str, point: str) -> str | None:
    if measure in EMPLOYMENT and point in ("m12", "m18", "m24"):
        return "employment"
    return "wellbeing" if measure in ("life_satisfaction", "action_plan_pct") else None


def _analyse(rows: list[list[str]], dates=DATES):
    """Split the rows with delivered_on: (base rows, corrections as (original, correction) pairs,
    per (kind, group, delivery due / delivery of the corrected row) counts)."""
    base, corrections, counts, first = [], [], Counter(), {}
    for row in rows[1:]:
        key = tuple(row[:3])
        due = next(d for d in dates if d >= row[3])
        group = _group(row[1], row[2])
        if key in first:
            original = first[key]
            corrections.append((original, row))
            counts["correction", group, original[5]] += 1
            counts["correction", original[5]] += 1
        else:
            first[key] = row
            base.append(row)
            if row[5] != due:
                counts["late", group, due] += 1
                counts["late", due] += 1
    return base, corrections, counts


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The default ledger and the bundled series, both freshly generated."""
    out = tmp_path_factory.mktemp("ledgers")
    counts = {"plain": ML.generate(out / "plain"),
              "deliveries": ML.generate(out / "deliveries", deliveries=DELIVERIES)}
    return out, counts


def test_default_output_is_what_it_was_before_deliveries(made, tmp_path):
    out, _ = made
    for name in FILES:  # contracts/viborg/ledger was generated with the defaults before
        assert _same(out / "plain", VIBORG / "ledger", name), name
    ML.generate(tmp_path / "small", **SMALL)
    for name, digest in SMALL_BEFORE.items():
        assert hashlib.sha256((tmp_path / "small" / name).read_bytes()).hexdigest() == digest, name
    ML.generate(tmp_path / "empty", deliveries=[])
    assert ML.main(["--out", str(tmp_path / "cli")]) == 0
    for name in FILES:
        assert _same(out / "plain", tmp_path / "empty", name), name
        assert _same(out / "plain", tmp_path / "cli", name), name
    assert _rows(out / "plain")[0] == ["subject_id", "measure", "point", "date", "value"]


def test_other_files_and_base_rows_are_the_same_with_deliveries(made):
    out, _ = made
    for name in BASE_FILES:
        assert _same(out / "plain", out / "deliveries", name), name
    rows = _rows(out / "deliveries")
    assert rows[0] == ["subject_id", "measure", "point", "date", "value", "delivered_on"]
    base, corrections, _ = _analyse(rows)
    assert [row[:5] for row in base] == _rows(out / "plain")[1:]
    assert len(base) + len(corrections) == len(rows) - 1


def test_every_row_is_delivered_at_a_delivery_on_or_after_its_date(made):
    out, _ = made
    for row in _rows(out / "deliveries")[1:]:
        assert row[5] in DATES and row[5] >= row[3], row


def test_corrections_follow_their_row_with_another_valid_value_in_the_next_delivery(made):
    out, _ = made
    rows = _rows(out / "deliveries")[1:]
    _, corrections, _ = _analyse([[]] + rows)
    assert corrections
    for original, correction in corrections:
        assert rows[rows.index(original) + 1] == correction  # written right after it
        assert correction[:4] == original[:4] and correction[4] != original[4]
        assert DATES.index(correction[5]) == DATES.index(original[5]) + 1
        measure, value = correction[1], correction[4]
        if measure in ML.CHOICES:
            assert value in ML.CHOICES[measure]
        else:
            assert 0 <= float(value) <= 100
            if measure == "school_absence_pct":
                assert value == f"{float(value):.2f}"
            else:
                assert value == f"{float(value):.2f}".rstrip("0").rstrip(".")
    keys = [tuple(original[:3]) for original, _ in corrections]
    assert len(keys) == len(set(keys))  # at most one correction per row


def test_each_delivery_but_the_last_has_late_rows_and_corrections(made):
    out, counts = made
    _, _, found = _analyse(_rows(out / "deliveries"))
    for due in DATES[:-1]:
        for kind in ("late", "correction"):
            for group in ("employment", "wellbeing"):
                assert found[kind, group, due] > 0, (kind, group, due)
    assert not found["late", DATES[-1]] and not found["correction", DATES[-1]]
    # the generator's counts (per delivery that brings the rows) agree with the file
    delivered = Counter(row[5] for row in _rows(out / "deliveries")[1:])
    for before, day in zip((None,) + DATES, DATES):
        assert counts["deliveries"]["deliveries"][day] == {"rows": delivered[day],
                                             "late": found["late", before],
                                             "corrections": found["correction", before]}


def test_a_small_ledger_still_has_late_rows_and_corrections_in_every_delivery(tmp_path):
    dates = ("2025-06-30", "2026-06-30", "2027-06-30", "2028-10-31")
    ML.generate(tmp_path, **SMALL, deliveries=[dt.date.fromisoformat(d) for d in dates])
    _, _, found = _analyse(_rows(tmp_path), dates)
    for due in dates[:-1]:
        for kind in ("late", "correction"):
            assert found[kind, "employment", due] > 0 and found[kind, "wellbeing", due] > 0


def test_bundled_series_is_a_fresh_generation(made):
    out, _ = made
    # and payments.csv, made from settlements of these (make_payments.py, tests/test_payments.py)
    assert sorted(p.name for p in BUNDLED.iterdir()) == sorted([*FILES, "payments.csv"])
    for name in FILES:
        assert _same(out / "deliveries", BUNDLED, name), name


def test_equal_arguments_give_equal_files(tmp_path):
    for name in ("a", "b"):
        ML.generate(tmp_path / name, **SMALL, deliveries=DELIVERIES)
    for name in FILES:
        assert _same(tmp_path / "a", tmp_path / "b", name), name


@pytest.mark.parametrize("dates, message", [
    ("2025-01-31,2028-08-31", "before the end of data collection"),
    ("2025-01-31,2024-12-31,2028-12-31", "must be ascending"),
    ("2025-01-31,2025-01-31,2028-12-31", "must be ascending"),
    ("2025-02-30,2028-12-31", "YYYY-MM-DD"),
])
def test_bad_delivery_dates_exit_with_a_message_and_write_nothing(tmp_path, dates, message):
    result = subprocess.run([sys.executable, str(GENERATOR), "--out", str(tmp_path / "out"),
                             "--households", "14", "--control", "6", "--deliveries", dates],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("known", DATES)
def test_settle_at_each_delivery(known, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "x.json"
    assert main(["settle", "contracts/viborg/viborg.contract", "--ledger", "contracts/viborg/deliveries/ledger",
                 "--known-as-of", known, "--as-of", known, "--format", "json", "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["inputs"]["known_as_of"] == known
    reasons = Counter(x["reason"] for x in doc["row_exclusions"])
    rows = _rows(BUNDLED)[1:]
    assert reasons["not_delivered"] == sum(row[5] > known for row in rows)
    _, corrections, _ = _analyse([[]] + rows)
    assert reasons["superseded"] == sum(c[5] <= known for _, c in corrections)
