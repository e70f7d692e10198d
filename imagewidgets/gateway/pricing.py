"""What a request may cost before it is forwarded (an upper bound, reserved against the budget), and
what it did cost after (from the ``usage`` the upstream reported).

    >>> q = quote("generations", {"model": "gpt-image-1", "prompt": "a kite", "quality": "low",
    ...                           "size": "1024x1024"})
    >>> q.model, round(q.usd, 5)
    ('gpt-image-1', 0.01114)

The bound takes the dearest choice wherever the request leaves one open ("auto" size or quality, no
input fidelity, a quality or size it does not know), counts every UTF-8 byte of text the body carries
as a token (keys, tool descriptions and JSON schemas included: a token is at least one byte, so this
is an upper bound whatever the tokenizer), prices a ``data:`` URL as an image only when it decodes to
one (any other ``data:`` string is text), and for gpt-image-2 and newer takes the larger of the seed's
token table and the published formula for those models. Prices come from ``imagewidgets.api.cost``
(one table). The Responses API's mainline model is not in that table: its input is priced at
``MAINLINE_INPUT_PER_M`` (or the image model's text rate, if dearer) and its output at
``MAINLINE_OUTPUT_PER_M`` for the turn's ``max_output_tokens``, which the gateway caps (both rates are
assumptions, say so to the teacher).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ..api.cost import (PARTIAL_IMAGE_TOKENS, cost_of, formula_tokens, image_input_tokens, output_tokens, prices_for,
                        uses_formula)
from ..api.models import DEFAULT_MODEL, DEFAULT_TOOL_MODEL, ModelSpec, get_model, parse_size
from ..api.usage import Usage

__all__ = ["Quote", "quote", "settle_images", "settle_response", "text_and_images", "MAINLINE_INPUT_PER_M",
           "MAINLINE_OUTPUT_PER_M", "MAINLINE_OUTPUT_ALLOWANCE"]

#: assumed USD per million input tokens of the Responses API's mainline model (not in the price table)
MAINLINE_INPUT_PER_M = 5.0
#: assumed USD per million output tokens of the Responses API's mainline model (not in the price table)
MAINLINE_OUTPUT_PER_M = 15.0
#: mainline output tokens a Responses turn may use unless the teacher says otherwise: its
#: ``max_output_tokens`` is capped at this (reasoning included), and the reservation holds all of it
MAINLINE_OUTPUT_ALLOWANCE = 2000
#: an input image whose bytes the gateway does not see (a file id, a previous turn): the dearest
#: non-square image of the vision rule with high fidelity
_UNSEEN_IMAGE_TOKENS = image_input_tokens(1536, 1024, "high")
_QUALITY_ORDER = ("low", "standard", "medium", "hd", "high", "xhigh", "max")


@dataclass(frozen=True)
class Quote:
    """The reservation for one request, and what the class rules need to see of it."""

    endpoint: str
    model: str | None
    usd: float
    stream: bool = False
    #: image model, size and quality as asked (None: left to the default), with their wire names
    asked: dict[str, Any] = field(default_factory=dict)
    #: tokens of text at most (carried along a Responses chain: the next turn reads this one's text)
    text_chars: int = 0
    #: images a Responses turn holds in its context (carried along a chain too)
    images: int = 0


def _dearest_quality(spec: ModelSpec | None, quality: Any) -> str:
    known = spec.qualities if spec else _QUALITY_ORDER
    if isinstance(quality, str) and quality in _QUALITY_ORDER and quality in known:
        return quality
    options = [q for q in (spec.qualities if spec else ()) if q != "auto"] or ["high"]
    return max(options, key=lambda q: _QUALITY_ORDER.index(q) if q in _QUALITY_ORDER else 4)


def _sizes(spec: ModelSpec | None, size: Any) -> list[tuple[int, int]]:
    """The size asked for, or every size the server may pick when it is left open ("auto", none, one
    we cannot read): the dearest is found by tokens, not by area (the formula for gpt-image-2 gives
    a square more tokens than a wider picture)."""
    wh = parse_size(size) if isinstance(size, str) else None
    if wh:
        return [wh]
    options = [parse_size(s) for s in (spec.sizes if spec else ())] + [(1024, 1024), (1024, 1536), (1536, 1024)]
    return list({o for o in options if o})


def _output_tokens(spec: ModelSpec | None, quality: str, w: int, h: int, partials: int) -> int:
    """The larger of the token table and the gpt-image-2 formula, both ``api/cost.py``'s (one formula)."""
    table = output_tokens(quality, f"{w}x{h}", partials)
    if spec is None or spec.free_size is not None or spec.family != "gpt-image" or uses_formula(spec.name):
        table = max(table, formula_tokens(quality, w, h) + PARTIAL_IMAGE_TOKENS * partials)
    return table


