"""What a request may cost before it is forwarded (an upper bound, reserved against the budget), and
what it did cost after (from the ``usage`` the upstream reported).

    >>> q = quote("generations", {"model": "gpt-image-1", "prompt": "a kite", "quality": "low",
    ...                           "size": "1024x1024"})
    >>> q.model, round(q.usd, 5)
    ('gpt-image-1', 0.01091)

The bound takes the dearest choice wherever the request leaves one open ("auto" size or quality, no
input fidelity), counts every character of text as a token, and for gpt-image-2 and newer takes the
larger of the seed's token table and the published formula for those models. Prices come from
``imagewidgets.api.cost`` (one table). The Responses API's mainline model is not in that table: its
text is priced at the image model's text rate and its own output at ``MAINLINE_OUTPUT_PER_M``, with
``MAINLINE_OUTPUT_ALLOWANCE`` tokens reserved (both assumptions, say so to the teacher).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ..api.endpoints import endpoint as _endpoint
from ..api.cost import PARTIAL_IMAGE_TOKENS, cost_of, formula_tokens, image_input_tokens, output_tokens, prices_for
from ..api.models import DEFAULT_MODEL, ModelSpec, get_model, parse_size
from ..api.results import Usage

__all__ = ["Quote", "quote", "settle_images", "settle_response", "MAINLINE_OUTPUT_PER_M",
           "MAINLINE_OUTPUT_ALLOWANCE"]

#: assumed USD per million output tokens of the Responses API's mainline model (not in the price table)
MAINLINE_OUTPUT_PER_M = 15.0
#: mainline output tokens reserved for a Responses turn (its short answer around the image call)
MAINLINE_OUTPUT_ALLOWANCE = 500
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
    #: characters of prompt text (carried along a Responses chain)
    text_chars: int = 0


def _dearest_quality(spec: ModelSpec | None, quality: str | None) -> str:
    if quality and quality != "auto":
        return quality
    options = [q for q in (spec.qualities if spec else ()) if q != "auto"] or ["high"]
    return max(options, key=lambda q: _QUALITY_ORDER.index(q) if q in _QUALITY_ORDER else 4)


def _dearest_size(spec: ModelSpec | None, size: str | None) -> tuple[int, int]:
    wh = parse_size(size or "")
    if wh:
        return wh
    options = [parse_size(s) for s in (spec.sizes if spec else ())] + [(1024, 1536)]
    return max((o for o in options if o), key=lambda o: o[0] * o[1])


def _output_tokens(spec: ModelSpec | None, quality: str, w: int, h: int, partials: int) -> int:
    """The larger of the token table and the gpt-image-2 formula, both ``api/cost.py``'s (one formula)."""
    table = output_tokens(quality, f"{w}x{h}", partials)
    if spec is None or spec.free_size is not None or spec.family != "gpt-image":
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


def _strings(value: Any) -> int:
    """Characters of text in a JSON value (data: URLs are images, not text)."""
    if isinstance(value, str):
        return 0 if value.startswith("data:") else len(value)
    if isinstance(value, dict):
        return sum(_strings(v) for k, v in value.items() if k not in ("type", "id", "file_id", "role"))
    if isinstance(value, list):
        return sum(_strings(v) for v in value)
    return 0


def _int(value: Any, default: int) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def _image_usd(spec_name: str, fields: dict, *, n: int, stream: bool, text_chars: int, images: list[bytes],
               unseen_images: int) -> float:
    spec = get_model(spec_name)
    prices = prices_for(spec_name)
    quality = fields.get("quality")
    if prices.per_image:  # dall-e: by the image
        return cost_of(None, spec_name, quality=quality if quality not in (None, "auto") else "hd",
                       size=fields.get("size") or (spec.default_size if spec else None), n=n) or 0.0
    q = _dearest_quality(spec, quality)
    w, h = _dearest_size(spec, fields.get("size"))
    partials = _int(fields.get("partial_images"), 0) if stream else 0
    out = _output_tokens(spec, q, w, h, partials) * n
    img = _image_tokens(images, unseen_images, fields.get("input_fidelity"))
    return (text_chars * prices.text_input + img * prices.image_input + out * prices.image_output) / 1e6


