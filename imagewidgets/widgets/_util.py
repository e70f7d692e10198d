"""Small helpers the widgets share: errors kept in an ``Output``, errors as one readable line."""

from __future__ import annotations

import functools
import traceback
from typing import Any, Callable

__all__ = ["reported", "one_line"]


def reported(method: Callable) -> Callable:
    """Run a widget callback; an exception goes into ``self.output`` (an ``ipywidgets.Output``)
    instead of being lost in the kernel log or killing the caller (a stream, a click)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception:
            self.output.append_stderr(traceback.format_exc())
            return None

    return wrapper


def one_line(error: BaseException) -> str:
    """``"ParamError: n=2 is not allowed for dall-e-3; allowed: 1"``: the class and the text, on one line."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
