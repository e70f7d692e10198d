"""ImageStudio: the controls of a request (choices follow the model table), its cost before the
click, Generate / Edit / Vary / Cancel, the live stream, errors on one line, and the gallery."""

from __future__ import annotations

import html
import threading
from typing import Any, Optional

import ipywidgets as W
from traitlets import Bool

from ..api.cost import estimate
from ..api.errors import ImagewidgetsError
from ..api.lifecycle import is_live
from ..api.models import DEFAULT_RESPONSES_MODEL, model_names
from ..api.requests import EditRequest, GenerateRequest
from ._studio_controls import CHOICES as _CHOICES
from ._studio_controls import EDIT_ONLY as _EDIT_ONLY
from ._studio_controls import SLIDERS as _SLIDERS
from ._studio_controls import SizeControl, dropdown, labelled, offer, offer_slider, offer_unset, slider, starts_unset
from ._studio_controls import spec_of as _spec
from ._util import one_line, report_error, reported
from .gallery import Gallery
from .live import LiveImage

__all__ = ["ImageStudio"]


def _lifecycle_note(name: str) -> str | None:
    """"gpt-image-1.5: shut down on 2026-12-01, replaced by gpt-image-2.6-sunburst" (the table's dates)."""
    from ..api.lifecycle import lifecycle_of, today

    life = lifecycle_of(name)
    status = life.status_on(today())
    if status == "live":
        return None
    verb = "shut down" if status == "shut down" else "shuts down"
    return f"{name}: {verb} on {life.shutdown_date}, replaced by {life.replacement or 'a current model'}"


def _mainline_choices() -> list[str]:
    """Mainline models for Responses turns with no shutdown date known, the default first."""
    from ..api.lifecycle import lifecycle_of, today

    names = ["gpt-5.5", "gpt-6.1-sol", "gpt-6.1-terra", "gpt-5.4", "gpt-6-sol", "gpt-6-luna", "gpt-5.6-sol"]
    return [DEFAULT_RESPONSES_MODEL] + [n for n in names if n != DEFAULT_RESPONSES_MODEL
                                        and lifecycle_of(n).status_on(today()) == "live"]


