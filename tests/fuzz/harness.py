"""Run one fuzz case through the `contractlang` command and judge the result.

A *case* is a plain JSON-able dict, so that a failing input can be written out
as a reproducer and replayed later:

    {"target": "settle",                       # check | fmt | convert | settle | explain
     "files": {"contract.contract": {"text": "..."},          # or {"b64": "..."} for bytes,
               "ledger/households.csv": {"text": "..."},       # or {"special": "fifo" | "dir" |
               "ledger/cohorts.csv": {"special": "fifo"}},     #     "devzero" | "dangling"}
     "argv": ["settle", "{dir}/contract.contract", "--ledger", "{dir}/ledger", "-o", "{dir}/out.json"],
     "subprocess_only": false,                # true for inputs that may read without limit
     "note": ["what was done to the bundled input", ...]}

`{dir}` in argv is replaced by a fresh working directory holding the files.

The oracle (`judge`) is the promise of README.md and issue 12: no traceback, no
hang, an exit code in {0, 1, 2}, located diagnostics on exit 1, no partial
output (no `-o` file after a failure, no half document on stdout), and on
success a whole document (JSON parses, xlsx opens with openpyxl, without
formula cells but the totals under its tables; HTML without live injected markup; a CSV table has its header and
rows of one length; Parquet opens with Polars). Only the public entry point
`contractlang.cli.main(argv)` is used, so the harness survives an engine rewrite.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import attrs

#: Seconds one input may take before the harness calls it a hang.
TIME_LIMIT = 10.0
#: Limits of a subprocess run: address space and size of any file it writes.
SUBPROCESS_MEMORY = 2 << 30
SUBPROCESS_FILE_SIZE = 512 << 20

# Markers the strategies inject into titles and ids; none may come out live.
SCRIPT_MARKER = "<script>alert(1)</script>"
IMG_MARKER = "<img src=x onerror=alert(1)>"

_LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?:error|warning)\[CL\d{3}\]")
_DIAG = re.compile(r"(?:^|: )(?P<sev>error|warning)\[(?P<code>CL\d{3})\]: ?(?P<msg>.*)$")
# Exit 1 messages that are not diagnostics about a place in a file (the last: an output that could
# not be written, which names the output and promises that nothing of it was left behind).
_EXIT1_MESSAGES = ("not in canonical form", "no payment line", "not rewritten", "; nothing was written")


class FuzzTimeout(BaseException):
    """Raised in the main thread by the harness's alarm; a BaseException so no `except Exception` eats it."""


@attrs.define
class Result:
    """What one run of the command did."""

    exit: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    exception: str | None = None      # the uncaught exception's formatted traceback (in-process runs)
    where: str | None = None          # "module:function" of the innermost contractlang frame
    timed_out: bool = False
    mode: str = "inprocess"


@attrs.frozen
class Failure:
    """One broken promise; `signature` groups failures that are one defect."""

    kind: str
    detail: str
    signature: str


# ---- materialising a case --------------------------------------------------------------------------


def encode_bytes(data: bytes) -> dict:
    """A file's content as JSON: text when it is UTF-8 without a BOM, else base64."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(data).decode("ascii")}
    if text.startswith("\ufeff") or "\r" in text:
        return {"b64": base64.b64encode(data).decode("ascii")}
    return {"text": text}


def file_bytes(spec: dict) -> bytes | None:
    if "text" in spec:
        return spec["text"].encode("utf-8")
    if "b64" in spec:
        return base64.b64decode(spec["b64"])
    return None


def materialize(case: dict, directory: Path) -> list[str]:
    """Write the case's files under `directory`; return argv with `{dir}` filled in."""
    for rel, spec in case["files"].items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        special = spec.get("special")
        if special is None:
            path.write_bytes(file_bytes(spec))
        elif special == "dir":
            path.mkdir()
            (path / "inner.csv").write_text("x\n", encoding="utf-8")
        elif special == "fifo":
            os.mkfifo(path)
        elif special == "devzero":
            path.symlink_to("/dev/zero")
        elif special == "devnull":
            path.symlink_to("/dev/null")
        elif special == "dangling":
            path.symlink_to(directory / "no-such-target")
        else:
            raise ValueError(f"unknown special file {special!r}")
    for extra in case.get("dirs", ()):
        (directory / extra).mkdir(parents=True, exist_ok=True)
    return [a.replace("{dir}", str(directory)) for a in case["argv"]]