def quote(endpoint: str, fields: dict, images: Sequence[bytes] = (), *, previous: dict | None = None) -> Quote:
    """The upper-bound cost of a request from its wire fields (JSON body, or multipart form fields with
    the uploaded images' bytes in ``images``). ``previous``: what the gateway recorded of the response a
    Responses turn continues (``text_chars``)."""
    images = list(images)
    if _endpoint(endpoint).cost == "response":  # the cost rule declared with the endpoint (api/endpoints.py)
        return _quote_response(fields, images, previous)
    model = fields.get("model")
    stream = fields.get("stream") in (True, "true", "True")
    n = max(1, _int(fields.get("n"), 1))
    text = len(fields.get("prompt") or "") if isinstance(fields.get("prompt"), str) else 0
    unseen = sum(1 for v in _refs(fields) if v)
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
                out.append(item.get("file_id") or item.get("image_url") or "")
            elif isinstance(item, str) and key != "mask":
                out.append(item)
    return out


def image_tool(fields: dict) -> tuple[int, dict]:
    """The index and options of the first ``image_generation`` tool of a Responses body (-1, {} if none)."""
    for i, tool in enumerate(fields.get("tools") or []):
        if isinstance(tool, dict) and tool.get("type") == "image_generation":
            return i, tool
    return -1, {}


def _quote_response(fields: dict, images: list[bytes], previous: dict | None) -> Quote:
    index, tool = image_tool(fields)
    model = tool.get("model") or None
    stream = fields.get("stream") is True
    text = _strings(fields.get("input")) + _strings(fields.get("instructions"))
    carried = int((previous or {}).get("text_chars") or 0)
    unseen = _count_unseen(fields.get("input")) + (1 if previous is not None else 0)
    usd = _image_usd(model or DEFAULT_MODEL, tool, n=1, stream=stream, text_chars=text + carried, images=images,
                     unseen_images=unseen)
    prices = prices_for(model or DEFAULT_MODEL)
    usd += ((text + carried) * prices.text_input + MAINLINE_OUTPUT_ALLOWANCE * MAINLINE_OUTPUT_PER_M) / 1e6
    param = f"tools[{index}]" if index >= 0 else "tools"
    asked = {"model": model, "size": tool.get("size"), "quality": tool.get("quality"),
             "model_param": f"{param}.model", "size_param": f"{param}.size", "quality_param": f"{param}.quality"}
    return Quote("responses", model, usd, stream, asked, text + carried)


def _count_unseen(value: Any) -> int:
    """Input images referenced by file id or image-generation call id (their size is not on the wire)."""
    if isinstance(value, list):
        return sum(_count_unseen(v) for v in value)
    if isinstance(value, dict):
        own = 1 if value.get("file_id") or value.get("type") == "image_generation_call" else 0
        return own + sum(_count_unseen(v) for v in value.values() if isinstance(v, (list, dict)))
    return 0


def data_url_images(value: Any) -> list[bytes]:
    """The bytes of every ``data:`` URL image in a JSON value."""
    import base64
    import binascii

    out: list[bytes] = []
    if isinstance(value, str) and value.startswith("data:") and ";base64," in value[:100]:
        try:
            out.append(base64.b64decode(value.split(",", 1)[1]))
        except (binascii.Error, ValueError):
            pass
    elif isinstance(value, dict):
        for v in value.values():
            out += data_url_images(v)
    elif isinstance(value, list):
        for v in value:
            out += data_url_images(v)
    return out


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
    name = model or DEFAULT_MODEL
    usd = cost_of(Usage.from_api(tool_usage), name) or 0.0 if tool_usage else 0.0
    usd += (_int(main.get("input_tokens"), 0) * prices_for(name).text_input
            + _int(main.get("output_tokens"), 0) * MAINLINE_OUTPUT_PER_M) / 1e6
    return usd
