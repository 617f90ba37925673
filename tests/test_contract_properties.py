"""Properties of the settlement of every bundled contract, on ledgers made by its own generator.

For each contract in `contracts/` (its `make_ledger.py`, several seeds, in tmp_path):

* the order of the rows and of the columns of every CSV file does not matter: the
  settlement JSON is byte-identical once what names the input (the files' sha256, the
  line numbers of rows) is mapped back;
* the totals are the sums of the lines, per goal, payer, recipient and period;
* each line's split sums to its amount, and each tranche part's split to the part;
* no cap is exceeded: per goal, per payer, per year and per subject where declared,
  the return cap, and the size of each tranche;
* adding a success never lowers its goal's total;
* every ledger row is accounted for: used + excluded = total per file, the total is
  the file's row count, and every excluded row has a reason.

Only the command (`contractlang settle --format json`, in-process) and the settlement
JSON of docs/settlement-json.md are used, so the tests hold across an engine rewrite.
Checks that repeat on more seeds or with the audit trails are marked `slow`.
"""

from __future__ import annotations

import collections
import csv
import importlib.util
import io
import json
import random
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from contractlang.cli import main

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_DIRS = sorted(p.parent for p in (ROOT / "contracts").rglob("make_ledger.py"))
ROW_REASONS = {"not_counting", "not_due", "not_started", "not_read"}
ZERO = Decimal("0")

#: Per contract: a small ledger (generator arguments beyond out_dir and seed) and the
#: edits that add a success: (goal, measure, point or None for any, new value) - the
#: goal's outcome cannot fall when one row of the measure at the point takes the new value.
#: A contract that pays on a comparison of groups has no such edit (None): a row of the comparison
#: group moves its goal the other way.
CONTRACTS = {
    "viborg": ({"households": 14, "control_households": 6},
               [("employment", "in_su_education", None, "true"), ("life_satisfaction", "life_satisfaction", "end", "10"),
                ("action_plans", "action_plan_pct", None, "100")]),
    "rate-card": ({"participants": 12},
                  [("attendance", "attendance_improved", None, "true"), ("entry_to_work", "employed_weeks", None, "52")]),
    "kolding-ny-start": ({}, [("saved_benefits", "weeks_off_benefit", None, "26")]),
    "rudersdal-aaben-og-rolig": ({}, [("success", "pss10", "m12", "0")]),
    "vaeksthuset-ny-start": ({}, [("course_weeks", "weeks_attended", None, "110")]),
    "aarhus-personlige-budgetter": ({}, [("personal_budget", "granted", None, "1000000")]),
    "peterborough": ({"prisoners": 60}, None),
    "dc-water": ({}, [("performance", "runoff_reduction", None, "50")]),
    "innovation-fund": ({"participants": 40},
                        [("behaviour", "behaviour_improved", None, "true"), ("first_level2", "level2", None, "true"),
                         ("first_job", "employed_13w", None, "true"), ("sustained_job", "employed_26w", None, "true")]),
    "fair-chance-fund": ({"participants": 40},
                         [("into_accommodation", "moved_into_accommodation", None, "true"),
                          ("housed_6m", "accommodation_6m", None, "true"),
                          ("first_level1", "level1_qualification", None, "true"),
                          ("parttime_26w", "parttime_26w", None, "true"), ("fulltime_13w", "fulltime_13w", None, "true")]),
    "istanbul-kodluyor": ({"participants": 40},
                          [("training", "completed_training", None, "true"), ("job", "ict_job", None, "true")]),
}


def test_every_contract_is_covered():
    assert sorted(d.name for d in CONTRACT_DIRS) == sorted(CONTRACTS)


# ---- helpers ---------------------------------------------------------------------------------------


def contract_file(directory: Path) -> Path:
    return next(p for p in sorted(directory.iterdir()) if p.suffix == ".contract")


