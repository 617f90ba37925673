"""Progress on standard error: the phase a long command is in, on one line that redraws itself.

The line (`contractlang settle: [3/4] evaluating, 2.5 s`) is drawn only when standard error
is a terminal and the environment is not CI (`CI` set, as CI services set it), and only once
the command has run for DELAY seconds, so a quick command prints nothing. It is ASCII, drawn
with a carriage return (no terminal escapes), and erased before the command prints anything
else. It never touches standard output or a file written with `-o`.
"""

from __future__ import annotations

import os
import sys
import threading
import time

#: Seconds a command runs before its progress line appears.
DELAY = 1.0
#: Seconds between redraws of the elapsed time.
TICK = 0.25


def wanted(stream) -> bool:
    """Whether to draw progress on `stream`: a terminal, and not in CI."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


def _width(stream) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns if columns > 0 else 80


class Progress:
    """The phases of one command, drawn on `stream` (standard error) while it runs.

    Use as a context manager; `phase(name)` moves on, `close()` erases the line (also on exit,
    and idempotent). When progress is not wanted every method does nothing."""

    def __init__(self, command: str, phases: tuple[str, ...], stream=None):
        self.command, self.phases = command, phases
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = wanted(self.stream)
        self.current: str | None = None
        self._start = time.monotonic()
        self._shown = 0  # characters of the line now on the terminal
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._tick, name="contractlang-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def phase(self, name: str) -> None:
        """Move on to the phase `name` (one of `phases`); drawn at once if the line is showing."""
        self.current = name
        if self.enabled and time.monotonic() - self._start >= DELAY:
            self._draw()

    def close(self) -> None:
        """Stop drawing and erase the line, leaving the cursor where the line began."""
        if not self.enabled:
            return
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            if self._shown:
                self._write("\r" + " " * self._shown + "\r")
                self._shown = 0
            self.enabled = False

    def text(self) -> str:
        """The line as it is drawn now."""
        number = self.phases.index(self.current) + 1 if self.current in self.phases else 0
        elapsed = time.monotonic() - self._start
        return f"contractlang {self.command}: [{number}/{len(self.phases)}] {self.current or 'starting'}, {elapsed:.1f} s"

    def _tick(self) -> None:
        wait = max(DELAY - (time.monotonic() - self._start), 0)
        while not self._stop.wait(wait):
            self._draw()
            wait = TICK

    def _draw(self) -> None:
        with self._lock:
            if not self.enabled or self._stop.is_set():
                return
            line = self.text()[: _width(self.stream) - 1]
            self._write("\r" + line + " " * max(self._shown - len(line), 0))
            self._shown = max(len(line), self._shown)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a terminal gone away: progress is not worth an error
            self.enabled = False
