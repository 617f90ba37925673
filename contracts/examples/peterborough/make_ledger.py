"""Generate the sample ledger of the Peterborough example (LEDGER.md format, with the contract's attribute
`match_weight` in persons.csv).

Two cohorts of short-sentence prisoners released from HMP Peterborough (cohort 1 from September 2010, cohort 2
from June 2012), each prisoner matched to 1, 2 or 4 prisoners of the national comparison group, each of whom
counts 1, 1/2 or 1/4 in the comparison group's mean (`match_weight`; a prisoner counts 1). Each person's
reconviction events are drawn around a rate per cohort and group; the rates are invented (the published
results are rates per 100, not the events), chosen so that cohort 1 falls short of the 10 % threshold, as it
did (it reduced reconvictions by 8.4 %), while cohort 2 reaches it, so that the pooled final payment is paid less an early one. One
``random.Random(seed)`` drives everything: the same arguments give byte-identical files.

    python contracts/examples/peterborough/make_ledger.py [--out DIR] [--prisoners N] [--seed N]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import pathlib
import random

HEADERS = {
    "cohorts.csv": ("cohort", "start_date"),
    "households.csv": ("household_id", "group", "start_date", "end_date", "end_reason", "replaces", "cohort"),
    "persons.csv": ("person_id", "household_id", "birth_date", "school_grade", "match_weight"),
    "measurements.csv": ("subject_id", "measure", "point", "date", "value"),
}
COHORTS = {"c1": dt.date(2010, 9, 1), "c2": dt.date(2012, 6, 1)}
#: Reconviction events per prisoner, by cohort: (prisoners of Peterborough, the comparison group).
RATES = {"c1": (1.43, 1.55), "c2": (1.40, 1.56)}
SHARE = {"c1": 0.55, "c2": 0.45}  # of the prisoners, by cohort
MISSING = 0.01  # a prisoner with no record of reconvictions (not counted in the means)
MEASURED_MONTHS = 42  # reconvictions counted at the cohort's start + 42 months (the contract's point)


def _poisson(rng: random.Random, rate: float) -> int:
    """A Poisson draw (Knuth), enough for rates near 1.5."""
    limit, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def generate(out_dir, prisoners: int = 1800, seed: int = 2023) -> dict:
    rng = random.Random(seed)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = {name: [] for name in HEADERS}
    rows["cohorts.csv"] = [(c, start.isoformat()) for c, start in COHORTS.items()]
    n = 0

    def person(group: str, cohort: str, weight: str) -> None:
        nonlocal n
        n += 1
        hid, pid = f"H{n:05}", f"P{n:05}"
        start = COHORTS[cohort] + dt.timedelta(days=rng.randrange(0, 600))
        rows["households.csv"].append((hid, group, start.isoformat(), "", "", "", cohort))
        birth = dt.date(start.year - rng.randint(18, 50), rng.randint(1, 12), rng.randint(1, 28))
        rows["persons.csv"].append((pid, hid, birth.isoformat(), "", weight))
        if rng.random() >= MISSING:
            rate = RATES[cohort][group == "control"]
            measured = dt.date(COHORTS[cohort].year + (COHORTS[cohort].month - 1 + MEASURED_MONTHS) // 12,
                               (COHORTS[cohort].month - 1 + MEASURED_MONTHS) % 12 + 1, 1)
            rows["measurements.csv"].append((pid, "reconvictions", "measured", measured.isoformat(),
                                             str(_poisson(rng, rate))))

    for cohort, share in SHARE.items():
        for _ in range(round(prisoners * share)):
            person("intervention", cohort, "1")
            k = rng.choice((1, 2, 4))
            for _ in range(k):
                person("control", cohort, {1: "1", 2: "0.5", 4: "0.25"}[k])
    for name, header in HEADERS.items():
        with (out / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows[name])
    return {name: len(r) for name, r in rows.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent / "ledger"))
    ap.add_argument("--prisoners", type=int, default=1800)
    ap.add_argument("--seed", type=int, default=2023)
    args = ap.parse_args(argv)
    print(generate(args.out, args.prisoners, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