def generate(directory: Path, out: Path, seed: int) -> Path:
    """Run the contract's own ledger generator into `out`."""
    spec = importlib.util.spec_from_file_location(f"make_ledger_{directory.name.replace('-', '_')}",
                                                  directory / "make_ledger.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(out, seed=seed, **CONTRACTS[directory.name][0])
    return out


def settle_json(contract: Path, ledger: Path, *extra: str) -> bytes:
    """`contractlang settle CONTRACT --ledger DIR --format json` in-process; its stdout bytes."""
    buf = io.BytesIO()
    out = io.TextIOWrapper(buf, encoding="utf-8", write_through=True)
    saved = sys.stdout
    sys.stdout = out
    try:
        code = main(["settle", str(contract), "--ledger", str(ledger), "--format", "json", *extra])
    finally:
        out.flush()
        sys.stdout = saved
    assert code == 0, buf.getvalue()[-2000:]
    return buf.getvalue()


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def copy_ledger(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def D(text) -> Decimal:
    return Decimal(text)


def amounts(mapping: dict) -> dict:
    return {k: D(v) for k, v in mapping.items()}


def by(lines, key, value="amount") -> dict:
    out = collections.defaultdict(lambda: ZERO)
    for ln in lines:
        out[key(ln)] += D(ln[value])
    return out


_SHA = re.compile(rb'"sha256": ?"[0-9a-f]{64}"|"ledger_directory": ?"[^"]*"')  # what names the inputs


def _anon(data: bytes) -> bytes:
    """The document with what names its inputs (hashes, the ledger's directory) blanked."""
    return _SHA.sub(lambda mo: mo.group(0).split(b":", 1)[0] + b': "X"', data)


def map_lines(node, mapping: dict[str, dict[int, int]]):
    """Replace every ledger line number in the document (row exclusions, input and aggregate steps)."""
    if isinstance(node, dict):
        f = node.get("file")
        if isinstance(f, str) and f in mapping:
            if isinstance(node.get("line"), int):
                node["line"] = mapping[f][node["line"]]
            if isinstance(node.get("lines"), list):
                node["lines"] = [mapping[f][n] for n in node["lines"]]
        for v in node.values():
            map_lines(v, mapping)
    elif isinstance(node, list):
        for v in node:
            map_lines(v, mapping)
    return node


def canonical(doc: dict) -> bytes:
    doc["row_exclusions"].sort(key=lambda r: (r["file"], r["line"], r["reason"]))
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False).encode("utf-8")


CASES = [(d, seed) for d in CONTRACT_DIRS for seed in (11, 12)]
SLOW_CASES = [(d, seed) for d in CONTRACT_DIRS for seed in (13, 14, 15)]


def _ids(case):
    return f"{case[0].name}-{case[1]}"


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    """(contract, ledger dir, document bytes, document) per (contract dir, seed), settled once."""
    cache = {}

    def get(directory: Path, seed: int):
        key = (directory, seed)
        if key not in cache:
            ledger = generate(directory, tmp_path_factory.mktemp(f"{directory.name}-{seed}") / "ledger", seed)
            contract = contract_file(directory)
            data = settle_json(contract, ledger, "--no-trace")
            cache[key] = contract, ledger, data, json.loads(data)
        return cache[key]
    return get


# ---- the order of rows and columns -------------------------------------------------------------------


def shuffled_copy(ledger: Path, dst: Path, seed: int, rows: bool, columns: bool) -> dict[str, dict[int, int]]:
    """Copy the ledger with its rows and/or columns shuffled; return new line -> original line per file."""
    rng = random.Random(seed)
    dst.mkdir(parents=True)
    mapping = {}
    for f in sorted(ledger.iterdir()):
        table = read_csv(f)
        header, body = table[0], table[1:]
        order = list(range(len(body)))
        if rows:
            rng.shuffle(order)
        perm = list(range(len(header)))
        if columns:
            while len(perm) > 1 and perm == sorted(perm):
                rng.shuffle(perm)
        write_csv(dst / f.name, [[header[i] for i in perm]] + [[body[k][i] for i in perm] for k in order])
        mapping[f.name] = {new + 2: old + 2 for new, old in enumerate(order)}
    return mapping


def _order_irrelevant(settled, tmp_path, directory, seed, trace: bool):
    contract, ledger, data, _ = settled(directory, seed)
    extra = () if trace else ("--no-trace",)
    if trace:
        data = settle_json(contract, ledger)
    # columns only: the same bytes but for the files' checksums
    cols = tmp_path / "cols"
    shuffled_copy(ledger, cols, seed, rows=False, columns=True)
    assert _anon(settle_json(contract, cols, *extra)) == _anon(data)
    # rows (and columns): the same document once line numbers are mapped back to the original rows
    both = tmp_path / "both"
    mapping = shuffled_copy(ledger, both, seed + 1, rows=True, columns=True)
    shuffled = json.loads(_anon(settle_json(contract, both, *extra)))
    original = json.loads(_anon(data))
    assert canonical(map_lines(shuffled, mapping)) == canonical(original)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_row_and_column_order_do_not_matter(settled, tmp_path, case):
    _order_irrelevant(settled, tmp_path, *case, trace=False)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES[::2], ids=_ids)
