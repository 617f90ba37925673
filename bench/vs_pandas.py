"""Benchmark: `contractlang settle` beside the pandas script an evaluator would write instead.

    .venv/bin/python bench/vs_pandas.py                                   # 140k persons, the issue's ledger
    .venv/bin/python bench/vs_pandas.py --households 290000 --control 90000 --no-pandas   # about 1 M persons
    .venv/bin/python bench/vs_pandas.py --trails --explain --repeat 3

The peer is `../shared/bench/pandas_viborg.py` (Viborg's totals only, integer øre); it
runs in a scratch virtual environment with pandas and numpy, made on first use
(`--pandas-venv`, default /tmp/contractlang-pandas-venv) so that the project's own
environment never depends on pandas.

The ledger is made by contracts/viborg/make_ledger.py (default: --households 40000
--control 12000 --seed 5, about 140,000 persons and 1.4 M measurement rows) and kept
in --workdir for the next run. Each command runs as a subprocess of its own, --repeat
times; the table shows the best wall time and the largest peak resident memory
(`wait4`'s ru_maxrss, the process's own). The commands:

  pandas    pandas_viborg.py LEDGER --as-of 2028-10-31        (totals only)
  json      contractlang settle --format json -o FILE          (every line, compact)
  trails    contractlang settle --format json --trails -o FILE (every line's audit trail)  [--trails]
  explain   contractlang explain CONTRACT LINE                 (one line's trail)          [--explain]
            (the first employment line; explain-imputed and explain-cut: the first imputed line and
            the first line a cap cuts, of a goal paid per subject; explain-cohort: the first line of the
            comparison goal, whose trail reads every member of its cohort. The engine settles and
            records the trail of the line's subject alone: contractlang/explain_line.py)

The totals of the settlement (per goal, per payer, per recipient, the return cap's cut,
imputed lines per goal) are compared with the script's; a difference fails the run
(exit 1). Ratios are contractlang's time over the script's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "contracts" / "viborg" / "viborg.contract"
GENERATOR = ROOT / "contracts" / "viborg" / "make_ledger.py"
PANDAS_SCRIPT = ROOT.parent / "shared" / "bench" / "pandas_viborg.py"
AS_OF = "2028-10-31"
COMPARED = ("goals", "by_payer", "by_recipient", "return_cap_cut", "imputed")


def run(argv: list[str], timeout: float, stdout=subprocess.DEVNULL) -> dict:
    """Run one command; its wall time, its own peak memory and exit status."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            return {"seconds": None, "peak_mb": usage.ru_maxrss / 1024, "error": f"over {timeout:.0f} s"}
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    out = {"seconds": round(seconds, 2), "peak_mb": round(usage.ru_maxrss / 1024)}
    if code != 0:
        out["error"] = f"exit {code}: {err.strip()[-400:]}"
    return out


def best(runs: list[dict]) -> dict:
    ok = [r for r in runs if r.get("seconds") is not None and "error" not in r]
    if not ok:
        return runs[-1]
    return {"seconds": min(r["seconds"] for r in ok), "peak_mb": max(r["peak_mb"] for r in ok), "runs": len(ok)}


def ledger(args) -> Path:
    if args.ledger:
        return args.ledger
    out = args.workdir / f"viborg-h{args.households}-c{args.control}-s{args.seed}"
    if not (out / "measurements.csv").exists():
        print(f"generating {out} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(GENERATOR), "--households", str(args.households), "--control",
                        str(args.control), "--seed", str(args.seed), "--out", str(out)], check=True,
                       stdout=subprocess.DEVNULL)
    return out


