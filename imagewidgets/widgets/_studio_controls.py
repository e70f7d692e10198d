"""The ImageStudio's model-dependent controls: the choices each model's table row offers, those
that start on "default" (dall-e-3's style), and a size control that takes any ``WxH`` for models
with the free size rule. The choices are the parameters declared with a ``control`` (``api/params.py``);
the whole-number parameters declared with one are sliders, whose range, "this model does not take it"
and "only with jpeg or webp" come from the same declaration."""

from __future__ import annotations

import html
from typing import Any, Callable, Optional, Union

import ipywidgets as W

from ..api.errors import ParamError
from ..api.models import COMPRESSED_FORMATS, ModelSpec, get_model, parse_size
from ..api.params import Param, params_of
from ..api.registry import registry, sliders
from ..api.requests import GenerateRequest

__all__ = ["CHOICES", "COMPRESSED", "EDIT_ONLY", "SLIDERS", "SizeControl", "choices", "labelled", "offer",
           "offer_slider", "offer_unset", "slider", "spec_of", "starts_unset"]

#: request option -> its parameter, for every choice parameter with a studio control (``api/params.py``)
CHOICES: dict[str, Param] = {p.name: p for p in registry().values() if p.control and p.choices}
#: request option -> its parameter, for every whole-number parameter with a studio control (a slider)
SLIDERS: dict[str, Param] = sliders()
#: the choices only an edit sends (generations do not take them)
EDIT_ONLY = frozenset(CHOICES) - {p.name for p in params_of(GenerateRequest)}
COMPRESSED = COMPRESSED_FORMATS
#: common sizes offered (beside the fixed ones) for models with the free WxH rule
_FREE_PRESETS = ("1280x720", "720x1280", "2048x1152", "1152x2048", "2560x1440", "3840x2160")
#: the first entry of a choice that starts unset: send none, so the API's own default applies
_UNSET = ("default", "")
#: what a disabled choice shows (greyed): the model does not take it, and nothing is sent ("")
_NOT_ACCEPTED = ("n/a", "")

_CONTROL = {"layout": {"width": "220px"}, "style": {"description_width": "80px"}}
#: a control's name beside it, and the control itself: ipywidgets shows a Dropdown's (or a Combobox's)
#: tooltip only when it has no description, so the name is a separate Label carrying the same tooltip
_NAME = {"width": "80px", "margin": "0 6px 0 0"}
_FIELD = {"width": "134px"}
#: the nearest choice when a model lacks the one set (quality low on dall-e-3: standard)
_NEAREST = {"low": ("standard", "medium"), "medium": ("standard", "auto"), "auto": ("standard", "medium"),
            "high": ("hd", "medium"), "xhigh": ("high", "hd"), "max": ("xhigh", "high", "hd"),
            "standard": ("medium", "auto", "low"), "hd": ("high", "medium")}


def spec_of(name: str) -> ModelSpec:
    return get_model(name) or ModelSpec(name=name, family="unknown")  # unknown: the server decides


def choices(spec: ModelSpec, option: str) -> tuple[str, ...]:
    """What the control of ``option`` offers for ``spec`` (sizes: the table's, presets, auto)."""
    values = tuple(getattr(spec, CHOICES[option].choices or ""))
    if option != "size":
        return values
    if spec.free_size:
        values += tuple(p for p in _FREE_PRESETS if spec.size_error(p) is None and p not in values)
    return values + ("auto",) if spec.size_auto and "auto" not in values else values


def _only_for(accepts: Callable[[ModelSpec], bool], spec: ModelSpec) -> str:
    """`` (only gpt-image-2.5-sunburst)``: the few live models that ``accepts``, nothing when many do,
    and when none does, says so with the replacement of those that did (never a shut-down model)."""
    from ..api.lifecycle import live_takers, nobody_takes

    live, replacements = live_takers(accepts)
    others = [n for n in live if n != spec.name]
    if not live:
        return f" ({nobody_takes('it', replacements)})"
    return f" (only {', '.join(others)})" if 0 < len(others) <= 3 else ""


def _only(option: str, spec: ModelSpec) -> str:
    """Which live models take the choice ``option`` (see :func:`_only_for`)."""
    return _only_for(lambda s: bool(choices(s, option)), spec)


def dropdown(desc: str, cls: str) -> W.Dropdown:
    """A Dropdown without a description (see :func:`labelled`), classed ``cls``."""
    widget = W.Dropdown(layout=_FIELD)
    widget.add_class(cls)
    widget.name = desc  # what labelled() shows
    return widget


