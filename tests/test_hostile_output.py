"""Partial output, class 2 of issue 12: a document is written whole or not at all.

`settle -o`, `convert -o` and `fmt --write` write a temporary file beside the target and rename it
into place; a failing writer or a full disk leaves the previous file (or none) and exits 1 with a
message, never a traceback. Standard output only ever receives a whole document.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from contractlang import cli
from contractlang.cli import main

ROOT = Path(__file__).resolve().parents[1]
RATE_CARD = ROOT / "contracts" / "examples" / "rate-card"
SETTLE = ["settle", str(RATE_CARD / "rate-card.contract"), "--ledger", str(RATE_CARD / "ledger"), "--no-trace"]


def _half_then_fail(doc, fh, records=None):
    fh.write(b'{\n  "as_of": "2027-12-31",\n  "lines": [')
    raise RuntimeError("the writer broke half way")


@pytest.fixture
def failing_json_writer(monkeypatch):
    import contractlang.document
    monkeypatch.setattr(contractlang.document, "write_document_json", _half_then_fail)


def test_a_failing_writer_leaves_no_file(tmp_path, capsys, failing_json_writer):
    target = tmp_path / "settlement.json"
    assert main(SETTLE + ["--format", "json", "-o", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {target}: RuntimeError: the writer broke half way; nothing was written" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temporary file


def test_a_failing_writer_keeps_the_previous_file(tmp_path, capsys, failing_json_writer):
    target = tmp_path / "settlement.json"
    target.write_text("the previous settlement\n", encoding="utf-8")
    assert main(SETTLE + ["--format", "json", "-o", str(target)]) == 1
    assert target.read_text(encoding="utf-8") == "the previous settlement\n"
    assert [p.name for p in tmp_path.iterdir()] == ["settlement.json"]


def test_a_failing_writer_prints_nothing_on_stdout(capsys, failing_json_writer):
    assert main(SETTLE + ["--format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "nothing was printed" in captured.err


@pytest.mark.parametrize("fmt", ["md", "html", "xlsx", "text"])
def test_a_failing_report_leaves_no_file(tmp_path, capsys, monkeypatch, fmt):
    import contractlang.render

    def broken(doc, fmt, lang, rows=None):
        raise ValueError("a report could not be made")

    monkeypatch.setattr(contractlang.render, "render", broken)
    target = tmp_path / f"report.{fmt}"
    assert main(SETTLE + ["--format", fmt, "-o", str(target)]) == 1
    assert "ValueError: a report could not be made; nothing was written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_leaves_no_file(tmp_path, capsys, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cli.os, "fsync", full)
    target = tmp_path / "settlement.json"
    assert main(SETTLE + ["--format", "json", "-o", str(target)]) == 1
    assert "No space left on device; nothing was written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_dev_full_as_the_target_exits_1_and_leaves_nothing(capsys):
    before = sorted(os.listdir("/dev"))
    assert main(SETTLE + ["--format", "json", "-o", "/dev/full"]) == 1
    assert "cannot write /dev/full: No space left on device" in capsys.readouterr().err
    assert sorted(os.listdir("/dev")) == before
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # still the device, not a file renamed over it


@pytest.mark.parametrize("fmt", ["json", "md"])
def test_a_directory_as_the_target_is_refused_before_settling(tmp_path, capsys, monkeypatch, fmt):
    monkeypatch.setattr(cli, "_settle", lambda args: pytest.fail("settled before checking -o"))
    assert main(SETTLE + ["--format", fmt, "-o", str(tmp_path)]) == 2
    assert f"-o {tmp_path}: is a directory" in capsys.readouterr().err
    assert main(SETTLE + ["--format", fmt, "-o", str(tmp_path / "no" / "such.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_written_files_get_the_usual_mode(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "report.md"
        assert main(SETTLE + ["--format", "md", "-o", str(target)]) == 0
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        target.chmod(0o640)
        assert main(SETTLE + ["--format", "md", "-o", str(target)]) == 0
        assert stat.S_IMODE(target.stat().st_mode) == 0o640  # a file written again keeps its mode
    finally:
        os.umask(old)
    assert target.read_text(encoding="utf-8").startswith("# ")


def test_convert_to_a_full_disk_leaves_no_file(tmp_path, capsys, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cli.os, "fsync", full)
    target = tmp_path / "rate-card.yaml"
    assert main(["convert", str(RATE_CARD / "rate-card.contract"), "--to", "yaml", "-o", str(target)]) == 1
    assert "No space left on device; nothing was written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_fmt_write_keeps_the_file_when_the_disk_is_full(tmp_path, capsys, monkeypatch):
    text = (RATE_CARD / "rate-card.contract").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#")) + "\n\n\n"
    path = tmp_path / "c.contract"
    path.write_text(body, encoding="utf-8")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cli.os, "fsync", full)
    assert main(["fmt", "--write", str(path)]) == 1
    assert path.read_text(encoding="utf-8") == body and [p.name for p in tmp_path.iterdir()] == ["c.contract"]
    monkeypatch.undo()
    assert main(["fmt", "--write", str(path)]) == 0 and path.read_text(encoding="utf-8") != body