class ImageStudio(W.VBox):
    """A request builder for a notebook, over a :class:`~imagewidgets.Session`::

        studio = ImageStudio(session); studio

    Every control is a widget attribute (``studio.model``, ``.size``, ``.quality``,
    ``.output_format``, ``.background``, ``.moderation``, ``.input_fidelity``, ``.style``,
    ``.compression``, ``.n``, ``.partial_images``, ``.prompt``) whose ``value`` is the state; their
    choices follow the selected model's row of the model table. Each choice parameter declared
    with a ``control`` (``api/params.py``) gets its dropdown, named like the parameter, and each
    whole-number one its slider (range, model limits and conditions from the declaration). ``.size`` is a Dropdown of the
    model's sizes, or for models with the free ``WxH`` rule a Combobox where any size can be typed:
    one the table refuses shows its reason in the error area and disables the buttons. ``studio.options(kind)`` is what a click sends;
    ``studio.cost`` shows ``cost.estimate`` of it. Generate, Edit and Vary run
    ``session.imagine`` / ``edit`` / ``vary`` in the :class:`LiveImage` (``studio.live``); Edit
    continues from the session's current turn (click a thumbnail in ``studio.gallery`` to
    branch) with the mask painted in the "Mask…" painter, if open. ``studio.wait()`` blocks
    until the click's work is done (for tests); ``studio.busy`` is True while it runs (the buttons
    follow it).
    """

    busy = Bool(False, help="a click's request is running (Generate, Edit and Vary are disabled)")
    #: the VariantGrid of the last click that made several images (None: the last made one)
    variants: Any

    def __init__(self, session: Any = None, *, live_width: int = 512, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if session is None:
            from ..session.session import default_session

            session = default_session()
        self.session = session
        self.output = W.Output()
        self.output.add_class("iw-studio-log")
        self.painter: Any = None
        self._quiet = False  # True while a model change re-offers every control (one cost update)
        self._size_error: Optional[str] = None
        self._wanted: dict[str, Any] = {}  # option -> the value the user last chose
        self._changed = ""
        self._idle = threading.Event()
        self._idle.set()
        self._build(live_width)
        self.observe(lambda _change: self._update_buttons(), names=["busy"])
        self.add_class("iw-studio")
        self._on_model()
        current = getattr(session, "current", None)
        if current is not None:  # the picture the next Edit continues from, not an empty box
            self.live.show_turn(current)
        else:
            self.live.label.value = "no picture yet: describe one and click Generate"

    @property
    def size(self) -> W.Dropdown | W.Combobox:
        """The size control the selected model uses (see the class docstring)."""
        return self._size.widget

    # ------------------------------------------------------------------ what a click sends
    def options(self, kind: str = "generate") -> dict[str, Any]:
        """The options the controls describe for ``kind`` ("generate", "edit" or "vary")."""
        spec = _spec(self.model.value)
        if kind == "vary":
            vary = {"model": spec.name, "size": self.size.value, "n": self.n.value if self.n.value > 1 else None}
            return {k: v for k, v in vary.items() if v is not None}
        opts: dict[str, Any] = {"model": spec.name}
        for option in _CHOICES:
            widget = getattr(self, option)
            if not widget.disabled and widget.value not in (None, "") and (option not in _EDIT_ONLY or kind == "edit"):
                opts[option] = widget.value
        for option, p in _SLIDERS.items():  # n > 1 on the Responses API: n parallel calls, a grid to pick from
            widget = getattr(self, p.attr)
            if not widget.disabled and p.in_use(widget.value):
                opts[option] = widget.value
        images_api = opts.get("api") == "images" or getattr(self.session, "api", None) == "images"
        if kind == "edit" and (images_api or not spec.supports("responses")):
            opts.pop("moderation", None)  # the edits endpoint has no moderation (the Responses tool has)
        return opts

    def request(self) -> GenerateRequest | EditRequest:
        """What the cost estimate prices: Generate's options as an Image API request (with the
        session's pins, an edit of them: their input tokens are priced too)."""
        opts = {k: v for k, v in self.options("generate").items() if k != "api"}
        pins = self.session.pins_carried(None) if hasattr(self.session, "pinboard") else ()
        if pins:
            opts.pop("moderation", None)
            return EditRequest(self.prompt.value or "", pins=pins, stream="partial_images" in opts, **opts)
        return GenerateRequest(self.prompt.value or "", stream="partial_images" in opts, **opts)

    def estimate(self):
        """``cost.estimate`` of the request Generate would send."""
        return estimate(self.request())

    # ------------------------------------------------------------------ actions
    def generate(self) -> None:
        """What the Generate button does."""
        self._start(self.session.imagine, self.prompt.value, **self.options("generate"))

    def edit(self) -> None:
        """What the Edit button does: continue from the current turn, with the painted mask if any."""
        opts = self.options("edit")
        painter = self.painter
        if painter is not None and painter.has_mask:
            opts["mask"] = painter
            if self.keep_outside.value:
                opts["keep_outside_mask"] = True
                opts["feather"] = self.feather.value
        if painter is not None and painter.has_markup and _spec(self.model.value).markup:
            opts["markup"] = painter.markup
        self._start(self.session.edit, self.prompt.value, **opts)

    def vary(self) -> None:
        """What the Vary button does: variations of the current turn's image."""
        self._start(self.session.vary, events=False, **self.options("vary"))

    def cancel(self) -> None:
        self.live.cancel()

    def wait(self, timeout: Optional[float] = None) -> Any:
        """Block until the last click's work is done (result shown, error area written); its result
        or None when it failed (the error is in ``studio.error.value``)."""
        if not self._idle.wait(timeout):
            raise TimeoutError("the studio is still busy")
        return self.live.result

    def show_error(self, error: Optional[BaseException]) -> None:
        """One readable line in the error area (None clears it)."""
        self.error.value = one_line(error) if error is not None else ""
        self.error.layout.display = None if error is not None else "none"

    # ------------------------------------------------------------------ running
    def _start(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        problem = self._size.problem(_spec(self.model.value))
        if problem is not None:  # the buttons are disabled, but a click can come from code
            self._show_size_problem(problem)
            return
        self.show_error(None)
        self._idle.clear()
        try:
            self.busy = True
            future = self.live.run(fn, *args, **kwargs)
        except Exception as e:
            self._ended(e)
            return
        future.add_done_callback(lambda f: self._ended(f.exception()))

    def _ended(self, error: Optional[BaseException]) -> None:
        try:
            self._show_variants(None if error is not None else self.live.result)
            if error is not None:
                self.show_error(error)
                if not isinstance(error, ImagewidgetsError):  # a bug, not a user error: keep the traceback
                    report_error(self, error)
            self.busy = False
        finally:
            self._idle.set()

    @reported
    def _show_variants(self, result: Any) -> None:
        """Several images from one click: a grid with "continue from this" under each."""
        from ..api.results import ImageSet

        if isinstance(result, ImageSet) and len(result) > 1:
            from .variants import VariantGrid

            self.variants = VariantGrid(self.session, thumb_size=160)
            self.variants_box.children = [self.variants]
        else:
            self.variants, self.variants_box.children = None, []

    # ------------------------------------------------------------------ following the controls
    @reported
    def _on_model(self, change: Any = None) -> None:
        spec = _spec(self.model.value)
        before = self.cost.value
        changed: list[str] = []
        self._quiet = True  # one cost update for the whole change, not one per control
        try:
            for option in _CHOICES:
                wanted = self._wanted.get(option)
                if option == "size":
                    moved = self._size.offer(spec, wanted)
                elif starts_unset(option):
                    offer_unset(getattr(self, option), spec, option)
                    moved = None
                else:
                    moved = offer(getattr(self, option), spec, option, wanted)
                if moved is not None and change is not None:
                    changed.append(f"{_CHOICES[option].text} {moved[0]} → {moved[1]}")
            self._offer_sliders(spec)
            self.model.tooltip = _lifecycle_note(spec.name) or f"{spec.name}: {', '.join(spec.endpoints)}"
            self.responses_model.disabled = not spec.supports("responses")
        finally:
            self._quiet = False
        self._on_size()
        self._on_format()
        self._changed = ""
        if changed:
            now = self.cost.value.split(" (")[0]  # the amount, without the token counts
            was = (before or "").split(" (")[0]
            self._changed = f"{spec.name} does not take " + ", ".join(changed) + (
                f"; estimate {was} → {now}" if was and was != now else "")
        self._update_note()

    def _remember(self, change: Any) -> None:
        """What the user chose (not what a model switch set): kept across models that accept it."""
        if getattr(self, "_quiet", False):
            return
        for option in _CHOICES:
            if change["owner"] is getattr(self, option) or (option == "size" and change["owner"] in (
                    self._size.choice, self._size.free)):
                self._wanted[option] = change["new"]
        if self._changed:
            self._changed = ""
            self._update_note()

    def _update_note(self) -> None:
        """The visible note under the controls: what a model switch changed, and why controls are off."""
        off = [getattr(self, o) for o in _CHOICES if o != "size"] + [getattr(self, p.attr) for p in _SLIDERS.values()]
        name = self.model.value
        reasons = [w.tooltip.replace(f"{name} does not accept ", "") for w in off if w.disabled and w.tooltip]
        lines = [f"Changed: {self._changed}." if self._changed else "",
                 (f"Off for {name}: " + "; ".join(reasons) + ".") if reasons else ""]
        self.note.value = "<br>".join(html.escape(line) for line in lines if line)

    @reported
    def _on_size(self, change: Any = None) -> None:
        """A size the model table refuses: its reason in the error area, the buttons disabled."""
        problem = self._size.problem(_spec(self.model.value))
        self._show_size_problem(problem)
        if change is not None:
            self._update_cost()
            self._update_buttons()

    def _show_size_problem(self, problem: Optional[ImagewidgetsError]) -> None:
        shown = self.error.value
        if problem is not None:
            self.show_error(problem)
        elif shown and shown == self._size_error:
            self.show_error(None)  # the size was the error, and it is fixed now
        self._size_error = self.error.value if problem is not None else None

    @reported
    def _on_format(self, change: Any = None) -> None:
        self._offer_sliders(_spec(self.model.value))
        self._update_cost()
        self._update_buttons()
        if not getattr(self, "_quiet", False) and hasattr(self, "note"):
            self._update_note()

    def _offer_sliders(self, spec: Any) -> None:
        """Every slider fitted to the model and to the other controls' values (``Param.only``)."""
        fields = {o: getattr(self, o).value for o in _CHOICES if o != "size"}
        fields["output_format"] = fields.get("output_format") or "png"
        for p in _SLIDERS.values():
            offer_slider(getattr(self, p.attr), spec, p, fields)

    @reported
    def _on_pins(self) -> None:
        pins = self.session.pins() if hasattr(self.session, "pins") else []
        self.pins_note.value = ("📌 every turn carries: " + ", ".join(
            f"{html.escape(p.name)} ({p.role})" for p in pins)) if pins else ""
        self._update_cost()

    def _update_cost(self, change: Any = None) -> None:
        if self._quiet:
            return
        try:
            problem = self._size.problem(_spec(self.model.value))
            if problem is not None:
                raise problem
            est = self.estimate()
        except ImagewidgetsError as e:
            self.cost.value, self.cost.tooltip = "≈ $?", one_line(e)
            return
        self.cost.value = str(est)
        # where each part comes from: table, formula or assumption (cost.Estimate.sources)
        self.cost.tooltip = est.explain() or "; ".join(est.assumptions) or "estimate"

    def _update_buttons(self) -> None:
        spec = _spec(self.model.value)
        busy = self.busy
        problem = self._size.problem(spec)
        for button, endpoints, verb in (
            (self.generate_button, ("generations", "responses"), "generate"),
            (self.edit_button, ("edits", "responses"), "edit"),
            (self.vary_button, ("variations",), "make variations"),
        ):
            able = any(spec.supports(e) for e in endpoints)
            button.disabled = busy or not able or problem is not None
            button.tooltip = (f"{spec.name} cannot {verb}" if not able else "a request is running" if busy
                              else f"size {self.size.value!r}: {problem.hint}" if problem is not None
                              else f"{verb} with {spec.name} ({self.cost.value})")

    @reported
    def _on_responses_model(self, change: Any) -> None:
        name = (change["new"] or "").strip()
        self.session.responses_model = name or None
        self.responses_model.tooltip = _lifecycle_note(self.session.responses_model) or (
            "the model Responses turns (multi-turn edits) are sent with")

    @reported
    def _on_mask_toggle(self, change: Any) -> None:
        if not change["new"]:
            self.painter, self.mask_box.children = None, []
            return
        current = self.session.current
        if current is None or current.image is None:
            self.show_error(ValueError("Mask…: generate an image or pick one in the gallery first"))
            self.mask_toggle.value = False
            return
        from .mask import MaskPainter

        self.painter = MaskPainter(current.image.data)
        self.painter.add_class("iw-mask-painter")
        self.mask_box.children = [self.painter]

    @reported
    def _on_selected(self, change: Any) -> None:
        current = self.session.current
        if current is not None and not self.live.running:  # the gallery's preview is the live view
            self.live.show_turn(current)
        if self.painter is not None and current is not None and current.image is not None:
            self.painter.set_image(current.image.data)  # a mask belongs to one picture

    # ------------------------------------------------------------------ layout
    def _build(self, live_width: int) -> None:
        self.prompt = W.Textarea(placeholder="describe the image…", layout=W.Layout(width="100%", height="64px"))
        self.prompt.add_class("iw-prompt")
        names = model_names()
        if self.session.model not in names:
            names.insert(0, self.session.model)
        labels = [(n if is_live(n) else f"{n} (shut down)", n) for n in names]
        self.model = dropdown("model", "iw-model")
        self.model.options = labels
        self.model.value = self.session.model
        self._size = SizeControl(self._on_size)
        # the mainline model of Responses turns: a session setting (Session(responses_model=...)),
        # offered with the current mainline models; any name can be typed for compatible servers
        self.responses_model = W.Combobox(description="mainline", options=_mainline_choices(),
                                          value=self.session.responses_model, ensure_option=False,
                                          style={"description_width": "80px"}, layout=W.Layout(width="260px"))
        self.responses_model.add_class("iw-responses-model")
        self.responses_model.tooltip = "the model Responses turns (multi-turn edits) are sent with"
        self.responses_model.observe(self._on_responses_model, names=["value"])
        for option, p in _CHOICES.items():  # one dropdown per choice parameter; size has its own control
            if option != "size":
                setattr(self, option, dropdown(p.control or option, f"iw-{p.control}"))
        dropdowns = [getattr(self, option) for option in _CHOICES if option != "size"]
        for p in _SLIDERS.values():  # one slider per whole-number parameter with a control
            setattr(self, p.attr, slider(p))
        sliders = [getattr(self, p.attr) for p in _SLIDERS.values()]
        self.cost = W.Label()
        self.cost.add_class("iw-cost")

        self.generate_button = self._button("Generate", "iw-generate", "magic", self.generate, "primary")
        self.edit_button = self._button("Edit", "iw-edit", "pencil", self.edit)
        self.vary_button = self._button("Vary", "iw-vary", "clone", self.vary)
        self.mask_toggle = W.ToggleButton(description="Mask…", icon="paint-brush",
                                          tooltip="paint where the next Edit may change the current image")
        self.mask_toggle.add_class("iw-mask-toggle")
        self.mask_toggle.observe(self._on_mask_toggle, names=["value"])
        self.keep_outside = W.Checkbox(False, description="keep outside mask", indent=False,
                                       tooltip="put the current image's pixels back outside the painted mask "
                                       "(the API's own image is kept too)", layout=W.Layout(width="auto"))
        self.keep_outside.add_class("iw-keep-outside")
        self.feather = W.BoundedIntText(0, min=0, max=256, description="feather px", layout=W.Layout(width="150px"),
                                        style={"description_width": "70px"})
        self.feather.add_class("iw-feather")
        self.live = LiveImage(width=live_width, cancel_button=False)
        self.cancel_button = self.live.cancel_button
        self.note = W.HTML(style={"font_size": "12px"}, layout=W.Layout(margin="0 0 0 8px"))
        self.note.add_class("iw-note")
        self.error = W.Label(style={"text_color": "#c0392b"}, layout=W.Layout(display="none"))
        self.error.add_class("iw-error")
        self.mask_box = W.VBox(layout=W.Layout(align_items="flex-start"))  # the painter keeps its size
        self.variants = None
        self.variants_box = W.VBox()
        self.variants_box.add_class("iw-studio-variants")
        self.gallery = Gallery(self.session)
        self.gallery.observe(self._on_selected, names=["selected"])
        #: which pictures every turn carries (the gallery's pin toggles change them)
        self.pins_note = W.HTML(style={"font_size": "12px"})
        self.pins_note.add_class("iw-studio-pins")
        self.gallery.on_pins(self._on_pins)

        self.model.observe(self._on_model, names=["value"])
        self.output_format.observe(self._on_format, names=["value"])  # which updates the cost too
        priced = [getattr(self, o) for o in _CHOICES if o not in _EDIT_ONLY and o not in ("size", "output_format")]
        for w in (self.prompt, *priced, *sliders):
            w.observe(self._update_cost, names=["value"])
        self.cost.observe(lambda _c: self._update_buttons(), names=["value"])
        for w in (*dropdowns, self._size.choice, self._size.free):
            w.observe(self._remember, names=["value"])

        self.children = [
            self.prompt,
            W.HBox([labelled(self.model), self._size.box, *map(labelled, dropdowns[:2])]),
            W.HBox(list(map(labelled, dropdowns[2:])), layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.responses_model]),
            W.HBox(sliders, layout=W.Layout(flex_flow="row wrap")),
            self.note,
            W.HBox([self.generate_button, self.edit_button, self.vary_button, self.mask_toggle,
                    self.keep_outside, self.feather, self.cancel_button], layout=W.Layout(align_items="center")),
            self.cost,
            self.pins_note,
            self.error,
            self.mask_box,
            self.variants_box,
            W.HBox([self.live, self.gallery]),
            self.output,
        ]

    def _button(self, text: str, cls: str, icon: str, action: Any, style: str = "") -> W.Button:
        button = W.Button(description=text, icon=icon, button_style=style)
        button.add_class(cls)
        button.on_click(lambda _b: self._clicked(action))
        return button

    @reported
    def _clicked(self, action: Any) -> None:
        action()
