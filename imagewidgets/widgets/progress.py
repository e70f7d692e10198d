"""A progress bar for sweeps and batch jobs in a notebook kernel: the session layer reports through
``session.progress``, this draws it (an ``IntProgress`` and a label).

    >>> from imagewidgets.session import progress
    >>> progress.set_display(kernel_progress)        # imagewidgets does this when imported
"""

from __future__ import annotations

from typing import Any

__all__ = ["WidgetProgress", "kernel_progress"]


class WidgetProgress:
    """An ipywidgets bar and a label, shown at once; ``close`` colours it."""

    def __init__(self, label: str, total: int) -> None:
        import ipywidgets
        from IPython.display import display

        self.bar = ipywidgets.IntProgress(value=0, min=0, max=max(1, total), description=label)
        self.label = ipywidgets.Label(f"0/{total}")
        self.view = ipywidgets.HBox([self.bar, self.label])
        display(self.view)

    def update(self, done: int, total: int, text: str) -> None:
        self.bar.max, self.bar.value = max(1, total), done
        self.label.value = text

    def close(self, ok: bool = True) -> None:
        self.bar.bar_style = "success" if ok else "danger"


def kernel_progress(label: str, total: int) -> Any:
    """A ``WidgetProgress`` in a kernel with widgets, else None (the caller writes text)."""
    from IPython import get_ipython

    if getattr(get_ipython(), "kernel", None) is None:
        return None
    return WidgetProgress(label, total)
