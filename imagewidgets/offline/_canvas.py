"""What every motif builder is handed: the picture's canvas (``Ctx``), the slot it draws in and
the random generator, and the builder's signature (``Builder``).

The motif modules (``_motifs`` and the ones it gathers: ``_objects``, ``_animals``, ``_critters``,
``_things``) import this contract from here, and ``_motifs`` imports them to build the one
table (``_motifs.BUILDERS``), so no motif module imports the table back.

    >>> c = Ctx(width=1024, height=768, level=2, horizon=500.0, phase=0.0, palette=((200, 80, 40),))
    >>> c.s
    768.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._shapes import RGB, Shape

__all__ = ["Ctx", "Slot", "Rng", "Builder"]


@dataclass
class Ctx:
    width: int
    height: int
    level: int
    horizon: float
    phase: float  # 2*pi*t; motion uses whole multiples of it so animations loop seamlessly
    palette: tuple[RGB, ...]
    glows: list[tuple[float, float, float, RGB]] = field(default_factory=list)

    @property
    def s(self) -> float:
        return float(min(self.width, self.height))


Slot = tuple[float, float, float]  # centre x, centre y, size
Rng = np.random.Generator
#: ``builder(ctx, colour, rng, slot) -> shapes``: every random number drawn before ``ctx.phase`` is
#: read (each frame keeps the composition), more detail at higher ``ctx.level``
Builder = Callable[[Ctx, RGB, Rng, Slot], list[Shape]]
