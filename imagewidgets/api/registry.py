"""Every request parameter there is: the ones the request types declare (``api/params.py``), in one list.

The request types declare their parameters; this reads them back for everything that names
parameters without holding a request type in hand: the Responses tool body (``wire``), the
offline server's field lists and type checks (``offline.parse``), the magics' options and their
help, ``%imagine_config``, the ImageStudio's controls and sliders, and the validation's type checks.

    >>> from imagewidgets.api.registry import registry
    >>> registry()["quality"].flags
    ('-q', '--quality')
"""

from __future__ import annotations

from functools import cache

from .params import Param, params_of
from .requests import EditRequest, GenerateRequest, ResponsesRequest

__all__ = ["registry", "sliders", "tool_fields", "delivery_fields"]


@cache
def registry() -> dict[str, Param]:
    """name -> Param, for every parameter of any request type (generations first, then what edits
    and the Responses tool add)."""
    out: dict[str, Param] = {}
    for cls in (GenerateRequest, EditRequest, ResponsesRequest):
        for p in params_of(cls):
            out.setdefault(p.name, p)
    return out


def tool_fields() -> tuple[str, ...]:
    """The parameters that go into the Responses ``image_generation`` tool, in field order."""
    return tuple(p.name for p in params_of(ResponsesRequest) if p.tool)


def sliders() -> dict[str, Param]:
    """name -> Param for every whole-number parameter with a studio ``control`` (the studio's sliders)."""
    return {p.name: p for p in registry().values() if p.json is int and p.control and p.range}


def delivery_fields() -> tuple[str, ...]:
    """The parameters that say how an answer arrives rather than what is drawn (streaming): the replay
    key, Batch API lines and sweeps' grids leave them out."""
    return tuple(p.name for p in registry().values() if p.delivery)
