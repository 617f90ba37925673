"""A short, deterministic fuzz run of every command (marker `fuzz`): no traceback, no hang, no partial output.

The strategies and the oracle are those of `bench/fuzz.py` (tests/fuzz/strategies.py and
harness.py); here a fixed number of derandomized examples per target, with the
mutations that reproduce a recorded finding left out (tests/fuzz/known.py). Each
example runs in-process through `contractlang.cli.main`; a few run as a subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from . import harness
from .known import KNOWN, quick_exclude
from .strategies import (CONTRACT_MUTATIONS, DOCUMENT_FORMATS, GENERATED_MUTATIONS, LEDGER_MUTATIONS, OPTION_MUTATIONS,
                         TABLE_FORMATS, TARGETS, cases)

pytestmark = pytest.mark.fuzz

HERE = Path(__file__).parent
EXAMPLES = {"check": 60, "fmt": 60, "convert": 60, "settle": 100, "explain": 60, "settle_tables": 40}
QUICK = settings(derandomize=True, database=None, deadline=None, print_blob=False, phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=list(HealthCheck))


def _assert_kept(case: dict, subprocess_mode: bool = False) -> None:
    res, fails = harness.run_case(case, subprocess_mode=subprocess_mode)
    assert not fails, "\n".join(
        [f"{f.signature}: {f.detail}" for f in fails]
        + [f"argv: {case['argv']}", f"mutations: {case['note']}", (res.exception or "")[-2000:]])


def _quick(target: str, formats=DOCUMENT_FORMATS, examples: int | None = None):
    @settings(QUICK, max_examples=examples or EXAMPLES[target])
    @given(cases(target, exclude=quick_exclude(target), formats=formats))
    def run(case):
        _assert_kept(case)
    return run


test_check_quick = _quick("check")
test_fmt_quick = _quick("fmt")
test_convert_quick = _quick("convert")
test_settle_quick = _quick("settle")
test_settle_tables_quick = _quick("settle", TABLE_FORMATS, EXAMPLES["settle_tables"])  # --format csv | parquet
test_explain_quick = _quick("explain")


@pytest.mark.parametrize("target", TARGETS)
def test_subprocess_sample(target):
    """Two examples per target in a fresh interpreter: the same promises hold outside the test process."""
    @settings(QUICK, max_examples=2)
    @given(cases(target, exclude=quick_exclude(target), formats=DOCUMENT_FORMATS))
    def run(case):
        _assert_kept(case, subprocess_mode=True)
    run()


def test_known_exclusions_name_real_mutations_and_findings():
    """Every left-out mutation exists, and names a finding written up in FINDINGS.md."""
    names = set(CONTRACT_MUTATIONS + GENERATED_MUTATIONS + LEDGER_MUTATIONS + OPTION_MUTATIONS) | {"generated"}
    findings = (HERE / "FINDINGS.md").read_text(encoding="utf-8")
    for name, (targets, finding) in KNOWN.items():
        assert name in names, name
        assert set(targets) <= set(TARGETS), (name, targets)
        assert f"| {finding} |" in findings, (name, finding)


def test_reproducers_are_replayable_and_written_up():
    """Each recorded reproducer is a whole case the harness can materialise, and FINDINGS.md cites it."""
    findings = (HERE / "FINDINGS.md").read_text(encoding="utf-8")
    records = harness.load_reproducers(HERE / "findings")
    assert records
    for rec in records:
        case = rec["case"]
        assert case["target"] in TARGETS and case["argv"][0] == case["target"]
        assert rec["signature"].startswith(case["target"] + "|")
        assert Path(rec["path"]).name in findings, rec["path"]
        json.dumps(case)  # stays serialisable


@pytest.mark.parametrize("record", harness.load_reproducers(HERE / "findings"), ids=lambda r: Path(r["path"]).stem)
def test_every_recorded_finding_stays_fixed(record):
    """Each finding of FINDINGS.md, replayed as recorded (in a subprocess where it needed one): it no longer fails."""
    _assert_kept(record["case"])


def test_oracle_catches_what_it_promises(tmp_path):
    """The oracle itself: a traceback, a left-over -o file, an unlocated error and a bad JSON are failures."""
    case = {"target": "settle", "argv": ["settle", "{dir}/c.contract", "--ledger", "{dir}/l", "--format", "json",
                                         "-o", "{dir}/out.json"], "files": {}}
    (tmp_path / "out.json").write_text("{", encoding="utf-8")
    kinds = lambda res: {f.kind for f in harness.judge(case, res, tmp_path)}  # noqa: E731
    assert kinds(harness.Result(exit=None, stdout=b"", stderr=b"", seconds=0, exception="Traceback\nKeyError: 1",
                                where="KeyError@x:y")) == {"traceback"}
    assert kinds(harness.Result(exit=1, stdout=b"error[CL041]: bad row\n", stderr=b"", seconds=0)) \
        == {"partial-output", "unlocated"}
    assert kinds(harness.Result(exit=0, stdout=b"", stderr=b"", seconds=0)) == {"bad-json"}
    (tmp_path / "out.json").write_text('{"a": 1}', encoding="utf-8")
    assert kinds(harness.Result(exit=0, stdout=b"", stderr=b"", seconds=0)) == set()
    located = b"/x/ledger/persons.csv:3:7: error[CL042]: school_grade 'x' is not a grade\n"
    (tmp_path / "out.json").unlink()
    assert kinds(harness.Result(exit=1, stdout=located, stderr=b"", seconds=0)) == set()
    assert kinds(harness.Result(exit=3, stdout=b"", stderr=b"", seconds=0)) == {"exit"}
    assert kinds(harness.Result(exit=None, stdout=b"", stderr=b"", seconds=0, timed_out=True)) == {"hang"}


def test_oracle_reads_the_tables(tmp_path):
    """A CSV without the fixed columns or with ragged rows, and a file that is not Parquet, are failures."""
    def kinds(fmt, data):
        case = {"target": "settle", "argv": ["settle", "{dir}/c.contract", "--ledger", "{dir}/l", "--format", fmt,
                                             "-o", f"{{dir}}/out.{fmt}"], "files": {}}
        (tmp_path / f"out.{fmt}").write_bytes(data)
        return {f.kind for f in harness.judge(case, harness.Result(exit=0, stdout=b"", stderr=b"", seconds=0), tmp_path)}

    header = b"id,goal,subject,point,date,period,payer,outcome,gross,after_goal_cap,amount,cut,imputed"
    assert kinds("csv", header + b"\n") == set()
    assert kinds("csv", header + b"\na,b\n") == {"bad-csv"}
    assert kinds("csv", b"goal,id\n") == {"bad-csv"}
    assert kinds("parquet", b"PAR1 not really") == {"bad-parquet"}
