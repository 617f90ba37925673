"""Benchmark: settle Viborg-shaped ledgers of growing size; report wall time and peak memory.

    .venv/bin/python bench/settle_scale.py                 # 1k, 10k, 100k persons
    .venv/bin/python bench/settle_scale.py --sizes 1000000 # add the 1M run (several GB of CSV in a temp dir)

Each size runs in a fresh subprocess so peak memory (ru_maxrss) is its own.
It times `settle` with the audit trail (the default) and without (`--no-trace`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERSONS_PER_HOUSEHOLD = 2.55  # the generator's mean household size


def _generator():
    spec = importlib.util.spec_from_file_location("make_ledger", ROOT / "contracts" / "viborg" / "make_ledger.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_CHILD = r"""
import resource, sys, time
from contractlang import load
from contractlang.evaluate import settle
from contractlang.ledger import load_ledger
c = load(sys.argv[1])
t0 = time.perf_counter(); L = load_ledger(sys.argv[2], c); t1 = time.perf_counter()
doc = settle(c, L, trace=sys.argv[3] == "trace"); t2 = time.perf_counter()
print(t1 - t0, t2 - t1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, len(doc["lines"]))
"""


def run(persons: int, workdir: Path) -> dict:
    households = max(3, round(persons / PERSONS_PER_HOUSEHOLD))
    ledger = workdir / f"ledger_{persons}"
    t = time.perf_counter()
    counts = _generator().generate(ledger, households=households, control_households=max(60, households // 3))
    gen = time.perf_counter() - t
    result = {"persons_target": persons, **counts, "generate_s": round(gen, 1)}
    for mode in ("trace", "no-trace"):
        out = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT / "contracts/viborg/viborg.contract"),
                              str(ledger), mode], capture_output=True, text=True, check=True).stdout.split()
        load_s, settle_s, rss_mb, lines = float(out[0]), float(out[1]), float(out[2]), int(out[3])
        result[mode] = {"load_s": round(load_s, 2), "settle_s": round(settle_s, 2),
                        "total_s": round(load_s + settle_s, 2), "peak_mb": round(rss_mb), "lines": lines}
    result["trace_overhead"] = round(result["trace"]["settle_s"] / max(result["no-trace"]["settle_s"], 1e-9), 2)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for persons in args.sizes:
            print(json.dumps(run(persons, Path(tmp))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
