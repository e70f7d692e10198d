"""Every rule of the model table, checked before any request is sent.

Whoever sends a request calls ``validate`` first: the client (``Client`` and ``Batch`` lines), the
session (each turn, and a whole sweep or storyboard before its first cell), and the offline
server on what it receives, so the client and the server cannot disagree. The rules read the
request types; the request types know nothing of the rules. Each check raises ``ParamError``
naming the parameter, the value given and what is allowed:

    >>> validate(GenerateRequest("a fox", output_format="png", output_compression=50))
    Traceback (most recent call last):
    ParamError: output_compression=50 is not allowed for gpt-image-2 (output_compression applies only to jpeg and webp; output_format is png); allowed: ...
"""

from __future__ import annotations

import weakref
from typing import Any

from ._warn import warn
from .errors import ParamError
from .masks import check_mask
from .models import COMPLETION_WINDOWS, COMPRESSED_FORMATS, TRANSPARENT_FORMATS, ModelSpec, get_model, model_names
from .params import Param, params_of
from .registry import registry
from .requests import EditRequest, ImageRequest, OutputOptions, ResponsesRequest, VariationRequest

__all__ = ["validate", "UnknownModelWarning", "check_mask"]


class UnknownModelWarning(UserWarning):
    """The model is not in imagewidgets' table: it is sent as given, and only generic rules are checked."""


def _one_of(param: str, value: Any, allowed: tuple[str, ...] | list[str], model: str | None) -> None:
    if value is not None and value not in allowed:
        if not allowed:
            raise ParamError(param, value, "none (omit it)", model=model, hint=f"{model} does not take {param}")
        raise ParamError(param, value, ", ".join(allowed), model=model)


