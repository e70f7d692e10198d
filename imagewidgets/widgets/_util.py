"""Small helpers the widgets share: one way to keep an error in the widget's ``Output``, errors as
one readable line."""

from __future__ import annotations

import functools
import traceback
from typing import Any, Callable, Optional

__all__ = ["reported", "report_error", "one_line", "style_sheet"]

#: what ipywidgets' own styles get wrong for these widgets: a gallery caption is a button (so a
#: click on it picks the turn, as on the thumbnail) that looks like text on two lines; a button
#: under a variant is as wide as its words ("continue from #3" whole, number included); a disabled
#: choice shows its "n/a" greyed
_CSS = """
.jupyter-button.iw-thumb-caption { white-space: pre-line; height: auto; text-align: left; line-height: 1.35;
  background: transparent; box-shadow: none; color: inherit; font-size: 12px; padding: 2px 6px; margin: 0; }
.jupyter-button.iw-thumb-caption:hover { background: var(--jp-layout-color2, #eeeeee); }
.jupyter-button.iw-variant-pick { overflow: visible; text-overflow: clip; }
.iw-studio select:disabled { color: var(--jp-ui-font-color3, #9e9e9e); }
"""


def style_sheet():
    """A hidden widget holding the widgets' style sheet (an HTML widget's ``<style>`` applies to the
    page); each top widget carries one, so it is there wherever the widget is shown."""
    import ipywidgets as W

    sheet = W.HTML(f"<style>{_CSS}</style>", layout=W.Layout(display="none"))
    sheet.add_class("iw-style")
    return sheet


def report_error(widget: Any, error: BaseException) -> None:
    """Keep ``error``'s full traceback in ``widget.output`` (an ``ipywidgets.Output``), where the
    user can read it, instead of losing it in the kernel log."""
    widget.output.append_stderr("".join(traceback.format_exception(error)))


def reported(method: Optional[Callable] = None, *, cleanup: Optional[str] = None) -> Any:
    """Run a widget callback; an exception goes to ``report_error`` instead of killing the caller
    (a stream, a click, a mouse event), then ``self.<cleanup>()`` runs when named (e.g. to end a
    stroke in progress, so the widget's state stays consistent)::

        @reported
        def _on_model(self, change): ...

        @reported(cleanup="_abort_drag")
        def _on_mouse_move(self, x, y): ...
    """
    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return func(self, *args, **kwargs)
            except Exception as e:
                report_error(self, e)
                if cleanup is not None:
                    getattr(self, cleanup)()
                return None

        return wrapper

    return decorate(method) if method is not None else decorate


def one_line(error: BaseException) -> str:
    """``"ParamError: n=2 is not allowed for dall-e-3; allowed: 1"``: the class and the text, on one line."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
