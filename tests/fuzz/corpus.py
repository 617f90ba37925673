"""The bundled inputs the fuzzer starts from: every contract in `contracts/` and a small slice of its ledger.

Ledgers are cut down to a few households (with their persons, measurements and
every cohort) so that one settlement takes milliseconds, not seconds.
"""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
LEDGER_FILES = ("households.csv", "persons.csv", "cohorts.csv", "measurements.csv")


@functools.cache
def contract_dirs() -> tuple[Path, ...]:
    """Each bundled contract's directory (the one holding `ledger/`), sorted."""
    return tuple(sorted(p.parent for p in CONTRACTS.rglob("ledger") if p.is_dir()))


@functools.cache
def contract_files() -> tuple[Path, ...]:
    """Every bundled contract file, DSL and YAML, sorted."""
    return tuple(sorted(p for d in contract_dirs() for p in d.iterdir() if p.suffix in (".contract", ".yaml")))


def dsl_file(directory: Path) -> Path:
    return next(p for p in sorted(directory.iterdir()) if p.suffix == ".contract")


@functools.cache
def read_ledger(directory: Path) -> dict[str, list[list[str]]]:
    """The bundled ledger of a contract directory as rows (header first) per file."""
    out = {}
    for name in LEDGER_FILES:
        path = directory / "ledger" / name
        if path.exists():
            out[name] = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    return out


def slice_ledger(directory: Path, households: int, offset: int) -> dict[str, list[list[str]]]:
    """A consistent slice: `households` households spread over the ledger, and what refers to them."""
    full = read_ledger(directory)
    hh = full["households.csv"]
    header, rows = hh[0], hh[1:]
    step = max(1, len(rows) // max(1, households))
    chosen = [rows[(offset + k * step) % len(rows)] for k in range(min(households, len(rows)))]
    chosen = list({r[0]: r for r in chosen}.values())
    ids = {r[0] for r in chosen}
    rep = header.index("replaces") if "replaces" in header else None
    if rep is not None:  # a replaced household outside the slice would dangle
        chosen = [r[:rep] + ([r[rep]] if r[rep] in ids else [""]) + r[rep + 1:] for r in chosen]
    out = {"households.csv": [header] + chosen}
    if "persons.csv" in full:
        ph = full["persons.csv"]
        out["persons.csv"] = [ph[0]] + [r for r in ph[1:] if r[1] in ids]
    subjects = ids | {r[0] for r in out.get("persons.csv", [[]])[1:]}
    if "cohorts.csv" in full:
        out["cohorts.csv"] = full["cohorts.csv"]
    if "measurements.csv" in full:
        mh = full["measurements.csv"]
        out["measurements.csv"] = [mh[0]] + [r for r in mh[1:] if r[0] in subjects]
    return out


def to_csv(rows: list[list[str]], newline: str = "\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue()