def _image_tokens(images: list[bytes], unseen: int, fidelity: str | None) -> int:
    """Input tokens of the images: sized from their headers; fidelity high unless asked low."""
    from PIL import Image
    import io

    total = 0
    for i, data in enumerate(images):
        try:
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
        except Exception:
            total += _UNSEEN_IMAGE_TOKENS
            continue
        total += image_input_tokens(w, h, ("high" if fidelity != "low" else None) if i == 0 else None)
    return total + unseen * _UNSEEN_IMAGE_TOKENS


def text_and_images(value: Any) -> tuple[int, list[bytes]]:
    """UTF-8 bytes of every string, key and number in a JSON value (an upper bound on its tokens),
    and the bytes of the ``data:`` URLs in it that hold a readable image (priced as images, not text)."""
    text, images, stack = 0, [], [value]
    while stack:  # no recursion: a deeply nested body must not crash the pricing
        v = stack.pop()
        if isinstance(v, str):
            image = _data_url_image(v)
            if image is None:
                text += len(v.encode("utf-8", "surrogatepass"))
            else:
                images.append(image)
        elif isinstance(v, dict):
            text += sum(len(str(k).encode("utf-8", "surrogatepass")) for k in v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif v is not None:
            text += len(str(v))
    return text, images


def _data_url_image(value: str) -> bytes | None:
    """The bytes of a base64 ``data:`` URL whose content has an image's size in its header, else None."""
    import base64
    import binascii
    import io

    if not value.startswith("data:") or ";base64," not in value[:200]:
        return None
    try:
        data = base64.b64decode(value.split(",", 1)[1], validate=False)
    except (binascii.Error, ValueError):
        return None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except Exception:  # not an image Pillow reads: then it is text the model reads
        return None
    return data if w > 0 and h > 0 else None


def _int(value: Any, default: int) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError, OverflowError):
        return default


def _image_usd(spec_name: str, fields: dict, *, n: int, stream: bool, text_chars: int, images: list[bytes],
               unseen_images: int) -> float:
    spec = get_model(spec_name)
    prices = prices_for(spec_name)
    quality = fields.get("quality")
    if prices.per_image:  # dall-e: by the image (the API's defaults), the dearest when not in the table
        size = fields.get("size") or (spec.default_size if spec else None)
        listed = prices.per_image.get(f"{quality or 'standard'}:{size}")
        return (listed if listed is not None else max(prices.per_image.values())) * n
    q = _dearest_quality(spec, quality)
    partials = _int(fields.get("partial_images"), 0) if stream else 0
    out = max(_output_tokens(spec, q, w, h, partials) for w, h in _sizes(spec, fields.get("size"))) * n
    img = _image_tokens(images, unseen_images, fields.get("input_fidelity"))
    return (text_chars * prices.text_input + img * prices.image_input + out * prices.image_output) / 1e6


def quote(endpoint: str, fields: dict, images: Sequence[bytes] = (), *, previous: dict | None = None) -> Quote:
    """The upper-bound cost of a request from its wire fields (JSON body, or multipart form fields with
    the uploaded images' bytes in ``images``). ``previous``: what the gateway recorded of the response a
    Responses turn continues (``text_chars``)."""
    text, found = text_and_images(fields)
    images = list(images) + found
    if endpoint == "responses":
        return _quote_response(fields, images, previous, text)
    model = fields.get("model") if isinstance(fields.get("model"), str) else None
    stream = fields.get("stream") in (True, "true", "True")
    n = max(1, _int(fields.get("n"), 1))
    unseen = sum(1 for v in _refs(fields) if v and not v.startswith("data:"))
    usd = _image_usd(model or DEFAULT_MODEL, fields, n=n, stream=stream, text_chars=text, images=images,
                     unseen_images=unseen)
    asked = {"model": model, "size": fields.get("size"), "quality": fields.get("quality")}
    return Quote(endpoint, model, usd, stream, asked, text)


def _refs(fields: dict) -> list[str]:
    """File ids and URLs standing for images (JSON edits), whose bytes the gateway does not see."""
    out = []
    for key in ("images", "image", "mask", "markup"):
        value = fields.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                ref = item.get("file_id") or item.get("image_url") or ""
                out.append(ref if isinstance(ref, str) else "?")
            elif isinstance(item, str) and key != "mask":
                out.append(item)
    return out


