"""The HTML report in a real browser: headless Chromium loads it, draws it and keeps its charts.

Chromium comes from Debian's `chromium` package (`.ci/run` installs it). Without
it the test is skipped on a workstation, but fails under CI (`CI` set), so
that a missing browser never passes for a green build.
"""

from __future__ import annotations

import json
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
