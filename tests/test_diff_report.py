"""`contractlang diff` (issue 14, item 3) on the Viborg delivery series: the settlement of 31 January 2026 as it
was known after the first delivery and after the second. The second delivery brings late observations (which
also move the imputation means) and corrected values; every changed line is put down to a cause, and the report
says so in text, Markdown, HTML and JSON, in English and Danish."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from contractlang.cli import main

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "contracts" / "viborg" / "viborg.contract"
LEDGER = ROOT / "contracts" / "viborg" / "deliveries" / "ledger"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    out = tmp_path_factory.mktemp("diff")
    for name, known in (("first.json", "2025-01-31"), ("second.json", "2026-01-31")):
        assert main(["settle", str(CONTRACT), "--ledger", str(LEDGER), "--as-of", "2026-01-31", "--known-as-of", known,
                     "--format", "json", "-o", str(out / name)]) == 0  # no trails: diff settles them again
    return out


def _diff(pair: Path, *options: str) -> str:
    out = pair / "out"
    assert main(["diff", str(pair / "first.json"), str(pair / "second.json"), "-o", str(out), *options]) == 0
    return out.read_text(encoding="utf-8")


def test_every_changed_line_of_a_later_delivery_has_its_cause(pair):
    d = json.loads(_diff(pair, "--format", "json"))
    causes = d["summary"]["causes"]
    assert d["summary"]["unexplained"] == 0
    assert {"row_changed", "late_observation", "imputation_mean"} <= set(causes)
    assert all(ln["causes"] for ln in d["lines"]) and d["summary"]["lines"]["changed"] == len(d["lines"])
    # The corrections are rows of the second delivery that replace a row of the first.
    corrected = [c for ln in d["lines"] for c in ln["causes"] if c["kind"] == "row_changed"]
    assert any(c.get("new_row_exclusion", {}).get("reason") == "superseded" for c in corrected)
    late = [c for ln in d["lines"] for c in ln["causes"] if c["kind"] == "late_observation"]
    rows = (LEDGER / "measurements.csv").read_text(encoding="utf-8").splitlines()
    for c in late:  # each late observation names the row that brought it, delivered in the second delivery
        row = rows[c["line"] - 1].split(",")
        assert (row[0], row[1], row[2], row[5]) == (c["subject"], c["measure"], c["point"], "2026-01-31")
        assert row[4] == c["value"] or Decimal(row[4]) == Decimal(c["value"])  # a number as the trail writes it
    assert d["inputs"]["known_as_of"] == {"old": "2025-01-31", "new": "2026-01-31", "changed": True}
    assert d["documents"]["old"]["path"].endswith("first.json") and len(d["documents"]["new"]["sha256"]) == 64


@pytest.mark.parametrize("fmt, lang, words", [
    ("text", "en", ["What changed between two settlements", "late observation: measurements.csv line",
                    "imputation mean at m12"]),
    ("md", "da", ["# Hvad der er ændret mellem to afregninger", "sen observation: measurements.csv linje",
                  "gennemsnit til erstatning ved m12"]),
    ("html", "en", ["<h1>What changed between two settlements</h1>", '<ul class="changes">', "late observation"]),
])
def test_the_report_reads_in_each_format_and_language(pair, fmt, lang, words):
    text = _diff(pair, "--format", fmt, "--lang", lang)
    for w in words:
        assert w in text, w


def test_a_long_diff_is_counted_by_goal_and_cause(pair):
    text = _diff(pair, "--rows", "5")
    assert "more than the 5 a report lists" in text
    assert "late observation: measurements.csv" not in text and "a late observation" in text


def test_a_settlement_its_inputs_no_longer_give_is_not_diffed_without_trails(pair, tmp_path, capsys):
    ledger = tmp_path / "ledger"
    shutil.copytree(LEDGER, ledger)
    old = tmp_path / "old.json"
    assert main(["settle", str(CONTRACT), "--ledger", str(ledger), "--as-of", "2026-01-31", "--format", "json",
                 "-o", str(old)]) == 0
    text = (ledger / "measurements.csv").read_text(encoding="utf-8")
    (ledger / "measurements.csv").write_text(text.replace(",true,", ",false,", 3), encoding="utf-8")
    assert main(["diff", str(old), str(pair / "second.json")]) == 1
    assert "is not reproduced from what it records" in capsys.readouterr().err


def test_diff_refuses_what_is_not_a_settlement(pair, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"lines": []}', encoding="utf-8")
    assert main(["diff", str(bad), str(pair / "second.json")]) == 1
    assert "is not a settlement document" in capsys.readouterr().err
