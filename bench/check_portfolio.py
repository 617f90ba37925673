"""Benchmark: generate a portfolio of contract files and time `contractlang check` over them.

    .venv/bin/python bench/check_portfolio.py            # 1,000 contracts
    .venv/bin/python bench/check_portfolio.py --count 5000

The contracts are variations of the Viborg contract (renamed, with different
rates, caps and thresholds), so every construct of the language is exercised.
The timing is of one `contractlang check DIR` process, start-up included
(files are checked in parallel, one process per CPU; `--jobs 1` to compare).
Then it times `contractlang check` on broken files (10 MB, truncated, binary,
deeply nested), which must be refused with a located error and exit 1.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_portfolio(directory: Path, count: int, seed: int = 1) -> None:
    base = (ROOT / "contracts" / "viborg" / "viborg.contract").read_text(encoding="utf-8")
    rng = random.Random(seed)
    for i in range(count):
        text = base.replace("contract viborg_relationel_velfaerd", f"contract portfolio_{i:05}")
        text = text.replace("pay 8_600 DKK", f"pay {rng.randint(5, 12)}_{rng.randint(0, 999):03} DKK")
        text = text.replace("cap school_absence 1_400_000 DKK", f"cap school_absence {rng.randint(1, 3)}_000_000 DKK")
        (directory / f"c{i:05}.contract").write_text(text, encoding="utf-8")


def broken_files(directory: Path) -> list[Path]:
    """Files that must be refused fast: 10 MB, truncated, binary, deeply nested."""
    text = (ROOT / "contracts" / "viborg" / "viborg.contract").read_bytes()
    cases = {
        "ten_mb": (text * (10_000_000 // len(text) + 1))[:10_000_000],
        "truncated": text[:len(text) // 2],
        "binary": bytes(range(256)) * 64,
        "nested": b'contract x "X"\nfigure f = ' + b"(" * 5000 + b"1" + b")" * 5000 + b"\n",
        "control_nested_60_deep": b'contract x "X"\nfigure f = ' + b"(" * 60 + b"1" + b")" * 60 + b"\n",
    }
    out = []
    for name, data in cases.items():
        path = directory / f"{name}.contract"
        path.write_bytes(data)
        out.append(path)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        make_portfolio(Path(tmp), args.count)
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "contractlang.cli", "check", "--no-notes", "--format", "json", tmp],
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - t
    print(f"checked {args.count} contracts in {elapsed:.2f} s (exit {proc.returncode}; "
          f"{elapsed / args.count * 1000:.1f} ms per contract)")
    with tempfile.TemporaryDirectory() as tmp:
        for path in broken_files(Path(tmp)):
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "contractlang.cli", "check", str(path)],
                                  capture_output=True, text=True)
            elapsed = time.perf_counter() - t
            first = (proc.stdout.splitlines() or ["(no output)"])[0].replace(tmp + "/", "")
            print(f"{path.name:40} exit {proc.returncode} in {elapsed:.2f} s (start-up included): {first[:90]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