def pandas_python(venv: Path) -> str:
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import pandas, numpy"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return str(python)
    print(f"making a scratch environment with pandas in {venv} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "pandas", "numpy"], check=True)
    return str(python)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ledger", type=Path, help="an existing Viborg-shaped ledger (instead of generating one)")
    ap.add_argument("--households", type=int, default=40000)
    ap.add_argument("--control", type=int, default=12000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/contractlang-bench"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900, help="seconds per command before it counts as failed")
    ap.add_argument("--pandas-venv", type=Path, default=Path("/tmp/contractlang-pandas-venv"))
    ap.add_argument("--pandas-script", type=Path, default=PANDAS_SCRIPT)
    ap.add_argument("--no-pandas", action="store_true", help="time contractlang only (e.g. at 1 M persons)")
    ap.add_argument("--trails", action="store_true", help="time settle --trails too")
    ap.add_argument("--explain", action="store_true", help="time explain of single lines too (an employment line, an imputed one, a cut one, a cohort's)")
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    led = ledger(args)
    persons = sum(1 for _ in (led / "persons.csv").open("rb")) - 1
    rows = sum(1 for _ in (led / "measurements.csv").open("rb")) - 1
    cl = str(Path(sys.executable).with_name("contractlang"))
    settle = [cl, "settle", str(CONTRACT), "--ledger", str(led), "--as-of", AS_OF, "--format", "json"]
    out_json, out_trails = args.workdir / "settlement.json", args.workdir / "settlement-trails.json"
    results: dict[str, dict] = {}

    if not args.no_pandas:
        if not args.pandas_script.exists():
            print(f"bench: the pandas script is not at {args.pandas_script} (--pandas-script)", file=sys.stderr)
            return 2
        py, totals_file = pandas_python(args.pandas_venv), args.workdir / "pandas-totals.json"
        runs = []
        for _ in range(args.repeat):
            with totals_file.open("wb") as fh:
                runs.append(run([py, str(args.pandas_script), str(led), "--as-of", AS_OF], args.timeout, stdout=fh))
        results["pandas"] = best(runs)
    results["json"] = best([run(settle + ["-o", str(out_json)], args.timeout) for _ in range(args.repeat)])
    if args.trails:
        results["trails"] = best([run(settle + ["--trails", "-o", str(out_trails)], args.timeout)
                                  for _ in range(args.repeat)])
    explained: dict[str, str] = {}  # bench row -> the line it explains
    if "error" not in results["json"]:
        with out_json.open(encoding="utf-8") as fh:
            for text in fh:  # each line record is one line of the document: no need to parse all of it
                if '"after_goal_cap"' not in text:
                    continue
                record = json.loads(text.strip().rstrip(","))
                cohort = record["goal"] == "school_absence"
                for name, wanted in (("explain", record["goal"] == "employment"),
                                     ("explain-imputed", record["imputed"] and not cohort),
                                     ("explain-cut", record["cut"] and not cohort), ("explain-cohort", cohort)):
                    if wanted and name not in explained:
                        explained[name] = record["id"]
                if len(explained) == 4:
                    break
    if args.explain:
        for name, lid in explained.items():
            results[name] = best([run([cl, "explain", str(CONTRACT), lid, "--ledger", str(led), "--as-of", AS_OF],
                                      args.timeout) for _ in range(args.repeat)])

    status = 0
    agree = None
    if "pandas" in results and "error" not in results["pandas"] and "error" not in results["json"]:
        theirs = json.loads(totals_file.read_text(encoding="utf-8"))["totals"]
        ours = json.loads(out_json.read_text(encoding="utf-8"))["totals"]
        differ = [k for k in COMPARED if ours.get(k) != theirs.get(k)]
        agree = not differ
        if differ:
            status = 1
            for k in differ:
                print(f"totals differ in {k}: contractlang {ours.get(k)} / pandas {theirs.get(k)}", file=sys.stderr)

    base = results.get("pandas", {}).get("seconds") if "error" not in results.get("pandas", {"error": 1}) else None
    print(f"ledger {led}: {persons:,} persons, {rows:,} measurement rows; best of {args.repeat}")
    print(f"{'command':<16}{'seconds':>10}{'peak MB':>10}{'ratio':>8}")
    for name, r in results.items():
        secs = r.get("seconds")
        ratio = f"{secs / base:.2f}x" if base and secs else ""
        print(f"{name:<16}{secs if secs is not None else '-':>10}{r.get('peak_mb', '-'):>10}{ratio:>8}"
              + (f"   {r['error']}" if "error" in r else ""))
    if agree is not None:
        print("totals: " + ("equal to the pandas script's" if agree else "DIFFERENT from the pandas script's"))
    for name, lid in explained.items():
        if name in results:
            print(f"{name}: line {lid}")
    print(json.dumps({"persons": persons, "measurement_rows": rows, "results": results, "totals_equal": agree,
                      "cpu_count": os.cpu_count(), "max_rss_limit": resource.getrlimit(resource.RLIMIT_AS)[0]},
                     sort_keys=True))
    if any("error" in r for r in results.values()):
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
