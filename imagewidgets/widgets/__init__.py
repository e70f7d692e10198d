"""Jupyter widgets of imagewidgets, imported on first use so ``import imagewidgets`` stays light.

May import: the ``session`` and ``api`` layers, ipywidgets, ipycanvas, traitlets and IPython's
display. ``progress`` draws the session layer's progress reports (sweeps, batch jobs) as a bar.

    >>> from imagewidgets.widgets import MaskPainter   # doctest: +SKIP
"""

from __future__ import annotations

from .._lazy import lazy_exports

#: public name -> module (relative to this package) that defines it; adding a widget is one line
_EXPORTS = {
    "Gallery": "gallery",
    "ImageStudio": "studio",
    "LiveImage": "live",
    "MaskPainter": "mask",
    "StoryboardStrip": "storyboard",
    "VariantGrid": "variants",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
