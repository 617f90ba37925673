"""Write the minimal reproducer of each finding of FINDINGS.md into tests/fuzz/findings/.

The fuzzer's own reproducers carry every mutation that happened to be drawn; these are
cut down by hand to the one input that breaks the promise (a bundled contract and a
slice of its ledger, with one change). Run from the repository root:

    .venv/bin/python -m tests.fuzz.make_findings          # writes tests/fuzz/findings/F*.json
    .venv/bin/python bench/fuzz.py --replay tests/fuzz/findings/
"""

from __future__ import annotations

import json
from pathlib import Path

from . import corpus, harness
from .strategies import unmutated_ledger

HERE = Path(__file__).parent
RATE_CARD = corpus.CONTRACTS / "examples" / "rate-card"
RUDERSDAL = corpus.CONTRACTS / "rudersdal-aaben-og-rolig"


def _contract(directory: Path) -> dict:
    path = corpus.dsl_file(directory)
    return {"contract.contract": {"text": path.read_text(encoding="utf-8")}}


def _ledger(directory: Path, households: int = 4, edit=None) -> dict:
    rows = corpus.slice_ledger(directory, households, 0)
    if edit:
        edit(rows)
    return unmutated_ledger(rows)


def _set(file: str, column: str, value: str, row: int = 1):
    def edit(rows):
        table = rows[file]
        table[row][table[0].index(column)] = value
    return edit


def _settle(files, *extra, fmt="json", note=(), out=None):
    argv = ["settle", "{dir}/contract.contract", "--ledger", "{dir}/ledger", "--format", fmt, *extra]
    if out:
        argv += ["-o", out]
    return {"target": "settle", "files": files, "argv": argv, "dirs": ["outdir"] if out == "{dir}/outdir" else [],
            "subprocess_only": False, "note": list(note)}


def _generated(**changes) -> str:
    from .strategies import _GENERATED
    fields = dict(cid="gen", title="Generated contract", fund="Fund", payer="Payer", gtitle="Success", btitle=' "Score"',
                  months=6, high=10, places=2, istart="2024-01-01", iend="2025-12-31", dce="2026-12-31", stay=0,
                  rate="1_234.57", rate2="333.33", missing="mean", cap="4_000", until="6_000", periods="half-yearly")
    fields.update(changes)
    return _GENERATED.format(**fields)


def _gen_ledger(pid="P1") -> dict:
    rows = {"households.csv": [["household_id", "group", "start_date", "end_date", "end_reason", "replaces", "cohort"],
                               ["H1", "intervention", "2024-02-01", "", "", "", ""]],
            "persons.csv": [["person_id", "household_id", "birth_date", "school_grade"], [pid, "H1", "1990-05-05", ""]],
            "measurements.csv": [["subject_id", "measure", "point", "date", "value"], [pid, "ok", "m6", "", "true"],
                                 [pid, "score", "baseline", "", "2"], [pid, "score", "end", "", "7"]]}
    return unmutated_ledger(rows)