def image_tool(fields: dict) -> tuple[int, dict]:
    """The index and options of the first ``image_generation`` tool of a Responses body (-1, {} if none)."""
    for i, tool in enumerate(fields.get("tools") or []):
        if isinstance(tool, dict) and tool.get("type") == "image_generation":
            return i, tool
    return -1, {}


def _quote_response(fields: dict, images: list[bytes], previous: dict | None, text: int) -> Quote:
    index, tool = image_tool(fields)
    model = tool.get("model") if isinstance(tool.get("model"), str) else None
    name = model or DEFAULT_TOOL_MODEL  # what the upstream draws with when the tool names no model
    stream = fields.get("stream") is True
    carried = _int((previous or {}).get("text_chars"), 0)
    carried_images = _int((previous or {}).get("images"), 1) if previous is not None else 0
    out_cap = _int(fields.get("max_output_tokens"), MAINLINE_OUTPUT_ALLOWANCE)
    calls = max(1, _int(fields.get("max_tool_calls"), 1))
    unseen = _count_unseen(fields.get("input")) + carried_images
    # the image tool reads the conversation and what the mainline model wrote for it (its output)
    usd = calls * _image_usd(name, tool, n=1, stream=stream, text_chars=text + carried + out_cap, images=images,
                             unseen_images=unseen)
    # the mainline model reads all the text and every image, and writes at most out_cap tokens
    in_rate = max(MAINLINE_INPUT_PER_M, prices_for(name).text_input)
    seen = _image_tokens(images, unseen, "high")
    usd += ((text + carried + seen) * in_rate + out_cap * MAINLINE_OUTPUT_PER_M) / 1e6
    param = f"tools[{index}]" if index >= 0 else "tools"
    asked = {"model": model, "size": tool.get("size"), "quality": tool.get("quality"),
             "model_param": f"{param}.model", "size_param": f"{param}.size", "quality_param": f"{param}.quality"}
    return Quote("responses", model, usd, stream, asked, text + carried + out_cap,
                 len(images) + unseen + calls)


def _count_unseen(value: Any) -> int:
    """Input images referenced by file id, image-generation call id or URL (their size is not on the wire)."""
    if isinstance(value, list):
        return sum(_count_unseen(v) for v in value)
    if isinstance(value, dict):
        url = value.get("image_url")
        by_url = value.get("type") == "input_image" and isinstance(url, str) and not url.startswith("data:")
        own = 1 if value.get("file_id") or value.get("type") == "image_generation_call" or by_url else 0
        return own + sum(_count_unseen(v) for v in value.values() if isinstance(v, (list, dict)))
    return 0


def data_url_images(value: Any) -> list[bytes]:
    """The bytes of every ``data:`` URL image in a JSON value."""
    return text_and_images(value)[1]


# --- after: the cost from usage --------------------------------------------------------------------


def settle_images(model: str | None, usages: list[dict], *, quality: str | None, size: str | None,
                  n: int) -> float | None:
    """Dollars for an Images API answer (JSON ``usage``, or one per completed stream event); None when
    the upstream reported no usage for a token-priced model (then the reservation is charged)."""
    total: Usage | None = None
    for u in usages:
        parsed = Usage.from_api(u)
        if parsed is not None:
            total = parsed if total is None else total + parsed
    return cost_of(total, model or DEFAULT_MODEL, quality=quality, size=size, n=n)


def settle_response(model: str | None, response: dict) -> float | None:
    """Dollars for a Responses API answer: the image tool's usage at the image model's prices, plus the
    mainline model's tokens (input at the text rate, output at ``MAINLINE_OUTPUT_PER_M``)."""
    tool_usage = (response.get("tool_usage") or {}).get("image_gen")
    main = response.get("usage") or {}
    if not tool_usage and not main:
        return None
    name = model or DEFAULT_TOOL_MODEL
    usd = (cost_of(Usage.from_api(tool_usage), name) or 0.0) if isinstance(tool_usage, dict) else 0.0
    main = main if isinstance(main, dict) else {}
    in_rate = max(MAINLINE_INPUT_PER_M, prices_for(name).text_input)
    usd += (_int(main.get("input_tokens"), 0) * in_rate + _int(main.get("output_tokens"), 0) * MAINLINE_OUTPUT_PER_M) / 1e6
    return usd