class Name(W.HTML):
    """A control's name whose ``tooltip`` renders: ipywidgets puts a Label's or HTML's tooltip on its
    (empty, hidden) description, so the name is a span with a ``title``."""

    def __init__(self, text: str, **kwargs: Any) -> None:
        super().__init__(layout=_NAME, **kwargs)
        self.text = text
        self.add_class("iw-name")
        self.observe(self._render, names=["tooltip"])
        self._render()

    def _render(self, change: Any = None) -> None:
        title = html.escape(self.tooltip or "", quote=True)
        self.value = f'<div title="{title}" style="width: 74px; text-align: right">{html.escape(self.text)}</div>'


def labelled(widget: W.DOMWidget, name: str | None = None) -> W.HBox:
    """``widget`` with its name in front; hovering either shows the widget's tooltip."""
    label = Name(name or str(getattr(widget, "name", "")), tooltip=widget.tooltip)
    widget.observe(lambda change: setattr(label, "tooltip", change["new"]), names=["tooltip"])
    return W.HBox([label, widget], layout={"width": "220px", "align_items": "center"})


def _nearest(option: str, wanted: Any, values: tuple[str, ...]) -> Any:
    """The choice closest to ``wanted`` among ``values``: a size of the nearest shape, a quality of the
    nearest level (None: no sensible neighbour)."""
    if option == "size":
        wh = parse_size(wanted) if isinstance(wanted, str) else None
        sized = [(v, vwh) for v in values if (vwh := parse_size(v)) is not None]
        if wh and sized:
            return min(sized, key=lambda v: (abs(v[1][0] / v[1][1] - wh[0] / wh[1]), abs(v[1][0] - wh[0])))[0]
        return None
    return next((v for v in _NEAREST.get(wanted, ()) if v in values), None)


def offer(widget: W.Dropdown, spec: ModelSpec, option: str, wanted: Any = None) -> tuple[Any, Any] | None:
    """Offer only what the model accepts; a control it does not accept is disabled, with why.

    The value kept is ``wanted`` (what the user last chose; default: the current value) when the
    model accepts it, else the nearest choice, else the model's default; returns ``(wanted, used)``
    when the user's choice had to change, else None."""
    label = CHOICES[option].text
    values = choices(spec, option)
    previous = widget.value if wanted is None else wanted
    preferred = {"size": spec.default_size, "quality": spec.default_quality}.get(option, CHOICES[option].prefer)
    widget.options = values or (_NOT_ACCEPTED,)
    changed = None
    if not values:
        widget.value = ""
    elif previous in values:
        widget.value = previous
    elif values:
        near = _nearest(option, previous, values)
        widget.value = near if near is not None else preferred if preferred in values else values[0]
        changed = (previous, widget.value) if previous not in (None, "") else None
    widget.disabled = not values
    if not values:
        widget.tooltip = f"{spec.name} does not accept {label}" + _only(option, spec)
    else:
        widget.tooltip = f"{label} for {spec.name}: {', '.join(values)}"
        if option in EDIT_ONLY:
            widget.tooltip += " (Edit only)"
    return changed


def starts_unset(option: str) -> bool:
    """A choice with no value to start on (no ``prefer``, no model default) offers "default" first,
    which sends nothing: a new control never changes what a click sends until it is used."""
    return option not in ("size", "quality") and CHOICES[option].prefer is None


def offer_unset(widget: W.Dropdown, spec: ModelSpec, option: str = "style") -> None:
    """A choice that starts on "default" (send none, the API's own default applies), e.g. dall-e-3's
    style; enabled only for models whose table row lists values."""
    label = CHOICES[option].text
    values = choices(spec, option)
    previous = widget.value
    widget.options = (_UNSET, *((v, v) for v in values)) if values else (_NOT_ACCEPTED,)
    widget.value = previous if previous in values else ""
    widget.disabled = not values
    widget.tooltip = (f"{label} for {spec.name}: {' or '.join(values)} ('default' sends none: the API's own applies)"
                      if values else f"{spec.name} does not accept {label}" + _only(option, spec))


def slider(p: Param) -> W.IntSlider:
    """The slider of a whole-number parameter: its declared range, start value and label, classed
    ``iw-<control>`` (``iw-compression``)."""
    lo, hi = p.bounds()
    start = p.start if p.start is not None else lo
    widget = W.IntSlider(min(max(start, lo), hi), lo, hi, description=p.control,
                         style={"description_width": "90px"}, layout=W.Layout(width="290px"))
    widget.add_class(f"iw-{p.control}")
    return widget


def _help(p: Param, lo: int, hi: int) -> str:
    try:
        return p.help.format(lo=lo, hi=hi) if p.help else f"{p.text}, {lo} to {hi}"
    except (KeyError, IndexError, ValueError):
        return p.help