def findings() -> dict[str, dict]:
    """Finding id -> case."""
    rc = _contract(RATE_CARD)
    rc_text = rc["contract.contract"]["text"]
    out = {}
    out["F1"] = {"target": "check", "argv": ["check", "{dir}/contract.contract"], "dirs": [], "subprocess_only": False,
                 "files": {"contract.contract": {"text": rc_text.replace("rounding line 2 places", "rounding line " + "9" * 4400 + " places")}},
                 "note": ["huge_int: `rounding line 9…9 places` with 4,400 digits"]}
    out["F2"] = _settle(rc | _ledger(RATE_CARD), note=["o_dir"], out="{dir}/outdir")
    out["F3"] = _settle(rc | _ledger(RATE_CARD), note=["o_devfull"], out="/dev/full")
    out["F3b"] = {"target": "convert", "argv": ["convert", "{dir}/contract.contract", "-o", "/dev/full"], "dirs": [],
                  "files": rc, "subprocess_only": False, "note": ["o_devfull"]}
    out["F4"] = _settle(rc | _ledger(RATE_CARD), note=["o_missing_parent"], out="{dir}/missing/sub/out.json")
    out["F5"] = _settle({"contract.contract": {"text": _generated(months=99_999)}} | _gen_ledger(),
                        note=["gen_month_overflow: point m6 = start + 99999 months"])
    out["F6"] = _settle({"contract.contract": {"text": _generated(rate="1" + "0" * 48)}} | _gen_ledger(),
                        note=["gen_big_rate: pay 10^48 DKK per success"])
    out["F7"] = _settle({"contract.contract": {"text": _generated(cap="1" + "0" * 40, rate2="1" + "0" * 30)}} | _gen_ledger(),
                        "--no-trace", fmt="xlsx", out="{dir}/out.xlsx", note=["gen_big_cap, gen_big_rate: an amount of 10^30"])
    out["F8"] = _settle(_contract(RUDERSDAL) | _ledger(RUDERSDAL, edit=_set("persons.csv", "school_grade", "²")),
                        note=["non_ascii_digits persons.csv:2:school_grade = '²'"])
    led = _ledger(RATE_CARD)
    out["F9"] = _settle(rc | led | {"ledger/persons.csv": {"special": "dir"}}, note=["special_dir persons.csv"])
    out["F10"] = _settle(rc | led | {"ledger/persons.csv": {"special": "fifo"}}, note=["special_fifo persons.csv"])
    out["F11"] = _settle(rc | led | {"ledger/persons.csv": {"special": "devzero"}}, note=["special_devzero persons.csv"])
    out["F11"]["subprocess_only"] = True
    out["F12"] = _settle(_contract(RUDERSDAL) | _ledger(RUDERSDAL, edit=_set("persons.csv", "school_grade", "9" * 5000)),
                         note=["huge_number persons.csv:2:school_grade = 9…9 (5,000 digits)"])
    out["F13"] = _settle(_contract(corpus.CONTRACTS / "aarhus-personlige-budgetter")
                         | _ledger(corpus.CONTRACTS / "aarhus-personlige-budgetter", households=8,
                                   edit=_set("measurements.csv", "value", "1E-999999",
                                             row=_row(corpus.CONTRACTS / "aarhus-personlige-budgetter", "misused", 8))),
                         note=["extreme_exponent measurements.csv: misused = '1E-999999'"])
    out["F13"]["subprocess_only"] = True  # C code of the decimal module: an alarm cannot interrupt it
    out["F14"] = _settle({"contract.contract": {"text": _generated(btitle="")}} | _gen_ledger(), fmt="md",
                         note=["gen_untitled: goal better has no title"])
    out["F15"] = _settle({"contract.contract": {"text": _generated(cap="1" + "0" * 40, rate2="1" + "0" * 30)}} | _gen_ledger(),
                         "--no-trace", fmt="html", note=["gen_big_cap, gen_big_rate: an amount of 10^30, HTML report"])
    out["F16"] = _settle({"contract.contract": {"text": _generated()}} | _gen_ledger(pid="=1+1"), "--no-trace",
                         fmt="xlsx", out="{dir}/out.xlsx", note=["hostile_id person '=1+1'"])
    out["F17"] = _settle({"contract.contract": {"text": _generated()}} | _gen_ledger(pid="a``b" + harness.IMG_MARKER + "``"),
                         "--no-trace", fmt="md", note=["hostile_id person 'a``b<img src=x onerror=alert(1)>``'"])

    def dup_group(rows):
        for r in rows["households.csv"]:
            r.append("group" if r[0] == "household_id" else {"intervention": "control"}.get(r[1], "intervention"))
    out["F18"] = _settle(rc | _ledger(RATE_CARD, households=6, edit=dup_group),
                         note=["dup_column households.csv:group flipped"])
    return out


def _row(directory: Path, measure: str, households: int = 4) -> int:
    rows = corpus.slice_ledger(directory, households, 0)["measurements.csv"]
    return next(i for i, r in enumerate(rows) if i and r[1] == measure)


def main() -> int:
    target = HERE / "findings"
    target.mkdir(exist_ok=True)
    for old in target.glob("F*.json"):
        old.unlink()
    for fid, case in findings().items():
        res, fails = harness.run_case(case)
        if not fails:
            print(f"{fid}: passes now (not written)")
            continue
        f = fails[0]
        record = {"finding": fid, "signature": f.signature, "kind": f.kind, "detail": f.detail, "exit": res.exit,
                  "mode": res.mode, "case": case}
        (target / f"{fid}.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{fid}: {f.signature}  {f.detail[:120]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