def _int_range(param: str, value: Any, lo: int, hi: int, model: str | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamError(param, value, f"a whole number from {lo} to {hi}", model=model)
    if not lo <= value <= hi:
        allowed = str(lo) if lo == hi else f"{lo} to {hi}"
        raise ParamError(param, value, allowed, model=model)


#: the requests that passed (by identity, forgotten with the request): requests are immutable, so
#: one that passed is not checked again and a Session and its Client do not both warn about it
_passed: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()


def validate(req: ImageRequest) -> None:
    """Check ``req`` (any request type) against the model table; raise ``ParamError`` on the first
    broken rule. A request that passed once is not checked again."""
    if _passed.get(id(req)) is req:
        return
    _check(req)
    _passed[id(req)] = req


def _check(req: ImageRequest) -> None:
    endpoint = req.endpoint
    model_name = req.model
    spec = get_model(model_name) if isinstance(model_name, str) else None
    if not isinstance(model_name, str) or not model_name:
        raise ParamError("model", model_name, ", ".join(model_names()) + " (or a model your server knows)")
    if spec is None:
        warn(f"model {model_name!r} is not in imagewidgets' table; sending it as given "
             "and checking only the generic rules", UnknownModelWarning)
    _check_types(req)
    _check_prompt(req, spec)
    _check_decodable(req)
    if spec is not None and not spec.supports(endpoint) and bool(getattr(req, "pins", None)):
        _check_pins(req, spec, len(getattr(req, "images", ()) or getattr(req, "input_images", ())))
    if spec is not None and not spec.supports(endpoint):
        serving = ", ".join(model_names(endpoint)) or "none"
        raise ParamError(
            "model", model_name, serving,
            hint=f"{model_name} does not serve the {_endpoint_label(endpoint)}",
        )
    if isinstance(req, VariationRequest):
        _check_variation(req, spec)
        return
    _check_output(req, spec)
    if isinstance(req, EditRequest):
        _check_edit(req, spec)
    if isinstance(req, ResponsesRequest):
        _check_responses(req, spec)


#: Parameters that are text when given (the model table checks their values; this checks the type first,
#: so ``size=1024`` is a ParamError naming ``size``, not a TypeError from deep inside a check)
_TEXT_PARAMS = tuple(p.name for p in registry().values() if p.json is str and p.name != "model") + (
    "previous_response_id", "responses_model", "instructions", "tool_choice", "completion_window")


def _check_text(param: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ParamError(param, value, "text", hint=f"{param} is {type(value).__name__}, not text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ParamError(param, f"<{len(value)} characters>", "text that is valid Unicode",
                         hint="it holds a lone surrogate (a broken character)") from None
    if "\x00" in value:
        raise ParamError(param, f"<{len(value)} characters>", "text without NUL characters")


def _check_types(req: ImageRequest) -> None:
    for param in _TEXT_PARAMS:
        value = getattr(req, param, None)
        if value is not None:
            _check_text(param, value)
    if isinstance(getattr(req, "prompt", None), str) and req.prompt:
        _check_text("prompt", req.prompt)
    stream = getattr(req, "stream", False)
    if not isinstance(stream, bool):
        raise ParamError("stream", stream, "True or False")
    for param in ("svg", "extra_body"):
        value = getattr(req, param, None)
        if value is not None and not isinstance(value, dict):
            raise ParamError(param, value, "a dict")


def _input_images(req: ImageRequest) -> list[tuple[str, Any]]:
    """Every input image of ``req`` with the parameter that names it."""
    out: list[tuple[str, Any]] = []
    for param in ("images", "input_images"):
        seq = getattr(req, param, ()) or ()
        label = "image" if param == "images" else param
        out += [(label if len(seq) == 1 else f"{label}[{i}]", img) for i, img in enumerate(seq)]
    for param in ("image", "mask", "markup"):
        img = getattr(req, param, None)
        if img is not None and not isinstance(img, (tuple, list)):
            out.append((param, img))
    return out


def _check_decodable(req: ImageRequest) -> None:
    """Every image given as bytes decodes, within the pixel budget (a corrupt file or a
    decompression bomb is refused here, before anything is sent or drawn)."""
    from .images import inspect_image

    for param, img in _input_images(req):
        if getattr(img, "data", None) is not None:
            fmt, _, _ = inspect_image(img.data, param)
            if img.format is not None and fmt != img.format:
                raise ParamError(param, f"<{fmt} bytes>", f"{img.format} bytes", hint="the bytes are not the format "
                                 "they claim to be")


def _endpoint_label(endpoint: str) -> str:
    return {
        "generations": "generations endpoint",
        "edits": "edits endpoint",
        "variations": "variations endpoint",
        "responses": "Responses API image_generation tool",
    }[endpoint]


def _check_prompt(req: ImageRequest, spec: ModelSpec | None) -> None:
    if req.endpoint == "variations":
        return
    prompt = req.prompt
    if not isinstance(prompt, str) or not prompt.strip():
        if isinstance(req, ResponsesRequest) and (req.previous_response_id or req.input_images):
            if isinstance(prompt, str):
                return
        raise ParamError("prompt", prompt, "a non-empty text", hint="the prompt is required")
    if spec is not None and len(prompt) > spec.prompt_max:
        raise ParamError(
            "prompt", f"<{len(prompt)} characters>", f"at most {spec.prompt_max} characters", model=spec.name
        )


def _bounds(param: str, spec: ModelSpec | None) -> tuple[int, int]:
    """The whole numbers ``param`` takes (declared with the parameter; the model's own maximum when it has one)."""
    p = registry()[param]
    lo, hi = p.bounds()
    return (lo, getattr(spec, p.max_from)) if spec is not None and p.max_from else (lo, hi)


def _check_output(req: OutputOptions, spec: ModelSpec | None) -> None:
    name = spec.name if spec else req.model
    if req.endpoint == "responses" and req.n not in (None, 1):
        raise ParamError("n", req.n, "1", hint="the Responses tool makes one image per call; a Session makes "
                         "n calls for you (s.imagine(..., n=4)), or use the Image API")
    fmt = req.effective_format
    kind: type = type(req)
    for p in params_of(kind):  # every declared parameter: the model takes it, its condition, its range
        _check_declared(p, getattr(req, p.name), req, spec, fmt, name)
    if spec is None:
        return
    if req.size is not None:
        reason = spec.size_error(req.size)
        if reason:
            raise ParamError("size", req.size, spec.allowed_sizes(), model=name, hint=reason)
    for p in params_of(kind):  # every choice parameter: one of the values this model's row lists
        if p.choices and p.name != "size":  # (sizes have their own rule, above)
            _one_of(p.name, getattr(req, p.name), getattr(spec, p.choices), name)
    if req.stream and not spec.streaming:
        raise ParamError("stream", True, "False", model=name, hint=f"{name} does not stream")
    if req.background == "transparent" and fmt not in TRANSPARENT_FORMATS:
        raise ParamError(
            "background", "transparent", "opaque or auto, or use output_format png or webp",
            model=name, hint=f"a transparent background needs png or webp; output_format is {fmt}",
        )
    if req.background == "transparent" and spec.transparent_preview:
        warn(f"transparent backgrounds are in preview on {name}")
    _check_new_formats(req, spec, fmt, name)
    if req.size and spec.free_size:
        from .models import parse_size

        wh = parse_size(req.size)
        if wh and wh[0] * wh[1] > spec.free_size.experimental_pixels:
            warn(f"sizes above {spec.free_size.experimental_size} are experimental on {name}")


def _check_declared(p: Param, value: Any, req: OutputOptions, spec: ModelSpec | None, fmt: str, name: str) -> None:
    """One declared parameter (``api/params.py``): taken by the model at all, its ``only`` condition
    ("only when streaming", "only with gif"), then its whole-number range for this model."""
    if not p.in_use(value) and not (p.range and value is not None):
        return
    if p.in_use(value) and not p.accepted_by(spec) and not p.choices:
        raise ParamError(p.name, value, "none (omit it)", model=name, hint=f"{name} does not take {p.text}")
    if p.only is not None and p.in_use(value):
        field = p.only[0]
        current = fmt if field == "output_format" else getattr(req, field, None)
        why = p.condition_fails(current)
        if why is not None:
            raise ParamError(p.name, value, p.condition_allows(), model=name, hint=why)
    if p.json is int and p.range and value is not None:
        lo, hi = p.bounds_for(spec)
        if p.capped:
            # the API rounds frame delays to 10 ms and caps them at the declared maximum: larger
            # values are accepted and capped, only the minimum is a rule
            if isinstance(value, bool) or not isinstance(value, int) or value < lo:
                raise ParamError(p.name, value, f"a whole number, {lo} or more (values above {hi} are capped)",
                                 model=name)
        else:
            _int_range(p.name, value, lo, hi, name)


def _check_new_formats(req: OutputOptions, spec: ModelSpec, fmt: str, name: str) -> None:
    if fmt == "gif":
        if req.partial_images:
            raise ParamError("partial_images", req.partial_images, "0", model=name,
                             hint="gif output has no streaming partial images")
        if getattr(req, "mask", None) is not None:
            raise ParamError("mask", "<mask>", "no mask", model=name, hint="gif output takes no mask")
        if req.stream and req.endpoint != "responses":
            raise ParamError("stream", True, "False", model=name,
                             hint="gif output does not stream on the Image API (the Responses API still "
                                  "streams its lifecycle events)")
    if fmt == "svg":
        if req.n not in (None, 1):
            raise ParamError("n", req.n, "1", model=name, hint="svg output makes one image")
        if req.stream:
            raise ParamError("stream", True, "False", model=name, hint="svg output does not stream")
        if req.svg is not None:
            _check_svg(req.svg, name)


#: the SVG author's reasoning efforts the API accepts (openai SDK 3.57 ``SvgReasoning.effort``)
SVG_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


def _check_svg(svg: Any, name: str) -> None:
    shape = "a dict with 'model' (the SVG author, a model name) and optionally 'reasoning': {'effort': ...}"
    if not isinstance(svg, dict) or set(svg) - {"model", "reasoning"}:
        raise ParamError("svg", svg, shape, model=name)
    model = svg.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip() or len(model) > 200):
        raise ParamError("svg.model", model, "a model name such as gpt-5.5", model=name)
    reasoning = svg.get("reasoning")
    if reasoning is None:
        return
    if not isinstance(reasoning, dict) or set(reasoning) - {"effort"}:
        raise ParamError("svg.reasoning", reasoning, "{'effort': " + "/".join(SVG_EFFORTS) + "}", model=name)
    _one_of("svg.reasoning.effort", reasoning.get("effort"), SVG_EFFORTS, name)


def _check_images(images: tuple, spec: ModelSpec, param: str) -> None:
    name = spec.name
    for i, img in enumerate(images):
        label = param if len(images) == 1 else f"{param}[{i}]"
        if img.data is None:
            continue  # file ids and URLs are checked by the server
        if img.format not in spec.edit_image_formats:
            raise ParamError(label, f"<{img.format} image>", ", ".join(spec.edit_image_formats), model=name,
                             hint="unsupported image format")
        if len(img.data) >= spec.edit_image_max_bytes:
            mb = spec.edit_image_max_bytes // (1024 * 1024)
            raise ParamError(label, f"<{len(img.data)} bytes>", f"less than {mb} MB", model=name,
                             hint="the image file is too large")
        if spec.edit_square_png_only:
            wh = img.size()
            if wh and wh[0] != wh[1]:
                raise ParamError(label, f"<{wh[0]}x{wh[1]} image>", "a square PNG", model=name,
                                 hint="dall-e-2 edits need a square image")


def _check_pins(req: ImageRequest, spec: ModelSpec | None, images: int) -> None:
    """Pinned references ride on the edit's ``image[]`` (or the tool's input images): the model must
    take that many; if it takes none (or too few), name one that does."""
    pins = getattr(req, "pins", ())
    if not pins or spec is None:
        return
    need = images + len(pins)
    most = spec.edit_images_max if req.endpoint == "edits" else max(spec.edit_images_max, need)
    if not spec.supports(req.endpoint):  # no edits at all (dall-e-3): no references either
        most = 0
    if need > most:
        from .models import DEFAULT_MODEL

        takes = "no reference images" if most == 0 else f"at most {most} image{'s' if most != 1 else ''}"
        ok = get_model(DEFAULT_MODEL)
        raise ParamError("pins", f"<{len(pins)} pinned>", f"a model that takes {need} images, e.g. {DEFAULT_MODEL}"
                         f" (up to {ok.edit_images_max if ok else 16})", model=spec.name,
                         message=f"{spec.name} takes {takes}, and this turn carries {need} "
                         f"({images} to edit + {len(pins)} pinned: " + ", ".join(p.name for p in pins)
                         + f"); use model={DEFAULT_MODEL!r}, which takes up to "
                         f"{ok.edit_images_max if ok else 16}, or unpin some (session.unpin)")
    _check_images(tuple(p.image for p in pins if p.image.data is not None), spec, "pins")


def _check_edit(req: EditRequest, spec: ModelSpec | None) -> None:
    name = spec.name if spec else req.model
    _check_pins(req, spec, len(req.images))
    if not req.images and not req.pins:
        raise ParamError("image", None, "one or more images", model=name, hint="an edit needs an image")
    if (req.mask is not None or req.markup is not None) and not req.images:
        raise ParamError("mask" if req.mask is not None else "markup", "<mask>", "a mask together with an image to edit", model=name,
                         hint="pinned references are not edited: give the image the mask applies to")
    if req.moderation is not None:  # found by the drift test: no moderation in the SDK's or OpenAPI's edits
        raise ParamError("moderation", req.moderation, "omit it", model=name,
                         hint="the edits endpoint has no moderation parameter; the Responses API's image tool "
                              "has one (api='responses')")
    if spec is not None:
        if len(req.images) > spec.edit_images_max:
            raise ParamError("image", f"<{len(req.images)} images>", f"at most {spec.edit_images_max}",
                             model=name)
        _check_images(req.images, spec, "image")
        if req.markup is not None and not spec.markup:
            takes = ", ".join(m for m in model_names("edits") if get_model(m).markup)  # type: ignore[union-attr]
            raise ParamError("markup", "<markup>", f"models that take markup: {takes}", model=name,
                             hint=f"{name} does not take markup")
    if req.markup is not None and req.mask is not None:
        raise ParamError("markup", "<markup>", "either a mask or markup", model=name,
                         hint="markup cannot be combined with a mask")
    if req.images:
        check_mask(req.mask, req.images[0], name)
    if req.markup is not None:
        check_mask(req.markup, req.images[0], name, param="markup")


def _check_variation(req: VariationRequest, spec: ModelSpec | None) -> None:
    name = spec.name if spec else req.model
    _int_range("n", req.n, *_bounds("n", spec), name)
    if spec is None:
        return
    if req.size is not None and req.size not in spec.variation_sizes:
        raise ParamError("size", req.size, ", ".join(spec.variation_sizes), model=name)
    _one_of("response_format", req.response_format, spec.response_formats, name)
    img = req.image
    if img.data is not None:
        if img.format != "png":
            raise ParamError("image", f"<{img.format} image>", "a square PNG", model=name,
                             hint="variations need a PNG")
        if len(img.data) >= spec.variation_max_bytes:
            mb = spec.variation_max_bytes // (1024 * 1024)
            raise ParamError("image", f"<{len(img.data)} bytes>", f"less than {mb} MB", model=name)
        wh = img.size()
        if wh and wh[0] != wh[1]:
            raise ParamError("image", f"<{wh[0]}x{wh[1]} image>", "a square PNG", model=name,
                             hint="variations need a square image")


def _check_responses(req: ResponsesRequest, spec: ModelSpec | None) -> None:
    name = spec.name if spec else req.model
    _one_of("action", req.action, ("generate", "edit", "auto"), name)
    _one_of("completion_window", req.completion_window, COMPLETION_WINDOWS, name)
    if req.completion_window is not None and req.stream:
        raise ParamError("stream", True, "false for a background turn (completion_window)", model=name,
                         hint="a background turn is polled, not streamed: drop stream/partial_images or "
                         "completion_window")
    _check_pins(req, spec, len(req.input_images))
    if spec is not None:
        _check_images(tuple(i for i in req.input_images if i.data is not None), spec, "input_images")
    if req.mask is not None:
        # the tool edits the previous response's image when there is one, else the first input image
        target = req.base_image if req.base_image is not None else (req.input_images[0] if req.input_images else None)
        if target is None and not req.previous_response_id:
            raise ParamError("mask", "<mask>", "a mask together with an image to edit", model=name,
                             hint="there is no image for the mask to apply to: give input_images or continue "
                             "from a previous_response_id")
        check_mask(req.mask, target, name)
