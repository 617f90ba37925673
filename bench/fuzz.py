"""Fuzz the `contractlang` command for N minutes of CPU; or replay recorded reproducers.

    .venv/bin/python bench/fuzz.py --minutes 10 --target all          # every target, CPU shared equally
    .venv/bin/python bench/fuzz.py --minutes 2 --target settle --out /tmp/fuzz-out
    .venv/bin/python bench/fuzz.py --replay tests/fuzz/findings/       # does each reproducer still fail?

The strategies are those of the quick run in the test suite (tests/fuzz/strategies.py),
here without its exclusions: contract files (mutated bundled contracts and generated
ones), ledgers (mutated slices of the bundled ledgers) and command-line options
(formats, --lang, --as-of, -o to a file, a directory, /dev/full, a missing parent). Each
input runs in-process through `contractlang.cli.main(argv)` under a wall-clock alarm;
every --subprocess-every'th input, and every input that may read without limit
(/dev/zero), runs in a fresh interpreter with memory, file-size and time limits. The
oracle is tests/fuzz/harness.py's `judge`: no traceback, no hang, exit code in
{0, 1, 2}, located diagnostics on exit 1, no `-o` file after a failure, a whole
document (JSON parses, xlsx opens without formula cells) on success.

Per target it prints the inputs tried, the failing inputs, and the distinct failure
signatures (target | kind | exception@module:function); the first reproducers of each
signature are written to --out as JSON, replayable with --replay.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from tests.fuzz import harness  # noqa: E402
from tests.fuzz.strategies import TARGETS, cases  # noqa: E402

REPRODUCERS_PER_SIGNATURE = 2


class _Budget(BaseException):
    """The target's CPU budget is spent (a BaseException, so Hypothesis lets it through)."""


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (subprocess runs count too)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def fuzz_target(target: str, budget: float, out: Path, subprocess_every: int, rng_seed: int, verbose: bool) -> dict:
    """Run cases for `target` until `budget` CPU seconds are spent; return its figures."""
    stats = collections.Counter()
    signatures: dict[str, dict] = {}
    start_cpu, start_wall = cpu_seconds(), time.monotonic()
    wall_limit = 3 * budget + 60  # hangs cost wall time, not CPU: bound them too

    @seed(rng_seed)
    @settings(max_examples=10**9, deadline=None, database=None, phases=[Phase.generate], print_blob=False,
              suppress_health_check=list(HealthCheck))
    @given(cases(target))
    def one(case):
        if cpu_seconds() - start_cpu > budget or time.monotonic() - start_wall > wall_limit:
            raise _Budget()
        stats["tried"] += 1
        sub = case.get("subprocess_only") or (subprocess_every and stats["tried"] % subprocess_every == 0)
        stats["subprocess"] += bool(sub)
        res, fails = harness.run_case(case, subprocess_mode=bool(sub))
        stats["exit_" + str(res.exit)] += 1
        if fails:
            stats["failing"] += 1
        for f in {f.signature: f for f in fails}.values():
            entry = signatures.setdefault(f.signature, {"count": 0, "kind": f.kind, "detail": f.detail, "files": []})
            entry["count"] += 1
            if len(entry["files"]) < REPRODUCERS_PER_SIGNATURE:
                entry["files"].append(str(harness.write_reproducer(out, case, f, res)))
                if verbose:
                    print(f"  new: {f.signature}  {f.detail[:120]}", flush=True)

    try:
        one()
    except _Budget:
        pass
    return {"target": target, "tried": stats["tried"], "failing": stats["failing"],
            "distinct": len(signatures), "subprocess": stats["subprocess"],
            "exits": {k[5:]: v for k, v in sorted(stats.items()) if k.startswith("exit_")},
            "cpu_s": round(cpu_seconds() - start_cpu, 1), "wall_s": round(time.monotonic() - start_wall, 1),
            "signatures": signatures}


def replay(path: Path, force_subprocess: bool) -> int:
    """Run every reproducer again; print whether it still fails. Exit 1 if any does."""
    records = harness.load_reproducers(path)
    still = 0
    for rec in records:
        res, fails = harness.run_case(rec["case"], subprocess_mode=force_subprocess)
        sigs = sorted({f.signature for f in fails})
        if not fails:
            status = "passes now"
        elif rec.get("signature") in sigs:
            status = "still fails"
            still += 1
        else:
            status = "fails differently: " + "; ".join(sigs)
            still += 1
        print(f"{status:12} exit={res.exit!s:4} {Path(rec['path']).name}  [{rec.get('signature')}]")
        for f in fails:
            print(f"             {f.kind}: {f.detail[:160]}")
    print(f"{len(records)} reproducer(s): {still} still failing, {len(records) - still} passing")
    return 1 if still else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=1.0, help="CPU minutes in all, shared equally by the targets")
    ap.add_argument("--target", default="all", choices=(*TARGETS, "all"))
    ap.add_argument("--out", type=Path, default=Path("fuzz-findings"), help="directory for reproducers")
    ap.add_argument("--seed", type=int, default=int(time.time()), help="Hypothesis seed (default: the clock)")
    ap.add_argument("--subprocess-every", type=int, default=25, metavar="K",
                    help="run every K-th input as a subprocess too (0: never, except unbounded readers)")
    ap.add_argument("--replay", type=Path, metavar="PATH", help="replay reproducer JSON files (a file or a directory)")
    ap.add_argument("--subprocess", action="store_true", help="with --replay: run each in a subprocess")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each new signature as it is found")
    args = ap.parse_args(argv)
    if args.replay:
        return replay(args.replay, args.subprocess)
    targets = TARGETS if args.target == "all" else (args.target,)
    budget = args.minutes * 60 / len(targets)
    print(f"fuzzing {', '.join(targets)}: {budget:.0f} CPU s each, seed {args.seed}, reproducers in {args.out}/",
          flush=True)
    results = []
    for t in targets:
        r = fuzz_target(t, budget, args.out, args.subprocess_every, args.seed, args.verbose)
        results.append(r)
        print(f"{t:8} tried {r['tried']:6}  failing {r['failing']:5}  distinct {r['distinct']:3}  "
              f"subprocess {r['subprocess']:4}  exits {r['exits']}  cpu {r['cpu_s']} s  wall {r['wall_s']} s", flush=True)
    print()
    print(f"{'target':8} {'tried':>7} {'failing':>8} {'distinct':>9}")
    for r in results:
        print(f"{r['target']:8} {r['tried']:7} {r['failing']:8} {r['distinct']:9}")
    print(f"{'all':8} {sum(r['tried'] for r in results):7} {sum(r['failing'] for r in results):8} "
          f"{len({s for r in results for s in r['signatures']}):9}")
    print("\ndistinct failure signatures:")
    for r in results:
        for sig, e in sorted(r["signatures"].items(), key=lambda kv: -kv[1]["count"]):
            print(f"  {e['count']:5}  {sig}\n         {e['detail'][:150]}\n         {e['files'][0]}")
    if args.json:
        print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
