"""The IPython layer: ``%imagine``, ``%edit`` (alias ``%imedit``), ``%imagine_config`` and friends.

``magics`` registers the magics and dispatches them, ``story`` adds those of pins and storyboards
(``%imagine_pin``, ``%imagine_unpin``, ``%%storyboard``), ``_run`` is what both share (a mistake
becomes one line; the prompt's variables expand), so ``story`` never imports ``magics``; ``_args`` parses a magic line into options
(from the model table), ``_display`` shows results and live frames in the cell's output.

May import: the ``session`` and ``api`` layers (IPython itself lazily); ``widgets`` only inside the
functions that show them, ``doctor`` for ``%imagine_doctor``. ``%load_ext imagewidgets`` reaches
this package through ``imagewidgets.load_ipython_extension``.
"""

from __future__ import annotations

from .._lazy import lazy_exports

#: public name -> module (relative to this package) that defines it
_EXPORTS = {
    "ImageMagics": "magics",
    "banner": "magics",
    "load_ipython_extension": "magics",
    "unload_ipython_extension": "magics",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