def test_row_and_column_order_do_not_matter_in_the_trails(settled, tmp_path, case):
    _order_irrelevant(settled, tmp_path, *case, trace=True)


# ---- money: totals, splits, caps ------------------------------------------------------------------


def check_money(doc: dict) -> None:
    lines = doc["lines"]
    totals = doc["totals"]
    goals = {g["id"]: g for g in doc["goals"]}
    pool = D(totals["pool"])
    assert pool == sum((D(ln["amount"]) for ln in lines), ZERO)
    assert amounts(totals["by_payer"]) == {k: v for k, v in by(lines, lambda ln: ln["payer"]).items()
                                           if k in totals["by_payer"]} and sum(amounts(totals["by_payer"]).values()) == pool
    recipients = collections.defaultdict(lambda: ZERO)
    for ln in lines:
        for party, v in ln["split"].items():
            recipients[party] += D(v)
    assert {k: v for k, v in recipients.items() if v or k in totals["by_recipient"]} == amounts(totals["by_recipient"])
    assert sum(amounts(totals["by_recipient"]).values(), ZERO) == pool
    after_goal = by(lines, lambda ln: ln["goal"], "after_goal_cap")
    for g, v in amounts(totals["goals"]).items():
        assert after_goal.get(g, ZERO) == v, g
    for g, v in amounts(totals["goal_cap_cut"]).items():
        cut = sum((D(ln["gross"]) - D(ln["after_goal_cap"]) for ln in lines if ln["goal"] == g), ZERO)
        assert cut == v, g
    assert D(totals["return_cap_cut"]) == sum((D(ln["after_goal_cap"]) - D(ln["amount"]) for ln in lines), ZERO)

    # periods
    assert sum((D(p["amount"]) for p in doc["periods"]), ZERO) == pool
    running = ZERO
    for p in doc["periods"]:
        running += D(p["amount"])
        assert D(p["cumulative"]) == running
        assert sum(amounts(p["by_goal"]).values(), ZERO) == D(p["amount"]) == sum(amounts(p["by_payer"]).values(), ZERO)
        assert sum(amounts(p["by_recipient"]).values(), ZERO) == D(p["amount"])
        mine = [ln for ln in lines if ln["period"] == p["period"]]
        assert sum((D(ln["amount"]) for ln in mine), ZERO) == D(p["amount"])

    # each line: steps only go down, splits add up
    for ln in lines:
        gross, after, amount = D(ln["gross"]), D(ln["after_goal_cap"]), D(ln["amount"])
        assert ZERO <= amount <= after <= gross or gross < ZERO, ln["id"]
        assert ln["cut"] == (amount != gross), ln["id"]
        assert sum(amounts(ln["split"]).values(), ZERO) == amount, ln["id"]
        if ln["tranche"]:
            assert sum((D(t["amount"]) for t in ln["tranche"]), ZERO) == amount, ln["id"]
            for t in ln["tranche"]:
                assert sum(amounts(t["split"]).values(), ZERO) == D(t["amount"]), ln["id"]

    # tranches: no tranche holds more than its size
    if doc["tranches"]:
        held = by((t | {"n": t["tranche"]} for ln in lines for t in ln["tranche"]), lambda t: t["n"])
        lower = ZERO
        for t in doc["tranches"]:
            if t["until"] is not None:
                assert held.get(t["number"], ZERO) <= D(t["until"]) - lower, t
                lower = D(t["until"])

    # caps of goals and payers, over the contract, per year and per subject
    seen = set()
    for g in goals.values():
        for cap in g.get("caps") or []:
            key = (cap["on"], cap["per"], cap["limit"], cap.get("clause"), g["payer"] if cap["on"] == "payer" else g["id"])
            if key in seen:
                continue
            seen.add(key)
            if cap["on"] == "payer":
                mine = [ln for ln in lines if goals[ln["goal"]]["payer"] == g["payer"]]
            else:
                mine = [ln for ln in lines if ln["goal"] == g["id"]]
            group = {None: lambda ln: None, "year": lambda ln: ln["date"][:4], "subject": lambda ln: ln["subject"]}[cap["per"]]
            for bucket, total in by(mine, group, "after_goal_cap").items():
                assert total <= D(cap["limit"]), (g["id"], cap, bucket, total)
        if g.get("cap") is not None:
            assert after_goal.get(g["id"], ZERO) <= D(g["cap"]), g["id"]
    rc = doc["return_cap"]
    if rc:
        capped = sum((D(ln["amount"]) for ln in lines if ln["goal"] in rc["goals"] and ln["payer"] == rc["payer"]), ZERO)
        assert capped <= D(rc["limit"])


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_totals_splits_and_caps(settled, case):
    check_money(settled(*case)[3])


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW_CASES, ids=_ids)
def test_totals_splits_and_caps_more_seeds(settled, case):
    check_money(settled(*case)[3])


