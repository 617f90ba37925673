"""The `contractlang` command: check, fmt, convert, settle, explain, verify, lsp.

Exit codes: 0 success (no errors), 1 errors in the input (or warnings with
--strict, or `fmt --check` finding a file to reformat), 2 usage errors.
Input problems are printed as located diagnostics, never as a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import stat
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from . import __version__
from .keywords import LANGUAGES
from .markup import REPORT_ROWS
from .errors import (ContractError, Diagnostic, error, render_github, render_json, render_sarif, render_text,
                     summary)

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
CONTRACT_SUFFIXES = (".contract", ".yaml", ".yml")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2, as documented
        self.print_usage(sys.stderr)
        print(f"contractlang: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _contract_files(paths: list[str]) -> list[Path]:
    """Expand directories to the contract files inside them (sorted, recursive)."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.suffix == ".contract"))
        else:
            out.append(p)
    return out


def _load(path: Path):
    from . import load

    if not path.exists():
        raise ContractError([error("CL002", f"{path}: no such file")])
    return load(path)


def _sources(diags) -> dict[str, str]:
    """The text of each file a diagnostic points into and does not carry its line for; read once
    each, and only a regular file of at most MAX_SOURCE_BYTES (never a FIFO or a device)."""
    import stat

    from .errors import MAX_SOURCE_BYTES

    out: dict[str, str] = {}
    tried = set()
    for d in diags:
        if not d.span or d.source_line is not None or d.span.file in tried:
            continue
        tried.add(d.span.file)
        try:
            st = os.stat(d.span.file)
            if stat.S_ISREG(st.st_mode) and st.st_size <= MAX_SOURCE_BYTES:
                with open(d.span.file, "rb") as fh:
                    out[d.span.file] = fh.read(MAX_SOURCE_BYTES + 1).decode("utf-8", errors="replace")
        except OSError:
            pass
    return out


def _emit(diags: list[Diagnostic], fmt: str, files: int | None = None, counted=None) -> None:
    if fmt == "json":
        print(render_json(diags, files, counted))
    elif fmt == "github":
        if diags:
            print(render_github(diags))
    elif fmt == "sarif":
        print(render_sarif(diags, __version__))
    elif diags:
        print(render_text(diags, _sources(diags)))


_CHUNK = 16


def _check_one(path: Path) -> list[Diagnostic]:
    """Every diagnostic of one file (also used in worker processes)."""
    from .check import check

    try:
        return check(_load(path))
    except ContractError as exc:
        return list(exc.diagnostics)


def _missing(paths: list[str]) -> bool:
    """Say so, and return True, when a path named on the command line does not exist (a usage error, exit 2:
    a CI job that names a file it does not have is misconfigured, not a contract with errors)."""
    missing = [p for p in paths if not Path(p).exists()]
    for p in missing:
        print(f"contractlang: {p}: no such file or directory", file=sys.stderr)
    return bool(missing)


def cmd_check(args) -> int:
    if _missing(args.files):
        return EXIT_USAGE
    files = _contract_files(args.files)
    if not files:
        print("contractlang: no contract files found", file=sys.stderr)
        return EXIT_USAGE
    diags: list[Diagnostic] = []
    jobs = args.jobs or os.cpu_count() or 1
    if jobs > 1 and len(files) >= 2 * _CHUNK:
        # Files are independent: check them in parallel, report in file order.
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for found in pool.map(_check_one, files, chunksize=_CHUNK):
                diags.extend(found)
    else:
        for f in files:
            diags.extend(_check_one(f))
    notes = args.notes if args.notes is not None else args.format != "github"  # annotations: no notes unless asked
    shown = [d for d in diags if notes or d.severity != "note"]
    _emit(shown, args.format, len(files), diags)
    counts = summary(diags)  # warnings: those not acknowledged, what --strict fails on
    errors, warnings = counts["errors"], counts["warnings"]
    if args.format == "text":
        accepted = counts["acknowledged"]
        print(f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s)"
              + (f", {accepted} acknowledged" if accepted else ""), file=sys.stderr)
    if errors or (args.strict and warnings):
        return EXIT_ERRORS
    return EXIT_OK