def output_target(case: dict, directory: Path) -> Path | None:
    """The `-o` file the case asks for, when it is one the harness created the directory for."""
    argv = case["argv"]
    for flag in ("-o", "--output"):
        if flag in argv[:-1]:
            value = argv[argv.index(flag) + 1]
            if value.startswith("{dir}/"):
                return Path(value.replace("{dir}", str(directory)))
    return None


# ---- running ---------------------------------------------------------------------------------------


def _alarm(signum, frame):
    raise FuzzTimeout()


def _innermost_contractlang(tb) -> str | None:
    frames = traceback.extract_tb(tb)
    for fr in reversed(frames):
        norm = fr.filename.replace(os.sep, "/")
        if "/contractlang/" in norm and "/tests/" not in norm:
            return f"{Path(fr.filename).stem}:{fr.name}"
    return f"{Path(frames[-1].filename).stem}:{frames[-1].name}" if frames else None


def run_inprocess(argv: list[str], time_limit: float = TIME_LIMIT) -> Result:
    """Call `contractlang.cli.main(argv)` with stdout/stderr captured and a wall-clock alarm."""
    from contractlang.cli import main

    out_b, err_b = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_b, encoding="utf-8", errors="backslashreplace", write_through=True)
    err = io.TextIOWrapper(err_b, encoding="utf-8", errors="backslashreplace", write_through=True)
    saved = sys.stdout, sys.stderr
    old_handler = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    start = time.perf_counter()
    res = Result(exit=None, stdout=b"", stderr=b"", seconds=0.0)
    sys.stdout, sys.stderr = out, err
    try:
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        res.exit = code if isinstance(code, int) else None
    except FuzzTimeout:
        res.timed_out = True
    except BaseException as exc:  # noqa: BLE001 - the point is to see every uncaught exception
        if isinstance(exc, KeyboardInterrupt):
            raise
        res.exception = "".join(traceback.format_exception(exc))
        res.where = f"{type(exc).__name__}@{_innermost_contractlang(exc.__traceback__)}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        with contextlib.suppress(Exception):
            out.flush()
            err.flush()
        sys.stdout, sys.stderr = saved
    res.seconds = time.perf_counter() - start
    res.stdout, res.stderr = out_b.getvalue(), err_b.getvalue()
    return res


_RUNNER = "import sys\nfrom contractlang.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def _limits():  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (SUBPROCESS_MEMORY, SUBPROCESS_MEMORY))
    resource.setrlimit(resource.RLIMIT_FSIZE, (SUBPROCESS_FILE_SIZE, SUBPROCESS_FILE_SIZE))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG instead of a kill


