"""Every request parameter declared once: a field of the request types with its metadata.

A parameter is one line of ``requests.py``; everything else that names parameters reads it from
here: the Responses tool body (``wire``), the offline server's field lists and type checks
(``offline.parse``), the magics' options and their help, ``%imagine_config``, and the
ImageStudio's controls and cost wiring. Adding a model-dependent parameter is the field, its
values in the model table (``models``), a rule in ``validation`` if it has one, and a test::

    sharpness: str | None = param(choices="sharpnesses", tool=True, flags=("--sharpness",),
                                  help="how sharp: {choices}", control="sharpness")

    >>> from imagewidgets.api.params import registry
    >>> registry()["quality"].flags
    ('-q', '--quality')
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from typing import Any

from .models import MODELS

__all__ = ["Param", "param", "params_of", "registry", "tool_fields"]

_KEY = "imagewidgets.param"


@dataclass(frozen=True)
class Param:
    """What one request parameter is, for each part of imagewidgets that names it.

    ``json`` is its type on the wire (``str``, ``int``, ``bool`` or ``dict``). ``choices`` names the
    ``ModelSpec`` attribute listing the values each model accepts. ``tool``: it is also a field of
    the Responses API's ``image_generation`` tool. ``flags``: the magics' option (none: no option).
    ``help``: the option's help, where ``{choices}`` becomes which models take which values and
    ``{lo}``/``{hi}`` the range. ``range``: whole numbers from ``lo`` to ``hi``, the upper end per
    model from the ``ModelSpec`` attribute ``max_from`` when given. ``config``: ``%imagine_config``
    sets a default for it. ``control``: the ImageStudio's label for its dropdown (choice
    parameters), ``prefer`` the value it starts on when the model offers it.
    """

    name: str = ""  # the field's name: filled in by params_of()
    json: type = str
    choices: str | None = None
    tool: bool = False
    flags: tuple[str, ...] = ()
    help: str = ""
    metavar: str | None = None
    range: tuple[int, int] | None = None
    max_from: str | None = None
    config: bool = False
    control: str | None = None
    prefer: str | None = None

    @property
    def text(self) -> str:
        """How messages name the parameter: ``output format``."""
        return self.name.replace("_", " ")

    @property
    def option(self) -> str:
        """The magics' spelling: ``-f/--format``."""
        return "/".join(self.flags)

    def bounds(self) -> tuple[int, int]:
        """The widest range any model of the table accepts (for option types and help)."""
        lo, hi = self.range or (0, 0)
        if self.max_from:
            hi = max(getattr(spec, self.max_from) for spec in MODELS.values())
        return lo, hi


def param(default: Any = None, **meta: Any) -> Any:
    """A request field that is an API parameter: ``quality: str | None = param(choices="qualities")``."""
    return dataclasses.field(default=default, metadata={_KEY: Param(**meta)})


@cache
def params_of(cls: type) -> tuple[Param, ...]:
    """The parameters a request type accepts, in field order (its other fields are images and
    conversation state, which the wire handles by name)."""
    return tuple(dataclasses.replace(f.metadata[_KEY], name=f.name)
                 for f in dataclasses.fields(cls) if _KEY in f.metadata)


@cache
def registry() -> dict[str, Param]:
    """name -> Param, for every parameter of any request type (generations first, then what edits
    and the Responses tool add)."""
    from .requests import EditRequest, GenerateRequest, ResponsesRequest

    out: dict[str, Param] = {}
    for cls in (GenerateRequest, EditRequest, ResponsesRequest):
        for p in params_of(cls):
            out.setdefault(p.name, p)
    return out


def tool_fields() -> tuple[str, ...]:
    """The parameters that go into the Responses ``image_generation`` tool, in field order."""
    from .requests import ResponsesRequest

    return tuple(p.name for p in params_of(ResponsesRequest) if p.tool)
