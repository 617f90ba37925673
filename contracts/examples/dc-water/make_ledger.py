"""Write the sample ledger of the DC Water example (LEDGER.md format): one household, the green infrastructure
project, started at the bond's closing, and its one measurement, the runoff reduction found before the tender.

The measured reduction is not public; the sources say only that the bond was repaid in full with no penalty,
the middle tier. `--reduction` writes another value (the tests use 45 and 15 for the other tiers).

    python contracts/examples/dc-water/make_ledger.py [--out DIR] [--reduction PERCENT]
"""

from __future__ import annotations

import argparse
import csv
import pathlib

REDUCTION = "31.5"  # invented, within the middle tier (18.6 % to 41.3 %)
FILES = {
    "households.csv": [("household_id", "group", "start_date", "end_date", "end_reason", "replaces", "cohort"),
                       ("RockCreek", "intervention", "2016-09-29", "", "", "", "")],
    "persons.csv": [("person_id", "household_id", "birth_date", "school_grade")],
}


def generate(out_dir, reduction: str = REDUCTION, seed: int = 0) -> dict:
    """Write the ledger (`seed` is accepted for the generic tests and changes nothing: there is no chance)."""
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = {**FILES, "measurements.csv": [("subject_id", "measure", "point", "date", "value"),
                                          ("RockCreek", "runoff_reduction", "tender", "2021-03-29", reduction)]}
    for name, table in rows.items():
        with (out / name).open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(table)
    return {name: len(table) - 1 for name, table in rows.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent / "ledger"))
    ap.add_argument("--reduction", default=REDUCTION)
    args = ap.parse_args(argv)
    print(generate(args.out, args.reduction))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
