"""How every magic runs, whichever module defines it: an expected mistake becomes one line on stderr
(``reported``), and the prompt's words expand from the notebook's variables (``expand``).

``magics`` (``%imagine``, ``%edit``...) and ``story`` (pins, storyboards) both use these; neither
imports the other for them, so the story magics stay a plug-in of the main ones.

    @line_magic
    @no_var_expand
    @reported("imagine_pin")
    @magic_arguments()
    def imagine_pin(self, line="", cell=None): ...
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from IPython.core.error import UsageError

from . import _args as A
from ..api.errors import APIError, ImagewidgetsError, ParamError

__all__ = ["reported", "expand"]


def reported(name: str) -> Callable:
    """Run a magic; expected mistakes become one line on stderr (the magics' ``_complain``) and the
    magic returns None."""
    def decorate(method: Callable) -> Callable:
        def run(self: Any, line: str = "", cell: str | None = None) -> Any:
            try:
                return method(self, line, cell)
            except UsageError as e:
                self._complain(f"%{name}: {e}")
            except ParamError as e:
                self._complain(f"%{name}: {A.friendly_param_error(e)}")
            except APIError as e:
                self._complain(f"%{name}: {A.friendly_api_error(e)}")
            except ImagewidgetsError as e:
                self._complain(f"%{name}: {e}")
            return None

        # the method's name, module, docstring and magic_arguments' ``parser`` (for ``%magic?``):
        # the magic says where it is defined, not this module
        return functools.wraps(method)(run)

    return decorate


_FORMATTER = A.PromptFormatter()


def expand(_iw_shell: Any, _iw_text: str) -> str:
    """``{expr}`` and ``$name`` from the user's namespace, as IPython expands a magic's line, for the
    prompt's words and the cell body (our magics are ``no_var_expand``: options are read before
    anything expands, so a variable's text never becomes an option; see ``PromptFormatter``).
    ``{{``, ``}}`` and ``$$`` stand for the characters; an undefined name leaves the text as it is."""
    return _iw_shell.var_expand(_iw_text, formatter=_FORMATTER)
