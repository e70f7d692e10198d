"""Progress of long work (a sweep, a batch job) reaches the display as a callback: the session layer
says how far it is, a display draws it. Without a display (a script, a terminal) it is one text
line on stdout; the widgets layer registers a bar for notebook kernels (``set_display``), so this
layer never imports ipywidgets or IPython.

    >>> bar = start("sweep", total=4)       # a text line here; a widget bar in a kernel
    >>> bar.update(1, 4, "1/4")
    >>> bar.close()
"""

from __future__ import annotations

import sys
from typing import Callable, Protocol

__all__ = ["Progress", "TextProgress", "set_display", "start"]


class Progress(Protocol):
    """What long work reports to: ``update(done, total, text)`` as it goes, ``close(ok)`` at the end."""

    def update(self, done: int, total: int, text: str) -> None: ...

    def close(self, ok: bool = True) -> None: ...


class TextProgress:
    """One line on stdout, rewritten in place: ``sweep 3/4 (1 failed)``."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total = label, total

    def update(self, done: int, total: int, text: str) -> None:
        sys.stdout.write(f"\r{self.label} {text}" if self.label else f"\r{text}")
        sys.stdout.flush()

    def close(self, ok: bool = True) -> None:
        sys.stdout.write("\n")
        sys.stdout.flush()


#: (label, total) -> a Progress, or None where it cannot draw (no kernel): then a text line
Display = Callable[[str, int], "Progress | None"]
_display: Display | None = None


def set_display(display: Display | None) -> None:
    """Where progress is drawn (the widgets layer sets a kernel's bar); None: text lines."""
    global _display
    _display = display


def start(label: str, total: int) -> Progress:
    """A progress report for ``total`` steps, drawn by the registered display or as text."""
    shown = None
    if _display is not None:
        try:
            shown = _display(label, total)
        except Exception:  # a display that cannot draw never stops the work: text instead
            shown = None
    return shown if shown is not None else TextProgress(label, total)
