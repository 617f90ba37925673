"""Progress on standard error (`contractlang/progress.py`): the phases of `settle` and `explain`.

Drawn only when standard error is a terminal and not in CI; then the phases appear, the line
is erased before anything else is printed, and what goes to standard output or `-o` is the
same bytes as without a terminal. The terminal is a real one (a pty) in a subprocess, with
the line's delay set to 0 so that a quick run shows it.
"""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from contractlang import cli, progress
from contractlang.cli import PHASES, main

ROOT = Path(__file__).resolve().parents[1]
RATE_CARD = ["contracts/examples/rate-card/rate-card.contract", "--ledger", "contracts/examples/rate-card/ledger"]
SETTLE = ["settle", *RATE_CARD, "--format", "csv"]
EXPLAIN = ["explain", *RATE_CARD, "attendance/P029/m6"]
# The command with progress.DELAY set from argv[1] (0: the line shows at once).
RUNNER = ("import sys; import contractlang.progress as p; p.DELAY = float(sys.argv[1]); "
          "from contractlang.cli import main; sys.exit(main(sys.argv[2:]))")


def _run(argv: list[str], tty: bool, ci: str | None = None, delay: float = 0.0) -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr) of the command in a fresh interpreter; stderr a pty when `tty`."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    if ci is not None:
        env["CI"] = ci
    cmd = [sys.executable, "-c", RUNNER, str(delay), *argv]
    if not tty:
        done = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, env=env, cwd=ROOT, timeout=300)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
    finally:
        os.close(slave)
    chunks: list[bytes] = []

    def pump():  # the pty's buffer is small: read it while the command runs
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the command closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=pump)
    reader.start()
    try:
        out, _ = proc.communicate(timeout=300)
    finally:
        reader.join(timeout=10)
        os.close(master)
    return proc.returncode, out, b"".join(chunks)


def _segments(err: bytes) -> list[str]:
    """What a terminal would show as separate line states: the text between carriage returns and newlines."""
    return [s for s in err.decode("ascii").replace("\r\n", "\n").replace("\r", "\n").split("\n") if s.strip()]


def test_without_a_terminal_nothing_is_written_to_stderr():
    for argv in (SETTLE, EXPLAIN):
        code, out, err = _run(argv, tty=False)
        assert code == 0 and out and err == b""


@pytest.mark.parametrize("argv, command", [(SETTLE, "settle"), (EXPLAIN, "explain")], ids=["settle", "explain"])
def test_on_a_terminal_the_phases_appear_and_stdout_is_unchanged(argv, command):
    code, plain, _ = _run(argv, tty=False)
    code_tty, out, err = _run(argv, tty=True)
    assert code == code_tty == 0
    assert out == plain
    shown = _segments(err)
    for i, phase in enumerate(PHASES, 1):
        assert any(s.startswith(f"contractlang {command}: [{i}/{len(PHASES)}] {phase}, ") for s in shown), (phase, shown)
    assert err.endswith(b"\r"), err[-80:]  # erased at the end: the cursor back where the line began
    assert b"\x1b" not in err  # no terminal escapes, only carriage returns and spaces


def test_a_file_written_with_a_terminal_is_the_same_bytes(tmp_path):
    a, b = tmp_path / "plain.parquet", tmp_path / "tty.parquet"
    base = ["settle", *RATE_CARD, "--format", "parquet", "-o"]
    assert _run(base + [str(a)], tty=False)[0] == 0
    code, out, err = _run(base + [str(b)], tty=True)
    assert code == 0 and out == b""
    assert a.read_bytes() == b.read_bytes()
    shown = _segments(err)
    assert shown[-1] == f"wrote {b}"  # on a line of its own, after the progress line was erased
    assert any("[4/4] writing" in s for s in shown)


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_nothing_is_drawn_even_on_a_terminal(ci):
    code, out, err = _run(SETTLE, tty=True, ci=ci)
    assert code == 0 and out and err == b""


def test_an_error_is_printed_on_a_clean_line():
    code, out, err = _run(["settle", "no/such.contract", "--ledger", "contracts/examples/rate-card/ledger"], tty=True)
    assert code == 1
    shown = _segments(err)
    assert any("[1/4] reading the contract" in s for s in shown)
    message = next(s for s in shown if "no settlement was produced" in s)
    assert message.startswith("contractlang: ")


def test_a_quick_run_with_the_usual_delay_draws_nothing():
    code, _, err = _run(SETTLE, tty=True, delay=600)
    assert code == 0 and err == b""


# ---- in process: a stream that says it is a terminal ----------------------------------------------

class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_then_erases(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0)
    monkeypatch.delenv("CI", raising=False)
    stream = FakeTerminal()
    with progress.Progress("settle", PHASES, stream) as bar:
        for phase in PHASES:
            bar.phase(phase)
    text = stream.getvalue()
    assert all(f"] {phase}, " in text for phase in PHASES)
    assert text.startswith("\r") and text.endswith("\r")
    assert text.rsplit("\r", 2)[-2].strip() == ""  # the last thing drawn is blank


def test_progress_is_silent_before_its_delay_and_off_a_terminal(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 600)
    monkeypatch.delenv("CI", raising=False)
    stream = FakeTerminal()
    with progress.Progress("settle", PHASES, stream) as bar:
        bar.phase(PHASES[0])
    assert stream.getvalue() == ""
    monkeypatch.setattr(progress, "DELAY", 0)
    plain = io.StringIO()
    with progress.Progress("settle", PHASES, plain) as bar:
        bar.phase(PHASES[0])
    assert plain.getvalue() == ""


@pytest.mark.parametrize("value, drawn", [("", True), ("false", True), ("0", True), ("true", False), ("1", False),
                                          ("yes", False)])
def test_ci_variable(monkeypatch, value, drawn):
    monkeypatch.setenv("CI", value)
    assert progress.wanted(FakeTerminal()) is drawn


def test_the_line_fits_the_terminal(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(progress, "_width", lambda stream: 20)
    stream = FakeTerminal()
    with progress.Progress("settle", PHASES, stream) as bar:
        bar.phase(PHASES[1])
    assert all(len(s) <= 19 for s in stream.getvalue().split("\r"))


def test_stdout_is_the_same_with_a_fake_terminal_in_process(monkeypatch, capsysbinary):
    monkeypatch.chdir(ROOT)
    assert main(SETTLE) == 0
    plain = capsysbinary.readouterr().out
    monkeypatch.setattr(progress, "DELAY", 0)
    monkeypatch.delenv("CI", raising=False)
    fake = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", fake)
    assert main(SETTLE) == 0
    assert capsysbinary.readouterr().out == plain
    assert "[3/4] evaluating" in fake.getvalue()
    assert cli.PHASES == PHASES
