"""How a request parameter is declared once: a field of the request types with its metadata.

A parameter is one line of ``requests.py``, written with ``param()``; ``Param`` says what it is for
each part of imagewidgets that names it. The list of every declared parameter is
``api/registry.py``'s (it reads the request types, which read this module), and everything else
that names parameters reads it from there: the Responses tool body (``wire``), the offline
server's field lists and type checks (``offline.parse``), the magics' options and their help,
``%imagine_config``, and the ImageStudio's controls and cost wiring. Adding a model-dependent
parameter is the field, its values in the model table (``models``), a rule in ``validation`` if it
has one, and a test::

    sharpness: str | None = param(choices="sharpnesses", tool=True, flags=("--sharpness",),
                                  help="how sharp: {choices}", control="sharpness")

    >>> from imagewidgets.api.params import params_of
    >>> from imagewidgets.api.requests import GenerateRequest
    >>> [p.flags for p in params_of(GenerateRequest) if p.name == "quality"]
    [('-q', '--quality')]
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache
from typing import Any

from .models import MODELS

__all__ = ["Param", "param", "params_of"]

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
    parameters) or slider (whole-number parameters), ``prefer`` the value a dropdown starts on
    when the model offers it, ``start`` the value a slider starts on, ``widget`` the studio's
    attribute when it is not the parameter's name.

    Conditions, read by the validation, the studio and the offline server alike:
    ``accepted_if``: the ``ModelSpec`` attribute that must be true for a model to take it at all
    (a ``max_from`` attribute that is None means the same). ``only``: ``(field, values)``: it
    applies only while the request's ``field`` is one of ``values`` ("only when streaming" is
    ``only=("stream", (True,))``; ``output_format`` counts as png when not given). ``idle``: the
    value that means "not in use" (0 partial images), which a condition lets through. ``capped``:
    values above the range are accepted and capped by the API (only the minimum is a rule).
    ``delivery``: it says how the answer arrives, not what is drawn (``stream``, ``partial_images``):
    left out of the replay key, of Batch API lines and of sweeps' grids.
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
    start: int | None = None
    widget: str | None = None
    accepted_if: str | None = None
    only: tuple[str, tuple[Any, ...]] | None = None
    idle: Any = None
    capped: bool = False
    delivery: bool = False

    @property
    def text(self) -> str:
        """How messages name the parameter: ``output format``."""
        return self.name.replace("_", " ")

    @property
    def option(self) -> str:
        """The magics' spelling: ``-f/--format``."""
        return "/".join(self.flags)

    @property
    def attr(self) -> str:
        """The ImageStudio's attribute holding its control (``studio.compression``)."""
        return self.widget or self.name

    def bounds(self) -> tuple[int, int]:
        """The widest range any model of the table accepts (for option types and help)."""
        lo, hi = self.range or (0, 0)
        if self.max_from:
            hi = max((getattr(spec, self.max_from) for spec in MODELS.values()
                      if getattr(spec, self.max_from) is not None), default=lo)
        return lo, hi

    def accepted_by(self, spec: Any) -> bool:
        """Whether the model ``spec`` (a ``ModelSpec``, None: not in the table) takes it at all."""
        if spec is None:
            return True
        if self.choices:
            return bool(getattr(spec, self.choices))
        if self.accepted_if and not getattr(spec, self.accepted_if):
            return False
        return not (self.max_from and getattr(spec, self.max_from) is None)

    def bounds_for(self, spec: Any) -> tuple[int, int]:
        """The whole numbers the model ``spec`` accepts (its own maximum when declared per model)."""
        lo, hi = self.bounds()
        if spec is not None and self.max_from and getattr(spec, self.max_from) is not None:
            hi = getattr(spec, self.max_from)
        return lo, hi

    def in_use(self, value: Any) -> bool:
        """A value that is sent and means something (not None, not the idle value)."""
        return value is not None and value != self.idle and value is not False

    def condition_fails(self, current: Any) -> str | None:
        """Why the parameter does not apply while its ``only`` field is ``current`` (None: it applies)."""
        if self.only is None or current in self.only[1]:
            return None
        field, values = self.only
        if field == "stream":
            return f"{self.text} apply only when streaming; pass stream=True"
        return f"{self.name} applies only to {' and '.join(map(str, values))}; {field} is {current}"

    def condition_allows(self) -> str:
        """What the ``ParamError`` lists as allowed when the condition fails."""
        assert self.only is not None
        field, values = self.only
        if field == "stream":
            return f"{self.idle if self.idle is not None else 'omit it'} without streaming"
        return f"omit it, or use {field} {' or '.join(map(str, values))}"


def param(default: Any = None, **meta: Any) -> Any:
    """A request field that is an API parameter: ``quality: str | None = param(choices="qualities")``."""
    return dataclasses.field(default=default, metadata={_KEY: Param(**meta)})


@cache
def params_of(cls: type) -> tuple[Param, ...]:
    """The parameters a request type accepts, in field order (its other fields are images and
    conversation state, which the wire handles by name)."""
    return tuple(dataclasses.replace(f.metadata[_KEY], name=f.name)
                 for f in dataclasses.fields(cls) if _KEY in f.metadata)