def cmd_fmt(args) -> int:
    from .printer import format_contract
    from .yamlform import dump_yaml

    if _missing(args.files):
        return EXIT_USAGE
    status = EXIT_OK
    for f in _contract_files(args.files):
        try:
            contract = _load(f)
            # A file is formatted in its own form: YAML stays YAML (comments and all in the DSL).
            text = dump_yaml(contract) if f.suffix in (".yaml", ".yml") else format_contract(contract, args.language)
        except ContractError as exc:
            _emit(list(exc.diagnostics), "text")
            status = EXIT_ERRORS
            continue
        current = f.read_text(encoding="utf-8")
        if args.check:
            if current != text:
                print(f"{f}: not in canonical form (run: contractlang fmt {f})")
                status = EXIT_ERRORS
        elif args.write:
            if current != text:
                try:
                    _replace_file(f, lambda fh: fh.write(text.encode("utf-8")))
                except OSError as exc:
                    print(f"contractlang: cannot rewrite {f}: {exc.strerror}; it is unchanged", file=sys.stderr)
                    status = EXIT_ERRORS
                    continue
                print(f"reformatted {f}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    return status


def cmd_convert(args) -> int:
    src = Path(args.file)
    try:
        contract = _load(src)
    except ContractError as exc:
        _emit(list(exc.diagnostics), "text")
        return EXIT_ERRORS
    target = args.to or ("dsl" if src.suffix in (".yaml", ".yml") else "yaml")
    if target == "yaml":
        from .yamlform import dump_yaml
        text = dump_yaml(contract)
    else:
        from .printer import format_contract
        text = format_contract(contract, args.language)
    if args.output:
        problem = _output_problem(args.output)
        if problem:
            print(f"contractlang: {problem}", file=sys.stderr)
            return EXIT_USAGE
        return _write_output(args.output, lambda fh: fh.write(text.encode("utf-8")))
    sys.stdout.write(text)
    return EXIT_OK


# ---- output: whole or not at all -------------------------------------------------------------

def _output_problem(target: str) -> str | None:
    """Why `-o target` cannot be written (checked before any work is done), or None."""
    path = Path(target)
    if path.is_dir():
        return f"-o {target}: is a directory; name a file to write"
    if not path.parent.is_dir():
        return f"-o {target}: the directory {path.parent} does not exist"
    return None


def _write_output(target: str, write) -> int:
    """Write a document to `target` whole or not at all; EXIT_ERRORS with a message when it fails.

    A regular file is written as a temporary file beside it and renamed into place once complete, so
    a failure (a full disk, a writer's error) leaves the previous file, or none, never a truncated
    one. A device or pipe (`/dev/stdout`) is written directly, as it cannot be renamed over.
    """
    path = Path(target)
    try:
        if path.exists() and not path.is_file():
            with open(path, "wb") as fh:
                write(fh)
        else:
            _replace_file(path, write)
    except Exception as exc:  # a full disk, a permission, a writer's bug: a message, never a traceback
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"{type(exc).__name__}: {exc}"
        print(f"contractlang: cannot write {target}: {why}; nothing was written", file=sys.stderr)
        return EXIT_ERRORS
    print(f"wrote {target}", file=sys.stderr)
    return EXIT_OK


def _replace_file(path: Path, write) -> None:
    """Write into a temporary file in `path`'s directory, then rename it to `path` (atomic on POSIX)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        mode = 0o666 & ~mask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_stdout(write) -> int:
    """Write a document to standard output only once it is whole (spooled to a temporary file if large)."""
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as buf:
        try:
            write(buf)
        except Exception as exc:
            print(f"contractlang: the document could not be written ({type(exc).__name__}: {exc}); "
                  "nothing was printed", file=sys.stderr)
            return EXIT_ERRORS
        buf.seek(0)
        sys.stdout.flush()
        while chunk := buf.read(1 << 20):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    return EXIT_OK


#: Formats written from the engine's settlement as it is (its columns); the reports read it as a dict.
COLUMNAR = ("json", "csv", "parquet")
#: Formats that are bytes, not text: written to a file only.
BINARY = ("xlsx", "parquet")


#: The phases of `settle` and `explain`, as their progress line names them.
PHASES = ("reading the contract", "reading the ledger", "evaluating", "writing")


def _settle(args, bar, loaded=None):
    """Load, check and settle, telling `bar` (a Progress) each phase; return (contract, document, exit code).
    `loaded`: the contract and ledger, already loaded and checked."""
    from .check import check
    from .expressions import EvalError
    from .ledger import load_ledger

    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
        if loaded is None:
            bar.phase("reading the contract")
            contract = _load(Path(args.contract))
            diags = [d for d in check(contract) if d.severity == "error"]
            if diags:
                raise ContractError(diags)
            bar.phase("reading the ledger")
            ledger = load_ledger(args.ledger, contract, _known(args))
        else:
            contract, ledger = loaded
        previous = _previous(args)
        bar.phase("evaluating")
        try:
            settled = _evaluate(args, contract, ledger, as_of)
        except EvalError as exc:  # the checker should have caught it; say so instead of a traceback
            raise ContractError([error("CL017", f"the contract cannot be evaluated: {exc}", contract.span)]) from None
        from .account import attach
        attach(settled, contract, ledger, *previous)
        return contract, settled, EXIT_OK
    except ContractError as exc:
        bar.close()
        _emit(list(exc.diagnostics), "text")
        print(f"contractlang: {len(exc.diagnostics)} problem(s); no settlement was produced", file=sys.stderr)
        return None, None, EXIT_ERRORS


def _evaluate(args, contract, ledger, as_of):
    """The settlement of a loaded contract and ledger: by the engine where it can, else by the interpreter."""
    from .evaluate import settle

    fmt = getattr(args, "format", None)
    # The JSON has trails when asked for (--trails); the md and html reports unless told not to; the text
    # summary and the workbook never show them.
    if fmt in COLUMNAR:
        trails = args.trails
    else:
        trails = fmt not in ("text", "xlsx") and not getattr(args, "no_trace", False)
    if fmt is not None:  # `settle`; `explain` comes here when the engine cannot settle the contract
        from .engine import Unsupported, settle as settle_columns
        try:
            settled, rows = None, getattr(args, "rows", None)
            if trails and fmt in ("md", "html") and rows is not None:
                # A report lists the lines with their trails only up to `rows` of them: the lines' trails
                # are recorded only when it will (settling a small ledger twice costs little).
                first = settle_columns(contract, ledger, as_of, trails=False)
                settled = first if first.lines.height > rows else None
            if settled is None:
                settled = settle_columns(contract, ledger, as_of, trails=trails)
            # The reports read the document as a dict; the JSON and the tables are written from columns.
            return settled if fmt in COLUMNAR else settled.document()
        except Unsupported:
            pass  # a construct the columnar engine cannot evaluate exactly: the interpreter settles it
    return settle(contract, ledger, as_of, trace=trails)


def _previous(args) -> tuple:
    """`--previous`: (the settlement the payments were made on, its path and hash for `inputs.previous`), or ()."""
    name = getattr(args, "previous", None)
    if not name:
        return ()
    read = _read_settlement(Path(name))
    if isinstance(read, int):
        raise ContractError([error("CL040", f"--previous {name} cannot be read as a settlement document")])
    doc, data = read
    from .explain import display_path
    return doc, {"path": display_path(name), "sha256": hashlib.sha256(data).hexdigest()}


def _known(args) -> dt.date | None:
    """`--known-as-of`: the knowledge date (measurements delivered after it are not seen), or None."""
    known = getattr(args, "known_as_of", None)
    return dt.date.fromisoformat(known) if known else None


def _rows(text: str) -> int | None:
    """`--rows`: a whole number, or `all` (None)."""
    if text == "all":
        return None
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number or 'all', not {text!r}")
    return int(text)


def _write_json(doc, fh) -> None:
    """The settlement document as JSON: from the engine's columns, or from the interpreter's dict."""
    from . import document

    if isinstance(doc, dict):
        document.write_document_json(doc, fh)
    else:
        doc.write_json(fh)


def cmd_verify(args) -> int:
    """Rerun a settlement from what it records and say whether it comes out the same, byte for byte."""
    import io

    import orjson

    from .document import first_difference
    from .progress import Progress

    path = Path(args.settlement)
    read = _read_settlement(path)
    if isinstance(read, int):
        return read
    doc, recorded = read
    rerun = _rerun_args(path, doc, args.contract, args.ledger, args.previous, _has_trails(doc))
    if isinstance(rerun, int):
        return rerun
    contract, ledger, as_of, trails, known = rerun.contract, rerun.ledger, rerun.as_of, rerun.trails, rerun.known_as_of
    inputs = doc["inputs"]
    with Progress("verify", PHASES) as bar:
        _, settled, status = _settle(rerun, bar)
        if settled is None:
            return status
        bar.phase("writing")
        buf = io.BytesIO()
        _write_json(settled, buf)
    now = buf.getvalue()
    what = (f"{path} (contract {contract}, ledger {ledger}, as of {as_of}"
            f"{f', known as of {known}' if isinstance(known, str) else ''}{', with trails' if trails else ''})")
    if now == recorded:
        print(f"identical: {what} is reproduced byte for byte")
        return EXIT_OK
    print(f"different: {what} is not reproduced")
    fresh = orjson.loads(now)
    was, is_ = (doc.get("engine") or {}).get("version"), (fresh.get("engine") or {}).get("version")
    if was != is_:
        print(f"  it was settled by contractlang {was}; this is contractlang {is_}")
    old, new = _field(inputs, "contract", "sha256"), fresh["inputs"]["contract"]["sha256"]
    if old != new:
        print(f"  the contract {contract} has changed: sha256 {new}, recorded {old}")
    files = {f["file"]: f for f in fresh["inputs"]["ledger"]}
    for f in (x for x in inputs.get("ledger") or [] if isinstance(x, dict)):
        new = files.get(f.get("file"))
        if new is None or new.get("sha256") != f.get("sha256"):
            print(f"  the ledger file {f.get('file')} has changed: "
                  + (f"sha256 {new.get('sha256')} ({new.get('rows')} rows), recorded {f.get('sha256')} "
                     f"({f.get('rows')} rows)" if new else "it is not there now"))
    found = first_difference(doc, fresh)
    if found is None:
        print("  the same values, written differently (the document's layout has changed)")
    else:
        where, old, new = found
        print(f"  first difference at {where}: recorded {_shown(old)}, now {_shown(new)}")
    return EXIT_ERRORS


def cmd_diff(args) -> int:
    """What changed between two settlements, and why (`diff.diff`), as a report or JSON."""
    import orjson

    from .diff import diff

    if args.output:
        problem = _output_problem(args.output)
        if problem:
            print(f"contractlang: {problem}", file=sys.stderr)
            return EXIT_USAGE
    docs, files = [], {}
    for side, name in (("old", args.old), ("new", args.new)):
        read = _read_settlement(Path(name))
        if isinstance(read, int):
            return read
        doc, data = read
        files[side] = {"path": name, "sha256": hashlib.sha256(data).hexdigest()}
        if doc.get("lines") and not _has_trails(doc):
            doc = _with_trails(Path(name), doc)
            if isinstance(doc, int):
                return doc
        docs.append(doc)
    try:
        found = diff(*docs)
    except ValueError as exc:
        print(f"contractlang: {exc}", file=sys.stderr)
        return EXIT_ERRORS
    found = {"engine": {"name": "contractlang", "version": __version__}, "documents": files,
             "currency": (docs[1].get("contract") or {}).get("currency") or "DKK", **found}
    if args.format == "json":
        text = orjson.dumps(found, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
    else:
        from .render_diff import render_diff
        text = render_diff(found, args.format, args.lang, args.rows).encode("utf-8")
    if args.output:
        return _write_output(args.output, lambda fh: fh.write(text))
    return _write_stdout(lambda fh: fh.write(text))


def _with_trails(path: Path, doc: dict) -> dict | int:
    """A settlement without trails settled again, with them, from what it records (the causes of a diff are in
    the trails); the exit code, with a message, when it cannot be, or does not come out the same."""
    import io

    import orjson

    from .progress import Progress

    rerun = _rerun_args(path, doc, trails=True)
    if isinstance(rerun, int):
        return rerun
    print(f"contractlang: {path} has no trails; settling it again from what it records, to find the causes",
          file=sys.stderr)
    with Progress("diff", PHASES) as bar:
        _, settled, status = _settle(rerun, bar)
    if settled is None:
        return status
    buf = io.BytesIO()
    _write_json(settled, buf)
    fresh = orjson.loads(buf.getvalue())
    bare = [{k: v for k, v in line.items() if k != "trace"} for line in fresh["lines"]]
    if bare != [{k: v for k, v in line.items() if k != "trace"} for line in doc["lines"]]:
        print(f"contractlang: {path} is not reproduced from what it records (contractlang verify {path} says "
              "where); settle it again with --trails to diff it", file=sys.stderr)
        return EXIT_ERRORS
    return fresh


def _has_trails(doc: dict) -> bool:
    """Whether a settlement document's lines carry their trails (`settle --trails`)."""
    return any(line.get("trace") for line in doc.get("lines") or [])


def _rerun_args(path: Path, doc: dict, contract: str | None = None, ledger: str | None = None,
                previous: str | None = None, trails: bool = False):
    """The arguments of `_settle` that settle again what the settlement `doc` (read from `path`) records — its
    contract, ledger, date, knowledge date and previous settlement, unless named here — with or without trails;
    or, with a message said, the exit code."""
    inputs = doc["inputs"]
    contract = contract or _field(inputs, "contract", "path")
    ledger = ledger or inputs.get("ledger_directory")
    contract, ledger = (x if isinstance(x, str) else None for x in (contract, ledger))
    if not contract or not ledger:
        print(f"contractlang: {path} does not record where its {'contract' if not contract else 'ledger'} is "
              "(it was written by an older contractlang); name it with --contract and --ledger", file=sys.stderr)
        return EXIT_USAGE
    known, recorded_previous = inputs.get("known_as_of"), _field(inputs, "previous", "path")
    return argparse.Namespace(contract=contract, ledger=ledger, as_of=doc["as_of"], format="json", trails=trails,
                              no_trace=not trails, rows=None, known_as_of=known if isinstance(known, str) else None,
                              previous=previous or (recorded_previous if isinstance(recorded_previous, str) else None))


def _read_settlement(path: Path) -> tuple[dict, bytes] | int:
    """A settlement document read from a file, and its bytes; or, with a message said, the exit code."""
    import orjson

    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"contractlang: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    try:
        doc = orjson.loads(data)
        inputs = doc["inputs"]
        dt.date.fromisoformat(doc["as_of"])
        if not isinstance(inputs, dict) or not isinstance(doc.get("lines") or [], list):
            raise TypeError
        if not all(isinstance(line, dict) for line in doc.get("lines") or []):
            raise TypeError
        if inputs.get("known_as_of") is not None:
            dt.date.fromisoformat(inputs["known_as_of"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        print(f"contractlang: {path} is not a settlement document (contractlang settle --format json)", file=sys.stderr)
        return EXIT_ERRORS
    return doc, data


def _field(record, *keys):
    """`record[k1][k2]…` of a document read from a file, or None where it has no such field."""
    for key in keys:
        record = record.get(key) if isinstance(record, dict) else None
    return record


def _shown(value) -> str:
    """A value of a document in a message: a text in quotes, anything else as Python shows it; cut at 120."""
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "…"


def cmd_settle(args) -> int:
    if args.output:
        problem = _output_problem(args.output)
    elif args.format in BINARY:
        problem = f"--format {args.format} needs --output FILE"
    else:
        problem = None
    if args.trails and args.format in ("csv", "parquet"):
        problem = "--trails: a table of lines has no audit trails; use --format json --trails"
    if problem:  # before settling, not after
        print(f"contractlang: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from .progress import Progress

    with Progress("settle", PHASES) as bar:
        return _settle_and_write(args, bar)


def _settle_and_write(args, bar) -> int:
    contract, doc, status = _settle(args, bar)
    if doc is None:
        return status
    if args.format in ("csv", "parquet"):
        from . import line_table

        def write(fh):
            table = line_table.line_table(doc, contract)
            if args.format == "csv":
                line_table.write_csv(table, fh)
            else:
                line_table.write_parquet(table, fh, line_table.settlement_head(doc))
    elif args.format == "json":  # streamed: the text of a large settlement is never held in memory whole
        def write(fh):
            _write_json(doc, fh)
    else:
        from .render import render

        def write(fh):
            out = render(doc, args.format, args.lang, getattr(args, "rows", REPORT_ROWS))
            fh.write(out if isinstance(out, bytes) else out.encode("utf-8"))
    bar.phase("writing")

    def write_then_close(fh):  # the progress line is gone before the document or a message is printed
        try:
            write(fh)
        finally:
            bar.close()
    return _write_output(args.output, write_then_close) if args.output else _write_stdout(write_then_close)


def cmd_explain(args) -> int:
    from .explain_line import explanation
    from .progress import Progress

    with Progress("explain", PHASES) as bar:
        # An adjustment is in the settlement's account, which the whole settlement makes.
        by_engine = not args.line.startswith("adjustment/")
        text, problem, loaded = _explain_by_engine(args, bar) if by_engine else (None, None, None)
        if text is None and problem is None:  # the engine cannot settle it, or the inputs have errors
            _, doc, status = _settle(args, bar, loaded)
            if doc is None:
                return status
            bar.phase("writing")
            text, problem = explanation(doc, args.line, args.lang)
    if problem:  # printed once the progress line is gone
        print(f"contractlang: {problem}", file=sys.stderr)
        return EXIT_ERRORS
    sys.stdout.write(text)
    return EXIT_OK


def _explain_by_engine(args, bar):
    """The explanation of `args.line` from the columnar engine's settlement (`explain_line`): (text, None, the
    contract and ledger), or (None, the problem: no such line, …); (None, None, the contract and ledger if
    they loaded clean) when the interpreter must settle instead: the engine cannot evaluate the contract, or
    the contract or the ledger has errors (which `_settle` then reports, as for `settle`)."""
    from .check import check
    from .engine import Unsupported
    from .explain_line import explain_line
    from .expressions import EvalError
    from .ledger import load_ledger

    loaded = None
    try:
        bar.phase("reading the contract")
        contract = _load(Path(args.contract))
        if any(d.severity == "error" for d in check(contract)):
            return None, None, None
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
        bar.phase("reading the ledger")
        loaded = contract, load_ledger(args.ledger, contract, _known(args))
        bar.phase("evaluating")
        return (*explain_line(contract, loaded[1], as_of, args.line, args.lang,
                              writing=lambda: bar.phase("writing")), loaded)
    except (ContractError, Unsupported, EvalError):
        return None, None, loaded


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="contractlang", description="Check, settle and explain outcome contracts.")
    p.add_argument("--version", action="version", version=f"contractlang {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="check contract files (syntax, names, units, stated figures)")
    c.add_argument("files", nargs="+", help="contract files or directories")
    c.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text",
                   help="text: located messages; json: a summary and the diagnostics; github: workflow "
                        "annotations; sarif: SARIF 2.1.0 (see docs/ci.md)")
    c.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    c.add_argument("--no-notes", dest="notes", action="store_false",
                   help="hide notes (assumptions, derivations); --format github hides them unless --notes")
    c.add_argument("--notes", dest="notes", action="store_true", help="show notes (the default but with --format github)")
    c.set_defaults(notes=None)
    c.add_argument("--jobs", "-j", type=int, default=0, metavar="N",
                   help="check with N processes (default: one per CPU; 1 = no parallelism)")
    c.set_defaults(func=cmd_check)

    f = sub.add_parser("fmt", help="print contract files in canonical form (comments and the author's order kept)")
    f.add_argument("files", nargs="+", help="contract files (.contract, or YAML: formatted as YAML) or directories")
    g = f.add_mutually_exclusive_group()
    g.add_argument("--check", action="store_true", help="exit 1 if a file is not in canonical form")
    g.add_argument("--write", action="store_true", help="rewrite the files that are not in canonical form")
    f.add_argument("--language", choices=LANGUAGES,
                   help="write the keywords of DSL files in this language: en (English) or da (Danish); "
                        "default: the file's own")
    f.set_defaults(func=cmd_fmt)

    v = sub.add_parser("convert", help="convert between the DSL and the YAML form")
    v.add_argument("file", help="a .contract or .yaml file")
    v.add_argument("--to", choices=("yaml", "dsl"), help="the form to write (default: the other one)")
    v.add_argument("--language", choices=LANGUAGES, help="the keywords of the DSL written: en (English) or da "
                                                          "(Danish); default: the file's own, English from YAML")
    v.add_argument("-o", "--output", help="write to a file instead of standard output")
    v.set_defaults(func=cmd_convert)

    vf = sub.add_parser("verify", help="rerun a settlement from what it records and say whether it comes out "
                                        "the same, byte for byte (or where it first differs)")
    vf.add_argument("settlement", help="a settlement document (settle --format json [--trails])")
    vf.add_argument("--contract", help="the contract file, if not where the settlement says (inputs.contract.path)")
    vf.add_argument("--ledger", help="the ledger directory, if not where the settlement says (inputs.ledger_directory)")
    vf.add_argument("--previous", metavar="SETTLEMENT",
                    help="the previous settlement, if not where the settlement says (inputs.previous.path)")
    vf.set_defaults(func=cmd_verify)

    df = sub.add_parser("diff", help="what changed between two settlements, line by line, and why (a ledger row, "
                                      "an imputation mean, a price, a cap or tranche boundary); totals per goal, "
                                      "period and party")
    df.add_argument("old", help="the earlier settlement (settle --format json; one without trails is settled again, "
                                "from what it records, with them)")
    df.add_argument("new", help="the later settlement")
    df.add_argument("--format", choices=("text", "md", "html", "json"), default="text")
    df.add_argument("--lang", choices=("en", "da"), default="en")
    df.add_argument("-o", "--output", help="write to a file instead of standard output")
    df.add_argument("--rows", type=_rows, default=REPORT_ROWS, metavar="N|all",
                    help=f"reports: list the changed lines one by one when there are at most N (default {REPORT_ROWS:,}; "
                         "all: always), else count them by goal and cause")
    df.set_defaults(func=cmd_diff)

    lsp = sub.add_parser("lsp", help="run the language server over standard input and output (for editors; "
                                     "needs pygls: pip install 'contractlang[lsp]')")
    lsp.set_defaults(func=cmd_lsp)

    for name, func, helptext in (("settle", cmd_settle, "evaluate a contract against a ledger"),
                                 ("explain", cmd_explain, "print the audit trail of one payment line")):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("contract")
        s.add_argument("--ledger", required=True, help="directory of ledger CSV files")
        s.add_argument("--as-of", help="settlement date (YYYY-MM-DD); default: end of data collection")
        s.add_argument("--known-as-of", metavar="DATE",
                       help="knowledge date (YYYY-MM-DD): measurements delivered after it (delivered_on) are not "
                            "seen; default: every row of the ledger")
        s.add_argument("--lang", choices=("en", "da"), default="en")
        s.add_argument("--previous", metavar="SETTLEMENT",
                       help="the settlement (json) the payments of payments.csv were made on: each adjustment's "
                            "trail then names the lines whose shares moved since it")
        if name == "settle":
            s.add_argument("--format", choices=("text", "json", "md", "html", "xlsx", "csv", "parquet"), default="text",
                           help="text, md, html, xlsx: reports; json: the settlement document; "
                                "csv, parquet: one row per payment line")
            s.add_argument("-o", "--output", help="write to a file instead of standard output")
            s.add_argument("--trails", action="store_true",
                           help="json: add each line's audit trail (reports always carry them)")
            s.add_argument("--no-trace", action="store_true", help="reports: omit the audit trails")
            s.add_argument("--rows", type=_rows, default=REPORT_ROWS, metavar="N|all",
                           help=f"md and html reports: list the lines (with their trails), exclusions and excluded rows "
                                f"one by one when there are at most N of each, else group and count them "
                                f"(default {REPORT_ROWS:,}; all: always list)")
        else:
            s.add_argument("line", help="line id (goal/subject/point, e.g. school_absence/c1/m18), a metric or figure "
                                        "id, or an adjustment (adjustment/PERIOD/PAYER/RECIPIENT)")
        s.set_defaults(func=func)
    return p


def cmd_lsp(args) -> int:
    try:
        from .lsp import main as serve
    except ImportError:
        print("contractlang: the language server needs pygls: pip install 'contractlang[lsp]'", file=sys.stderr)
        return EXIT_USAGE
    return serve()


def reference() -> str:
    """The command-line reference (docs/cli.md), made from the parser itself so that it cannot drift:
    each command's help as `--help` prints it, at a fixed width."""
    import functools

    parser = build_parser()
    fixed = functools.partial(argparse.HelpFormatter, width=100)
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = ["# Command-line reference", "",
           "Made from the command's own parser (`contractlang.cli.reference`); "
           "`tests/test_cli_reference.py` fails when this page and the parser differ.", ""]
    for name, sub in [("contractlang", parser), *commands.choices.items()]:
        sub.formatter_class = fixed
        title = name if name == "contractlang" else f"contractlang {name}"
        out += [f"## `{title}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    out += ["Exit codes: 0 clean, 1 errors in the input (or warnings not acknowledged, with `--strict`; or a file "
            "`fmt --check` would change), 2 usage errors.", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for option in ("as_of", "known_as_of"):
        if getattr(args, option, None):
            try:
                dt.date.fromisoformat(getattr(args, option))
            except ValueError:
                print(f"contractlang: --{option.replace('_', '-')} '{getattr(args, option)}' is not a date (YYYY-MM-DD)",
                      file=sys.stderr)
                return EXIT_USAGE
    try:
        return args.func(args)
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except BrokenPipeError:  # pragma: no cover
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
