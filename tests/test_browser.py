"""The HTML report in a real browser: headless Chromium loads it, draws it and keeps its charts.

Chromium comes from Debian's `chromium` package (`.ci/run` installs it). Without
it the test is skipped on a workstation, but fails under CI (`CI` set), so
that a missing browser never passes for a green build.
"""

from __future__ import annotations

import json
import re
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from contractlang.render import render

FIXTURE = Path(__file__).parent / "fixtures" / "settlement_sample.json"
RESULTS = Path(__file__).parent / "fixtures" / "settlement_results.json"
WIDTH, HEIGHT = 1280, 2400
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message + "; under CI the browser test must run")
    pytest.skip(message)


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(args[:1] + FLAGS + [f"--user-data-dir={profile}"] + args[1:],
                          capture_output=True, text=True, timeout=180)


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the inflated image data of a PNG, with the standard library only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, size = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    return size[0], size[1], zlib.decompress(b"".join(idat))


@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render(doc, "html", "da"), encoding="utf-8")
    return path


def test_screenshot_of_the_report(page_file, tmp_path, capsys):
    browser = _chromium()
    shot = tmp_path / "report-screenshot.png"
    result = _run([browser, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", page_file.as_uri()], tmp_path)
    assert shot.exists(), f"no screenshot; chromium said: {result.stderr[-2000:]}"
    data = shot.read_bytes()
    assert len(data) > 30_000, "the screenshot is suspiciously small"
    width, height, pixels = _png_pixels(data)
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(set(pixels[::97])) > 40, "the screenshot looks blank"
    with capsys.disabled():
        print(f"\nscreenshot of the HTML report: {shot}")


def test_charts_are_in_the_rendered_dom(page_file, tmp_path):
    browser = _chromium()
    result = _run([browser, "--dump-dom", page_file.as_uri()], tmp_path)
    dom = result.stdout
    assert "</html>" in dom, f"no DOM dumped; chromium said: {result.stderr[-2000:]}"
    assert '<svg id="chart-cumulative"' in dom and '<svg id="chart-goals"' in dom
    assert 'class="series-pool"' in dom and dom.count('class="threshold"') == 2
    assert dom.count('<rect class="bar"') >= 5
    assert dom.count("<details") >= 15
    assert "72.150,00\u00a0kr." in dom or "72.150,00&nbsp;kr." in dom


@pytest.fixture(scope="module")
def results_page_file(tmp_path_factory) -> Path:
    doc = json.loads(RESULTS.read_text(encoding="utf-8"))
    path = tmp_path_factory.mktemp("results") / "results.html"
    path.write_text(render(doc, "html", "da"), encoding="utf-8")
    return path


def test_results_and_figures_in_the_rendered_dom(results_page_file, tmp_path):
    """Results against targets and figures come after the charts, each trail folded in its own <details>."""
    browser = _chromium()
    result = _run([browser, "--dump-dom", results_page_file.as_uri()], tmp_path)
    dom = result.stdout
    assert "</html>" in dom, f"no DOM dumped; chromium said: {result.stderr[-2000:]}"
    assert dom.index('<svg id="chart-goals"') < dom.index('id="results"') < dom.index('id="figures"') < dom.index('id="goals"')
    assert dom.count('<details id="metric-') == 3 and dom.count('<details id="figure-') == 5
    assert "mål ikke nået: 19,0 procentpoint under" in dom
    assert "15,94202898550724637681159420289855072463768115942" in dom
    assert "4.083.685" in dom and "<code>prices.price[qualification]</code> pr. deltager" in dom


# ---- hostile text in a real browser (issue 12, class 5) -------------------------------------------
# Each payload, if the page ever ran it, would mark the document: a data attribute on <html> or its title.
PAYLOADS = [
    '<img src=x onerror="document.documentElement.dataset.pwned=1">',
    "<script>document.documentElement.dataset.pwned=2</script>",
    '</script><script>document.title="PWNED"</script>',
    '"><svg onload="document.documentElement.dataset.pwned=3">',
    "<iframe srcdoc=\"<script>parent.document.title='PWNED'</script>\"></iframe>",
    "javascript:document.title='PWNED'",
]


@pytest.fixture(scope="module")
def hostile_page_file(tmp_path_factory) -> Path:
    from .test_hostile_reports import hostile_doc

    doc = hostile_doc()
    doc["contract"]["title"] = PAYLOADS[2]
    doc["parties"]["Investor"]["name"] = PAYLOADS[0]
    doc["parties"]["Kommunen"]["name"] = PAYLOADS[3]
    for goal, text in zip(doc["goals"], PAYLOADS[1:]):
        goal["title"] = text
    for line, text in zip(doc["lines"], PAYLOADS * 4):
        line["id"] = line["subject"] = text
    for excl, text in zip(doc["exclusions"], reversed(PAYLOADS)):
        excl["subject"] = text
    path = tmp_path_factory.mktemp("hostile") / "hostile.html"
    path.write_text(render(doc, "html", "en"), encoding="utf-8")
    return path


def test_hostile_titles_and_ids_stay_text_in_the_browser(hostile_page_file, tmp_path):
    """Chromium loads a report whose titles, party names, line and subject ids are live-markup payloads: none runs,
    none becomes an element, and each is on the page as the text it was."""
    browser = _chromium()
    result = _run([browser, "--dump-dom", "--virtual-time-budget=2000", hostile_page_file.as_uri()], tmp_path)
    dom = result.stdout
    assert "</html>" in dom, f"no DOM dumped; chromium said: {result.stderr[-2000:]}"
    from .test_hostile_reports import _Tags

    class _Attrs(_Tags):
        def handle_starttag(self, tag, attrs):
            super().handle_starttag(tag, attrs)
            self.values = getattr(self, "values", []) + [(name, value or "") for name, value in attrs]

    parsed = _Attrs()
    parsed.feed(dom)  # the DOM after the page ran: an element or attribute a payload made would be here
    assert "data-pwned" not in parsed.attrs
    assert not [a for a in parsed.attrs if a.startswith("on") or a in ("srcdoc", "src")]
    assert all(value.startswith("#") for name, value in parsed.values if name == "href")  # the page's own anchors
    assert not {"img", "iframe", "object", "embed"} & set(parsed.tags)
    assert parsed.tags.count("script") <= 1  # the page's own, if any
    assert re.search(r"<title>Settlement: &lt;/script&gt;", dom), "the document's title changed"
    text = "".join(parsed.text)
    for payload in PAYLOADS:
        assert payload in text, payload
    assert '<svg id="chart-cumulative"' in dom  # the page's own drawing still happened


# ---- a board's report of a large settlement (issue 15) --------------------------------------------
HOUSEHOLDS = 5_000


@pytest.fixture(scope="module")
def large_page_file(tmp_path_factory) -> Path:
    """The HTML report of Viborg settled on a generated ledger of 5,000 intervention households."""
    import sys

    from contractlang.cli import main

    root = Path(__file__).resolve().parents[1]
    base = tmp_path_factory.mktemp("large")
    ledger = base / "ledger"
    subprocess.run([sys.executable, str(root / "contracts" / "viborg" / "make_ledger.py"), "--households",
                    str(HOUSEHOLDS), "--control", "1500", "--seed", "5", "--out", str(ledger)],
                   check=True, capture_output=True)
    path = base / "report.html"
    assert main(["settle", str(root / "contracts" / "viborg" / "viborg.contract"), "--ledger", str(ledger),
                 "--format", "html", "--lang", "da", "-o", str(path)]) == 0
    return path


def test_the_report_of_5000_households_is_small_and_drawn_by_a_browser(large_page_file, tmp_path, capsys):
    size = large_page_file.stat().st_size
    assert size < 5_000_000, f"{size:,} bytes"
    page = large_page_file.read_text(encoding="utf-8")
    # The lines are summed by goal and period, and pointed to, not listed one by one with their trails.
    assert 'id="line-groups"' in page and '<details id="line-' not in page
    assert re.search(r"De [\d.]+ betalingslinjer er for mange til at stå her", page)
    browser = _chromium()
    result = _run([browser, "--dump-dom", large_page_file.as_uri()], tmp_path)
    assert "</html>" in result.stdout and 'id="line-groups"' in result.stdout, result.stderr[-2000:]
    shot = tmp_path / "large-report-screenshot.png"
    result = _run([browser, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", large_page_file.as_uri()],
                  tmp_path)
    assert shot.exists(), f"no screenshot; chromium said: {result.stderr[-2000:]}"
    width, height, pixels = _png_pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT) and len(set(pixels[::97])) > 40, "the screenshot looks blank"
    with capsys.disabled():
        print(f"\nscreenshot of the report of {HOUSEHOLDS:,} households ({size:,} bytes): {shot}")
