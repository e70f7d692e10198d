"""The ImageStudio's model-dependent controls: the choices each model's table row offers, those
that start on "default" (dall-e-3's style), and a size control that takes any ``WxH`` for models
with the free size rule. The choices are the parameters declared with a ``control`` (``api/params.py``)."""

from __future__ import annotations

from typing import Any, Callable, Optional, Union

import ipywidgets as W

from ..api.errors import ParamError
from ..api.models import COMPRESSED_FORMATS, ModelSpec, get_model, parse_size
from ..api.params import Param, params_of, registry
from ..api.requests import GenerateRequest

__all__ = ["CHOICES", "COMPRESSED", "EDIT_ONLY", "SizeControl", "choices", "offer", "offer_unset", "spec_of",
           "starts_unset"]

#: request option -> its parameter, for every choice parameter with a studio control (``api/params.py``)
CHOICES: dict[str, Param] = {p.name: p for p in registry().values() if p.control and p.choices}
#: the choices only an edit sends (generations do not take them)
EDIT_ONLY = frozenset(CHOICES) - {p.name for p in params_of(GenerateRequest)}
COMPRESSED = COMPRESSED_FORMATS
#: common sizes offered (beside the fixed ones) for models with the free WxH rule
_FREE_PRESETS = ("1280x720", "720x1280", "2048x1152", "1152x2048", "2560x1440", "3840x2160")
#: the first entry of a choice that starts unset: send none, so the API's own default applies
_UNSET = ("default", "")

_CONTROL = {"layout": {"width": "220px"}, "style": {"description_width": "80px"}}


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


def dropdown(desc: str, cls: str) -> W.Dropdown:
    widget = W.Dropdown(description=desc, **_CONTROL)
    widget.add_class(cls)
    return widget


def offer(widget: W.Dropdown, spec: ModelSpec, option: str) -> None:
    """Offer only what the model accepts; a control it does not accept is disabled, with why."""
    label = CHOICES[option].text
    values = choices(spec, option)
    previous = widget.value
    preferred = {"size": spec.default_size, "quality": spec.default_quality}.get(option, CHOICES[option].prefer)
    widget.options = values
    if previous in values:
        widget.value = previous
    elif preferred in values:
        widget.value = preferred
    widget.disabled = not values
    if not values:
        widget.tooltip = f"{spec.name} does not accept {label}"
    else:
        widget.tooltip = f"{label} for {spec.name}: {', '.join(values)}"
        if option in EDIT_ONLY:
            widget.tooltip += " (Edit only)"


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
    widget.options = (_UNSET, *((v, v) for v in values)) if values else ()
    widget.value = previous if previous in values else "" if values else None
    widget.disabled = not values
    widget.tooltip = (f"{label} for {spec.name}: {' or '.join(values)} ('default' sends none: the API's own applies)"
                      if values else f"{spec.name} does not accept {label}")



SizeWidget = Union[W.Dropdown, W.Combobox]


class SizeControl:
    """The size of a request, in a box with the ``iw-size`` class that holds one of two widgets:
    a Dropdown of the model's sizes, or, for models with the free ``WxH`` rule, a Combobox whose
    presets are suggestions and where any ``WxH`` can be typed. ``problem(spec)`` says why the
    value cannot be sent (the model table's reason), or None."""

    def __init__(self, on_change: Callable[[Any], None]) -> None:
        self.choice = dropdown("size", "iw-size-choice")
        # continuous_update=False: check what was typed on Enter or blur, not at every keystroke
        self.free = W.Combobox(description="size", placeholder="WxH, e.g. 1600x896", ensure_option=False,
                               continuous_update=False, **_CONTROL)
        self.free.add_class("iw-size-free")
        self.widget: SizeWidget = self.choice
        self.box = W.HBox([self.choice])
        self.box.add_class("iw-size")
        self.free.observe(self._tidy, names=["value"])
        for widget in (self.choice, self.free):
            widget.observe(on_change, names=["value"])

    def offer(self, spec: ModelSpec) -> None:
        """Show the widget that fits the model, keeping the value when the model accepts it."""
        previous = self.widget.value
        if not spec.free_size:
            self.widget = self.choice
            offer(self.choice, spec, "size")
        else:
            self.widget = self.free
            values = choices(spec, "size")
            self.free.options = values
            if previous is None or spec.size_error(previous) is not None:
                previous = spec.default_size if spec.default_size in values else values[0]
            self.free.value = previous
            self.free.disabled = False
            self.free.tooltip = (f"size for {spec.name}: pick one or type {spec.free_size.describe()}"
                                 f"{'' if not spec.size_auto else ', or auto'}")
        self.box.children = (self.widget,)

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
