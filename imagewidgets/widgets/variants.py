"""VariantGrid: the images of one call that made several, side by side, each with a "continue
from this" button that makes it the base of the next edit (``session.continue_from``).

    grid = VariantGrid(s)        # the newest call that made several images (s.variants)
    grid.pick(2)                 # what the third button does; then s.edit(...) continues from it
"""

from __future__ import annotations

import base64
import html
from typing import Any, Optional

import ipywidgets as W
from traitlets import Int

from ._util import reported, style_sheet
from .gallery import css_size, thumbnail

__all__ = ["VariantGrid"]


class VariantGrid(W.VBox):
    """One grid for the variants of a call: ``(turn, image index)`` pairs (default ``session.variants``).

    ``picked`` is the 0-based number of the variant the next edit continues from (None when the
    session's current turn is none of them). Shown where widgets are not, it is a static grid."""

    picked = Int(None, allow_none=True, help="the variant the next edit continues from (0-based)")

    def __init__(self, session: Any, variants: Optional[list] = None, *, thumb_size: int = 256,
                 pixel_ratio: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.items: list[tuple[Any, int]] = list(variants if variants is not None else session.variants)
        self.output = W.Output()
        self.buttons: list[W.Button] = []
        cells = []
        for k, (turn, index) in enumerate(self.items):
            image = turn.images[index]
            # made at `pixel_ratio` x the size it is shown at: sharp on HiDPI screens
            data, fmt, w, h = thumbnail(image, thumb_size * max(1, int(pixel_ratio)))
            css_w, css_h = css_size(w, h, thumb_size)
            # an <img> with alt text (ipywidgets' Image has none): what screen readers say is the picture
            src = f"data:image/{'jpeg' if fmt == 'jpg' else fmt};base64,{base64.b64encode(data).decode()}"
            picture = W.HTML(f'<img src="{src}" width="{css_w}" height="{css_h}" alt="{html.escape(image.alt_text)}"/>',
                             layout=W.Layout(width=f"{css_w}px", height=f"{css_h}px"))
            cost = f" · ${image.cost:.4f}" if image.cost else ""
            caption = W.HTML(f"<b>#{k + 1}</b> <span style='color:#666'>{html.escape(turn.id)}{cost}</span>")
            # as wide as its words: the default button width cut "continue from #3" before the number
            button = W.Button(description=f"continue from #{k + 1}", icon="share",
                              tooltip=f"make #{k + 1} the base of the next edit",
                              layout=W.Layout(width="auto", min_width="max-content"))
            button.add_class("iw-variant-pick")
            button.on_click(lambda _b, k=k: self._clicked(k))
            self.buttons.append(button)
            cell = W.VBox([picture, caption, button], layout=W.Layout(margin="0 8px 8px 0"))
            cell.add_class("iw-variant")
            cells.append(cell)
        self.status = W.Label()
        self.status.add_class("iw-variant-status")
        self.children = [W.HBox(cells, layout=W.Layout(flex_flow="row wrap")), self.status, self.output,
                         style_sheet()]
        self.add_class("iw-variant-grid")
        self._sync()

    def pick(self, k: int) -> Any:
        """Make variant ``k`` (0-based) the base of the next edit; returns its turn."""
        if not 0 <= k < len(self.items):
            raise IndexError(f"variant {k} of {len(self.items)}")
        turn, index = self.items[k]
        turn = self.session.continue_from(turn, index)
        self._sync()
        return turn

    @reported
    def _clicked(self, k: int) -> None:
        self.pick(k)

    def _sync(self) -> None:
        current = self.session.current
        self.picked = next((k for k, (t, i) in enumerate(self.items)
                            if current is not None and t.id == current.id and (t.picked or 0) == i), None)
        for k, button in enumerate(self.buttons):
            button.button_style = "success" if k == self.picked else ""
        self.status.value = (f"the next edit continues from #{self.picked + 1}" if self.picked is not None
                             else "click “continue from” to choose the base of the next edit")

    def html(self) -> str:
        """The static grid (numbered, with how to pick in code), for where widgets do not render."""
        cells = []
        for k, (turn, index) in enumerate(self.items):
            image = turn.images[index]
            cells.append(f"<div style='display:inline-block;margin:4px;text-align:center'>{image.html()}"
                         f"<br/><small>#{k + 1}: continue with <code>s.pick({k})</code> or "
                         f"<code>%edit --pick {k + 1} ...</code></small></div>")
        return f"<div style='display:flex;flex-wrap:wrap'>{''.join(cells)}</div>"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
        if isinstance(data, dict):
            data["text/html"] = self.html()
            # as an ImageSet's output: the images' hashes and store paths, so a saved notebook (and
            # a pack of it) knows which stored images this output shows
            images = [turn.images[i] for turn, i in self.items]
            meta = dict(meta or {})
            meta["imagewidgets"] = {"images": [img.output_metadata(img.preview_image()) for img in images]}
        return data, meta

    def __repr__(self) -> str:
        return f"<VariantGrid of {len(self.items)} images, picked={self.picked}>"