def run_subprocess(argv: list[str], time_limit: float = TIME_LIMIT) -> Result:
    """Run the command in a fresh interpreter with memory, file-size and time limits."""
    start = time.perf_counter()
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    try:
        proc = subprocess.run([sys.executable, "-c", _RUNNER, *argv], capture_output=True, timeout=time_limit,
                              preexec_fn=_limits, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        return Result(exit=None, stdout=exc.stdout or b"", stderr=exc.stderr or b"",
                      seconds=time.perf_counter() - start, timed_out=True, mode="subprocess")
    res = Result(exit=proc.returncode, stdout=proc.stdout, stderr=proc.stderr,
                 seconds=time.perf_counter() - start, mode="subprocess")
    if b"Traceback (most recent call last)" in proc.stderr:
        text = proc.stderr.decode("utf-8", "replace")
        last = [ln for ln in text.splitlines() if ln and not ln.startswith(" ")][-1:]
        frames = re.findall(r'File "([^"]+)", line \d+, in (\S+)', text)
        inner = next((f"{Path(f).stem}:{fn}" for f, fn in reversed(frames) if "/contractlang/" in f), None)
        etype = last[0].split(":")[0].rsplit(".", 1)[-1] if last else "?"  # decimal.InvalidOperation -> InvalidOperation
        res.exception = text
        res.where = f"{etype}@{inner}"
    return res


# ---- the oracle ------------------------------------------------------------------------------------


def _fail(case: dict, kind: str, detail: str, key: str) -> Failure:
    return Failure(kind, detail, f"{case['target']}|{kind}|{key}")


def _option(argv: list[str], name: str, default=None):
    return argv[argv.index(name) + 1] if name in argv[:-1] else default


def judge(case: dict, res: Result, directory: Path) -> list[Failure]:
    """Every promise the run broke (an empty list when it kept them all)."""
    target, argv = case["target"], case["argv"]
    fmt = _option(argv, "--format", "text")
    stdout = res.stdout.decode("utf-8", "replace")
    stderr = res.stderr.decode("utf-8", "replace")
    text = stdout + "\n" + stderr
    fails: list[Failure] = []
    if res.timed_out:
        return [_fail(case, "hang", f"no exit within {res.seconds:.0f} s ({res.mode})", "timeout")]
    if res.exception:
        return [_fail(case, "traceback", res.exception.strip().splitlines()[-1][:300], res.where or "?")]
    if "Traceback (most recent call last)" in text:
        fails.append(_fail(case, "traceback-text", "a traceback was printed", "printed"))
    if res.exit not in (0, 1, 2):
        fails.append(_fail(case, "exit", f"exit code {res.exit!r}", str(res.exit)))
        return fails

    target_file = output_target(case, directory)
    out_arg = _option(argv, "-o") or _option(argv, "--output")
    if res.exit != 0 and target_file is not None and target_file.exists() and not target_file.is_dir():
        fails.append(_fail(case, "partial-output", f"exit {res.exit} but {target_file.name} was left behind "
                           f"({target_file.stat().st_size} bytes)", f"{target}:{fmt}"))
    if res.exit == 0 and out_arg in ("/dev/full",):
        fails.append(_fail(case, "silent-write-failure", "exit 0 writing to /dev/full", f"{target}:{fmt}"))

    asked_help = any(a in ("-h", "--help") for a in argv)  # argparse prints help and exits 0, reading nothing
    if (res.exit == 0 and not asked_help and target in ("settle", "explain")
            and any(n.startswith("dup_column") for n in case.get("note", ()))):
        # A CSV header naming a column twice cannot be read one way only: it must be refused.
        fails.append(_fail(case, "silent-misread", "exit 0 on a ledger whose header names a column twice", "dup_column"))
    if res.exit == 1:
        fails.extend(_judge_located(case, stdout, stderr))
    if res.exit != 0 and target in ("settle",) and fmt == "json" and '"engine"' in stdout:
        fails.append(_fail(case, "partial-stdout", f"exit {res.exit} after a JSON document began on stdout", fmt))
    if res.exit != 0 and target in ("settle",) and fmt == "csv" and stdout.startswith("id,goal,"):
        fails.append(_fail(case, "partial-stdout", f"exit {res.exit} after a CSV table began on stdout", fmt))
    if res.exit != 0 and target in ("settle",) and fmt == "html" and "<!DOCTYPE" in stdout.upper():
        fails.append(_fail(case, "partial-stdout", f"exit {res.exit} after an HTML document began on stdout", fmt))

    if res.exit == 0:
        fails.extend(_judge_output(case, res, stdout, target_file, fmt))
    return fails


def _judge_located(case: dict, stdout: str, stderr: str) -> list[Failure]:
    fmt = _option(case["argv"], "--format", "text")
    text = stdout + "\n" + stderr
    if case["target"] == "check" and fmt == "github":
        marks = [ln for ln in text.splitlines() if ln.startswith(("::error", "::warning"))]
        text = "\n".join(_github_as_text(ln) for ln in marks) or text
    elif case["target"] == "check" and fmt == "json":
        try:
            found = json.loads(stdout)["diagnostics"]
        except (ValueError, TypeError, KeyError):
            return [_fail(case, "bad-json", "check --format json printed something that does not parse as its "
                                            "summary and diagnostics", "check:json")]
        text = "\n".join((f"{d['file']}:{d['line']}:{d['column']}: " if "line" in d else "")
                         + f"{d['severity']}[{d['code']}]: {d['message']}" for d in found)
    diags = [ln for ln in text.splitlines() if _DIAG.search(ln)]
    if not diags:
        if any(m in text for m in _EXIT1_MESSAGES):
            return []
        return [_fail(case, "unlocated", f"exit 1 without a diagnostic: {text.strip()[:200]!r}", "no-diagnostic")]
    out = []
    for ln in diags:
        if _LOCATED.match(ln):
            continue
        m = _DIAG.search(ln)
        # A file that cannot be read at all is located by its path alone.
        if m["code"] in ("CL002", "CL040") and "/" in m["msg"]:
            continue
        out.append(_fail(case, "unlocated", ln[:200], m["code"]))
        break
    return out


def _github_as_text(line: str) -> str:
    m = re.match(r"::(\w+) (?:file=(.*?),line=(\d+),col=(\d+)(?:,endLine=\d+,endColumn=\d+)?,)?title=(CL\d+)::(.*)",
                 line)
    if not m:
        return line
    sev = "warning" if m[1] == "warning" else "error"
    file = m[2] and m[2].replace("%3A", ":").replace("%2C", ",").replace("%0D", "\r").replace("%0A", "\n") \
        .replace("%25", "%")
    where = f"{file}:{m[3]}:{m[4]}: " if m[2] else ""
    return f"{where}{sev}[{m[5]}]: {m[6]}"


def _judge_output(case, res, stdout, target_file, fmt) -> list[Failure]:
    target, argv = case["target"], case["argv"]
    data = None
    if target_file is not None:
        if not target_file.is_file():
            return [_fail(case, "missing-output", f"exit 0 but no {target_file.name}", f"{target}:{fmt}")]
        data = target_file.read_bytes()
    elif _option(argv, "-o") is None and _option(argv, "--output") is None:
        data = res.stdout
    if data is None:
        return []
    fails = []
    if target == "settle" and fmt == "json" or target == "check" and fmt == "json":
        try:
            json.loads(data)
        except ValueError as exc:
            fails.append(_fail(case, "bad-json", f"exit 0 but the JSON does not parse: {exc}", f"{target}:{fmt}"))
    if target == "settle" and fmt == "xlsx":
        fails.extend(_judge_xlsx(case, data))
    if target == "settle" and fmt in ("csv", "parquet"):
        fails.extend(_judge_table(case, data, fmt))
    if target == "settle" and fmt == "html" and SCRIPT_MARKER in data.decode("utf-8", "replace"):
        fails.append(_fail(case, "injection", "a <script> from the input is live in the HTML report", "html"))
    if target == "settle" and fmt == "md":
        for line in data.decode("utf-8", "replace").splitlines():
            if any(m in seg for seg in markdown_text_outside_code(line) for m in (IMG_MARKER, SCRIPT_MARKER)):
                fails.append(_fail(case, "injection", f"markup from the input is live in Markdown: {line[:160]!r}", "md"))
                break
    if target == "convert":
        fails.extend(_judge_convert(case, data))
    return fails


def markdown_text_outside_code(line: str) -> list[str]:
    """The parts of one Markdown line outside code spans (CommonMark: a run of n backticks closes
    only at the next run of exactly n), with backslash-escaped characters blanked out."""
    out, buf, i = [], [], 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            buf.append("  ")
            i += 2
            continue
        if ch == "`":
            j = i
            while j < len(line) and line[j] == "`":
                j += 1
            run = j - i
            k = j
            while k < len(line):
                if line[k] == "`":
                    e = k
                    while e < len(line) and line[e] == "`":
                        e += 1
                    if e - k == run:
                        break
                    k = e
                else:
                    k += 1
            if k < len(line):  # a code span from i to the closing run
                out.append("".join(buf))
                buf = []
                i = k + run
                continue
            buf.append(line[i:j])
            i = j
            continue
        buf.append(ch)
        i += 1
    out.append("".join(buf))
    return out


def _judge_xlsx(case, data: bytes) -> list[Failure]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001
        return [_fail(case, "bad-xlsx", f"exit 0 but openpyxl cannot open it: {type(exc).__name__}: {exc}"[:300], "open")]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                # The one formula a workbook has is a table's total: its own column's rows summed (SUBTOTAL 109).
                total = re.fullmatch(r"=SUBTOTAL\(109,([A-Z]+)2:([A-Z]+)(\d+)\)", str(cell.value))
                if cell.data_type == "f" and not (total and total[1] == total[2] == cell.column_letter
                                                  and int(total[3]) == cell.row - 1):
                    return [_fail(case, "injection", f"formula cell {ws.title}!{cell.coordinate}: {str(cell.value)[:80]!r}",
                                  "xlsx-formula")]
    return []


def _judge_table(case, data: bytes, fmt: str) -> list[Failure]:
    """A table of lines: CSV whose header starts with the fixed columns and whose rows all have its
    length; Parquet that Polars opens, with the same first columns."""
    import csv

    import polars as pl

    fixed = ["id", "goal", "subject", "point", "date", "period", "payer", "outcome", "gross", "after_goal_cap",
             "amount", "cut", "imputed"]
    try:
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
            header = rows[0] if rows else []
            if any(len(r) != len(header) for r in rows):
                return [_fail(case, "bad-csv", "rows of different lengths", "csv")]
        else:
            header = pl.read_parquet(io.BytesIO(data)).columns
    except Exception as exc:  # noqa: BLE001
        return [_fail(case, f"bad-{fmt}", f"exit 0 but it does not read: {type(exc).__name__}: {exc}"[:300], fmt)]
    if header[:len(fixed)] != fixed:
        return [_fail(case, f"bad-{fmt}", f"the header is {header[:len(fixed)]}", fmt)]
    return []


def _judge_convert(case, data: bytes) -> list[Failure]:
    """What `convert` wrote must load again as a contract (the other form of the same file)."""
    import contractlang
    from contractlang.errors import ContractError

    to = _option(case["argv"], "--to")
    src = next(a for a in case["argv"][1:] if a.startswith("{dir}/contract"))
    if to is None:
        to = "dsl" if src.endswith((".yaml", ".yml")) else "yaml"
    with tempfile.TemporaryDirectory(prefix="cl-convert-") as tmp:
        path = Path(tmp) / ("back.yaml" if to == "yaml" else "back.contract")
        path.write_bytes(data)
        try:
            contractlang.load(path)
        except ContractError as exc:
            first = exc.diagnostics[0] if exc.diagnostics else None
            code = first.code if first else "?"
            return [_fail(case, "convert-roundtrip", f"convert --to {to} wrote text that does not load: "
                          f"{first.message if first else exc}"[:300], f"{to}:{code}")]
        except Exception as exc:  # noqa: BLE001
            return [_fail(case, "convert-roundtrip", f"loading convert's {to} output raised {type(exc).__name__}",
                          f"{to}:{type(exc).__name__}")]
    return []


# ---- one case, end to end --------------------------------------------------------------------------


def run_case(case: dict, *, subprocess_mode: bool = False, time_limit: float = TIME_LIMIT) -> tuple[Result, list[Failure]]:
    """Materialise, run and judge one case in a fresh temporary directory (removed afterwards)."""
    if case.get("subprocess_only"):
        subprocess_mode = True
    with tempfile.TemporaryDirectory(prefix="cl-fuzz-") as tmp:
        directory = Path(tmp)
        argv = materialize(case, directory)
        res = (run_subprocess if subprocess_mode else run_inprocess)(argv, time_limit)
        fails = judge(case, res, directory)
    return res, fails


# ---- reproducers -----------------------------------------------------------------------------------


def case_id(case: dict) -> str:
    return hashlib.sha256(json.dumps(case, sort_keys=True).encode()).hexdigest()[:12]


def write_reproducer(directory: Path, case: dict, failure: Failure, result: Result) -> Path:
    """Write `<signature-slug>.json` (the first reproducer of a signature is kept)."""
    directory.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", failure.signature).strip("-")[:90]
    path = directory / f"{slug}-{case_id(case)}.json"
    record = {"signature": failure.signature, "kind": failure.kind, "detail": failure.detail,
              "exit": result.exit, "mode": result.mode, "case": case}
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_reproducers(path: Path) -> list[dict]:
    """Reproducer records from one JSON file or every `*.json` of a directory."""
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    return [json.loads(f.read_text(encoding="utf-8")) | {"path": str(f)} for f in files]


def cleanup_workdirs() -> None:  # pragma: no cover - for interrupted long runs
    for p in Path(tempfile.gettempdir()).glob("cl-fuzz-*"):
        shutil.rmtree(p, ignore_errors=True)
