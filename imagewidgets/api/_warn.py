"""Warnings that point at the user's line: the first frame outside imagewidgets, however deep the
call that noticed (a request validated by a session, a sweep or a client all warn at the caller).

A fixed ``stacklevel`` is right for one call path only; pandas' ``find_stack_level`` solves the
same problem the same way (Python 3.12's ``skip_file_prefixes`` does it too, where available).
"""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType

__all__ = ["warn"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _stack_level() -> int:
    """How many frames up the first one outside the package is, counted from ``warn``'s caller."""
    frame: FrameType | None = sys._getframe(2)  # warn()'s caller
    level = 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the user's code (the first caller outside imagewidgets)."""
    warnings.warn(message, category, stacklevel=_stack_level())