def offer_slider(widget: W.IntSlider, spec: ModelSpec, p: Param, fields: dict[str, Any]) -> None:
    """Fit a slider to the model: its range for ``spec``, disabled with why when the model does not
    take it or its condition (``only``) fails on ``fields``, the studio's other values."""
    lo, hi = p.bounds_for(spec)
    if not p.accepted_by(spec) or hi <= lo:
        widget.disabled, widget.tooltip = True, f"{spec.name} does not accept {p.text}" + _only_int(p, spec)
        return
    if widget.max < hi:  # widen first, so the value is never clamped by a passing range
        widget.max = hi
    widget.min, widget.max = lo, hi
    why = None
    if p.only is not None and p.only[0] in fields and fields[p.only[0]] not in p.only[1]:
        why = f"{p.text} applies to {' and '.join(map(str, p.only[1]))} only (not {fields[p.only[0]]})"
    widget.disabled = why is not None
    widget.tooltip = why or _help(p, lo, hi)


def _only_int(p: Param, spec: ModelSpec) -> str:
    """Which live models take the integer ``p`` with more than one value (see :func:`_only_for`)."""
    return _only_for(lambda s: p.accepted_by(s) and p.bounds_for(s)[1] > p.bounds_for(s)[0], spec)


SizeWidget = Union[W.Dropdown, W.Combobox]


class SizeControl:
    """The size of a request, in a box with the ``iw-size`` class that holds one of two widgets:
    a Dropdown of the model's sizes, or, for models with the free ``WxH`` rule, a Combobox whose
    presets are suggestions and where any ``WxH`` can be typed. ``problem(spec)`` says why the
    value cannot be sent (the model table's reason), or None."""

    def __init__(self, on_change: Callable[[Any], None]) -> None:
        self.choice = dropdown("size", "iw-size-choice")
        # continuous_update=False: check what was typed on Enter or blur, not at every keystroke
        self.free = W.Combobox(placeholder="WxH, e.g. 1600x896", ensure_option=False,
                               continuous_update=False, layout=_FIELD)
        self.free.add_class("iw-size-free")
        self.widget: SizeWidget = self.choice
        self.label = Name("size")
        for widget in (self.choice, self.free):  # the name shows the tooltip of the widget in use
            widget.observe(self._label_tooltip, names=["tooltip"])
        self.box = W.HBox([self.label, self.choice], layout={"width": "220px", "align_items": "center"})
        self.box.add_class("iw-size")
        self.free.observe(self._tidy, names=["value"])
        for widget in (self.choice, self.free):
            widget.observe(on_change, names=["value"])

    def _label_tooltip(self, change: Any) -> None:
        if change["owner"] is self.widget:
            self.label.tooltip = change["new"]

    def offer(self, spec: ModelSpec, wanted: Any = None) -> tuple[Any, Any] | None:
        """Show the widget that fits the model, keeping ``wanted`` (default: the current value) when the
        model accepts it; returns ``(wanted, used)`` when it had to change."""
        previous = self.widget.value if wanted is None else wanted
        changed = None
        if not spec.free_size:
            self.widget = self.choice
            changed = offer(self.choice, spec, "size", previous)
        else:
            self.widget = self.free
            values = choices(spec, "size")
            self.free.options = values
            if previous is None or spec.size_error(previous) is not None:
                used = _nearest("size", previous, values)
                used = used or (spec.default_size if spec.default_size in values else values[0])
                changed = (previous, used) if previous else None
                previous = used
            self.free.value = previous
            self.free.disabled = False
            self.free.tooltip = (f"size for {spec.name}: pick one or type {spec.free_size.describe()}"
                                 f"{'' if not spec.size_auto else ', or auto'}")
        self.label.tooltip = self.widget.tooltip
        self.box.children = (self.label, self.widget)
        return changed

    def problem(self, spec: ModelSpec) -> Optional[ParamError]:
        """Why the typed size cannot be sent to ``spec``'s model (None when it can)."""
        if self.widget is not self.free:
            return None  # a Dropdown offers only the table's sizes
        value = self.free.value
        reason = spec.size_error(value)
        if reason is None:
            return None
        if parse_size(value) is None:
            reason = "type it as WxH, e.g. 1600x896"
        return ParamError("size", value, spec.allowed_sizes(), model=spec.name, hint=reason)

    @staticmethod
    def _tidy(change: Any) -> None:
        """``" 1600 X 896 "`` -> ``"1600x896"`` (the owner sees the tidy value next)."""
        raw = change["new"] or ""
        tidy = "".join(raw.split()).lower().replace("×", "x")
        if tidy != raw:
            change["owner"].value = tidy
