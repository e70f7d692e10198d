"""Pinned references: pictures a session sends with every turn so a character, a style or a place
stays itself (the Image API's ``image[]``, the Responses tool's ``input_image`` items).

A pin is a name, a role and an image. On the wire the pinned images come *last* among the
request's input images, and a short instruction naming each one (in order) follows the prompt;
the offline renderer reads that same instruction back (``read_instruction``) to keep the pinned
motifs, so there is one spelling of it, here.

    >>> from imagewidgets.api.inputs import ImageInput
    >>> from imagewidgets.api.pins import Pin, instruction
    >>> pin = Pin("Milo", "character", ImageInput.coerce("milo.png"))    # doctest: +SKIP
    >>> instruction([pin])                                               # doctest: +SKIP
    'Pinned references (the last image, in order): "Milo", the character. Keep ...'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ParamError
from .inputs import ImageInput

__all__ = ["Pin", "ROLES", "check_name", "check_role", "instruction", "read_instruction", "MAX_NAME"]

#: what a pin is for: "character" keeps a figure's shape and colours, "style" the look, "place" the setting
ROLES = ("character", "style", "place")
MAX_NAME = 60

_KEEP = {"character": "shape, face, clothes and colours", "style": "palette and way of drawing",
         "place": "layout and landmarks"}
_HEADER = re.compile(r"Pinned references \(the last (\d{1,2}) images?, in order\): (.*?)\. Keep ", re.S)
_ITEM = re.compile(r'"([^"\n]{1,%d})", the (character|style|place)' % MAX_NAME)


@dataclass(frozen=True)
class Pin:
    """One pinned reference: ``name`` (``"Milo"``), ``role`` (one of ``ROLES``) and its image."""

    name: str
    role: str
    image: ImageInput

    def fingerprint(self) -> str:
        return self.image.fingerprint()


def check_name(name: Any) -> str:
    """A pin's name: printable text of 1-60 characters without double quotes (it is quoted in the
    instruction, so a name can never end it early)."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or '"' in name \
            or any(not ch.isprintable() for ch in name):
        raise ParamError("name", name, f"a name of 1 to {MAX_NAME} printable characters, without '\"'",
                         hint='pin names are quoted in the instruction sent with each turn, e.g. name="Milo"')
    return name.strip()


def check_role(role: Any) -> str:
    if role not in ROLES:
        raise ParamError("role", role, ", ".join(ROLES))
    return role


def instruction(pins: tuple[Pin, ...] | list[Pin]) -> str:
    """The sentence sent after the prompt that names each pinned image, in the order they are sent."""
    if not pins:
        return ""
    n = len(pins)
    items = "; ".join(f'"{p.name}", the {p.role}' for p in pins)
    keep = "; ".join(dict.fromkeys(f"each {p.role}'s {_KEEP[p.role]}" for p in pins))
    return (f"Pinned references (the last {n} image{'s' if n != 1 else ''}, in order): {items}. "
            f"Keep {keep} the same as in its reference.")


def read_instruction(text: str) -> tuple[str, list[tuple[str, str]]]:
    """``(the text without the instruction, [(name, role), ...])``: what ``instruction`` wrote into a
    prompt, read back (the offline renderer does; a text without one gives ``(text, [])``)."""
    found = _HEADER.search(text or "")
    if found is None:
        return text, []
    items = _ITEM.findall(found.group(2))
    if len(items) != int(found.group(1)):
        return text, []
    end = text.find(".", text.find("the same as in its reference", found.end()))
    rest = (text[:found.start()] + text[end + 1 if end >= 0 else len(text):]).strip()
    return rest, [(name, role) for name, role in items]