def test_bundled_settlements_keep_the_money_rules():
    """The golden settlements beside the contracts (sample ledgers, full trails) obey the same rules."""
    golden = sorted((ROOT / "contracts").rglob("settlement.json"))
    assert golden
    for path in golden:
        check_money(json.loads(path.read_text(encoding="utf-8")))


# ---- rows accounted for ---------------------------------------------------------------------------


def check_rows(doc: dict, ledger: Path) -> None:
    files = {f.name: len(read_csv(f)) - 1 for f in ledger.iterdir() if f.suffix == ".csv"}
    assert set(doc["rows"]) == set(files)
    excluded = collections.Counter(r["file"] for r in doc["row_exclusions"])
    places = collections.Counter((r["file"], r["line"]) for r in doc["row_exclusions"])
    assert max(places.values(), default=1) == 1, "a row is excluded twice"
    for name, counts in doc["rows"].items():
        assert counts["total"] == files[name], name
        assert counts["used"] + counts["excluded"] == counts["total"], name
        assert counts["excluded"] == excluded.get(name, 0), name
    for r in doc["row_exclusions"]:
        assert r["reason"] in ROW_REASONS and r["detail"], r
        assert 2 <= r["line"] <= files[r["file"]] + 1, r


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_every_ledger_row_is_accounted_for(settled, case):
    _, ledger, _, doc = settled(*case)
    check_rows(doc, ledger)


@pytest.mark.parametrize("as_of", ["2024-06-30", "2025-06-30", "2026-12-31"])
def test_every_ledger_row_is_accounted_for_at_earlier_dates(settled, as_of):
    """Earlier settlement dates exclude rows as not yet due or not started: still all accounted for."""
    for d in CONTRACT_DIRS:
        contract, ledger, _, _ = settled(d, 11)
        check_rows(json.loads(settle_json(contract, ledger, "--no-trace", "--as-of", as_of)), ledger)


# ---- adding a success -----------------------------------------------------------------------------


def success_edits(ledger: Path, measure: str, point: str | None, value: str, count: int = 3) -> list[int]:
    """Indexes (in measurements.csv, header = 0) of up to `count` rows of `measure` that the edit changes."""
    table = read_csv(ledger / "measurements.csv")
    col_m, col_p, col_v = (table[0].index(c) for c in ("measure", "point", "value"))
    rows = [i for i, r in enumerate(table)
            if i and r[col_m] == measure and point in (None, r[col_p]) and r[col_v] != value]
    return rows[:: max(1, len(rows) // count)][:count]


def _adding_a_success(settled, tmp_path, directory, seed):
    contract, ledger, _, doc = settled(directory, seed)
    before = amounts(doc["totals"]["goals"])
    edits = 0
    for goal, measure, point, value in CONTRACTS[directory.name][1]:
        for k, i in enumerate(success_edits(ledger, measure, point, value)):
            edited = copy_ledger(ledger, tmp_path / f"{goal}-{k}")
            table = read_csv(edited / "measurements.csv")
            table[i][table[0].index("value")] = value
            write_csv(edited / "measurements.csv", table)
            after = amounts(json.loads(settle_json(contract, edited, "--no-trace"))["totals"]["goals"])
            assert after[goal] >= before[goal], (goal, measure, table[i])
            edits += 1
    assert edits, "no row to edit: the generator's ledger has no row that is not already a success"


#: The contracts with edits that add a success (not those paying on a comparison of groups).
MONOTONE = [case for case in CASES if CONTRACTS[case[0].name][1] is not None]


@pytest.mark.parametrize("case", MONOTONE[::2], ids=_ids)
def test_adding_a_success_never_lowers_its_goal(settled, tmp_path, case):
    _adding_a_success(settled, tmp_path, *case)


@pytest.mark.slow
@pytest.mark.parametrize("case", MONOTONE[1::2], ids=_ids)
def test_adding_a_success_never_lowers_its_goal_more_seeds(settled, tmp_path, case):
    _adding_a_success(settled, tmp_path, *case)
