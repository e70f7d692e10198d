"""Tokens and dollars: ``estimate(request)`` before a call, ``cost_of(usage, model)`` after it.

    >>> from imagewidgets import GenerateRequest
    >>> from imagewidgets.cost import estimate
    >>> est = estimate(GenerateRequest("a kite", model="gpt-image-1", quality="low", size="1024x1024"))
    >>> est.output_tokens, round(est.usd, 4)
    (272, 0.0109)

Output tokens come from the seed spec's table (gpt-image-1; low/medium/high x the three standard
sizes); other sizes scale with the pixel count, and each streamed partial image adds 100 output
tokens. Prices change: they live in ``PRICES`` with the date they were read, and
``set_prices(model, ...)`` overrides them. Where a figure is an assumption (a newer model's
price, xhigh/max tokens, text tokens counted without a tokenizer), ``Estimate.assumptions`` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from .models import get_model, parse_size
from .results import Usage

__all__ = [
    "OUTPUT_TOKENS",
    "PARTIAL_IMAGE_TOKENS",
    "Prices",
    "PRICES",
    "PRICES_READ_ON",
    "Estimate",
    "estimate",
    "cost_of",
    "set_prices",
    "output_tokens",
    "text_tokens",
    "image_input_tokens",
    "BATCH_PRICE_FACTOR",
]

#: Output image tokens per image (seed spec, gpt-image-1).
OUTPUT_TOKENS: dict[str, dict[str, int]] = {
    "low": {"1024x1024": 272, "1024x1536": 408, "1536x1024": 400},
    "medium": {"1024x1024": 1056, "1024x1536": 1584, "1536x1024": 1568},
    "high": {"1024x1024": 4160, "1024x1536": 6240, "1536x1024": 6208},
}
#: Extra output tokens for each streamed partial image (seed spec).
PARTIAL_IMAGE_TOKENS = 100
#: Not in the seed's table: assumed multiples of ``high`` for the 2.5 family's extra qualities.
_EXTRA_QUALITY_FACTOR = {"xhigh": 1.5, "max": 2.0}
#: Extra input image tokens with input_fidelity="high" (square, other) as OpenAI documents them.
_HIGH_FIDELITY_TOKENS = (4160, 6240)

PRICES_READ_ON = "2025-12-16"
#: The Batch API bills half the listed price (``estimate(req, batch=True)``, ``cost_of(..., batch=True)``).
BATCH_PRICE_FACTOR = 0.5


@dataclass(frozen=True)
class Prices:
    """Dollars per million tokens (GPT image models), or per image (dall-e: ``per_image``)."""

    text_input: float = 0.0
    image_input: float = 0.0
    image_output: float = 0.0
    per_image: dict[str, float] = field(default_factory=dict)  # "quality:size" -> dollars
    verified: bool = True  # False: assumed, not read from OpenAI's price list
    note: str = ""


_GPT15 = Prices(5.00, 8.00, 32.00)
_ASSUMED = replace(_GPT15, verified=False, note="assumed equal to gpt-image-1.5; set_prices() to correct")

#: model -> Prices. Read from OpenAI's price list on PRICES_READ_ON where ``verified``.
PRICES: dict[str, Prices] = {
    "gpt-image-1": Prices(5.00, 10.00, 40.00),
    "gpt-image-1-mini": Prices(2.00, 2.50, 8.00),
    "gpt-image-1.5": _GPT15,
    "chatgpt-image-latest": _GPT15,
    "dall-e-3": Prices(per_image={
        "standard:1024x1024": 0.040, "standard:1792x1024": 0.080, "standard:1024x1792": 0.080,
        "hd:1024x1024": 0.080, "hd:1792x1024": 0.120, "hd:1024x1792": 0.120,
    }),
    "dall-e-2": Prices(per_image={"standard:256x256": 0.016, "standard:512x512": 0.018,
                                  "standard:1024x1024": 0.020}),
}


def prices_for(model: str) -> Prices:
    if model in PRICES:
        return PRICES[model]
    return _ASSUMED


def set_prices(model: str, **prices: Any) -> Prices:
    """Override a model's prices (dollars per million tokens), e.g. ``set_prices("gpt-image-2", image_output=30)``."""
    new = replace(prices_for(model), verified=True, note="set by the user", **prices)
    PRICES[model] = new
    return new


def text_tokens(text: str) -> int:
    """Approximate text tokens (about four characters a token; no tokenizer is loaded)."""
    return max(1, math.ceil(len(text or "") / 4))


def image_input_tokens(width: int, height: int, fidelity: str | None = None) -> int:
    """Input tokens for one reference image: 65 base + 129 per 512px tile after fitting the
    image in 2048x2048 and its short side to 512 (the vision rule for gpt-image-1), plus the
    documented extra for ``input_fidelity="high"``."""
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        s = 2048 / max(w, h)
        w, h = w * s, h * s
    s = 512 / min(w, h)
    w, h = w * s, h * s
    tiles = math.ceil(w / 512) * math.ceil(h / 512)
    tokens = 65 + 129 * tiles
    if fidelity == "high":
        tokens += _HIGH_FIDELITY_TOKENS[0] if width == height else _HIGH_FIDELITY_TOKENS[1]
    return tokens


def output_tokens(quality: str, size: str, partial_images: int = 0) -> int:
    """Output image tokens for one image of ``quality`` and ``size`` ("WxH"), partial images included."""
    factor = _EXTRA_QUALITY_FACTOR.get(quality, 1.0)
    base_quality = "high" if quality in _EXTRA_QUALITY_FACTOR else quality
    table = OUTPUT_TOKENS.get(base_quality, OUTPUT_TOKENS["medium"])
    if size in table:
        tokens = table[size]
    else:
        wh = parse_size(size) or (1024, 1024)
        tokens = round(table["1024x1024"] * wh[0] * wh[1] / (1024 * 1024))
    return round(tokens * factor) + PARTIAL_IMAGE_TOKENS * (partial_images or 0)


@dataclass(frozen=True)
class Estimate:
    """What a request is expected to cost, before it is sent."""

    model: str
    input_text_tokens: int = 0
    input_image_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    assumptions: tuple[str, ...] = ()

    @property
    def upper_bound(self) -> bool:
        """True when an "auto" size or quality was estimated at its dearest."""
        return any("upper bound" in a for a in self.assumptions)

    def __str__(self) -> str:
        s = f"{'≤' if self.upper_bound else '≈'} ${self.usd:.4f}"
        if self.output_tokens:
            s += f" ({self.input_text_tokens + self.input_image_tokens} in, {self.output_tokens} out tokens)"
        if self.upper_bound:
            s += " · auto size/quality estimated at their dearest"
        return s


def _resolve(req: Any) -> tuple[str, str, list[str]]:
    """The quality and size a request will be billed at; 'auto' takes the dearest (an upper bound)."""
    spec = get_model(req.model)
    notes: list[str] = []
    quality = req.quality or (spec.default_quality if spec else None) or "auto"
    size = req.size or (spec.default_size if spec else "auto")
    if quality == "auto":
        quality = "high"
        notes.append("quality auto estimated as high (an upper bound)")
    if size == "auto":
        size = "1024x1536"
        notes.append("size auto estimated as 1024x1536 (an upper bound)")
    return quality, size, notes


def estimate(req: Any, *, batch: bool = False) -> Estimate:
    """The expected cost of ``req`` (any request type) before it is sent; ``batch=True``: sent in a
    batch, at the Batch API's price (half the listed one)."""
    est = _estimate(req)
    if not batch:
        return est
    return replace(est, usd=est.usd * BATCH_PRICE_FACTOR,
                   assumptions=est.assumptions + (f"Batch API price: {BATCH_PRICE_FACTOR:g} x the listed price",))


def _estimate(req: Any) -> Estimate:
    model = req.model
    prices = prices_for(model)
    notes: list[str] = []
    if not prices.verified:
        notes.append(f"{model}: {prices.note}")
    n = getattr(req, "n", None) or 1
    if prices.per_image:  # dall-e: priced per image
        spec = get_model(model)
        size = getattr(req, "size", None) or (spec.default_size if spec else "1024x1024")
        quality = getattr(req, "quality", None) or "standard"
        usd = prices.per_image.get(f"{quality}:{size}", max(prices.per_image.values())) * n
        return Estimate(model=model, usd=usd, assumptions=tuple(notes))
    quality, size, more = _resolve(req)
    notes += more
    if quality in _EXTRA_QUALITY_FACTOR:
        notes.append(f"{quality} tokens assumed {_EXTRA_QUALITY_FACTOR[quality]}x high")
    partials = (getattr(req, "partial_images", None) or 0) if getattr(req, "stream", False) else 0
    out = output_tokens(quality, size, partials) * n
    text = text_tokens(getattr(req, "prompt", "") or "")
    images = list(getattr(req, "images", ()) or ()) + list(getattr(req, "input_images", ()) or ())
    if getattr(req, "endpoint", "") == "variations":
        images = [req.image]
    fidelity = getattr(req, "input_fidelity", None)
    img_tokens = 0
    for i, img in enumerate(images):
        wh = img.size() if hasattr(img, "size") else None
        w, h = wh or (1024, 1024)
        img_tokens += image_input_tokens(w, h, fidelity if i == 0 else None)
    usd = (text * prices.text_input + img_tokens * prices.image_input + out * prices.image_output) / 1e6
    notes.append("text tokens approximated as characters / 4")
    return Estimate(model, text, img_tokens, out, usd, tuple(notes))


def cost_of(usage: Usage | None, model: str | None, *, quality: str | None = None,
            size: str | None = None, n: int = 1, batch: bool = False) -> float | None:
    """Dollars for a finished request from the usage the API reported (dall-e: from quality, size, n);
    ``batch=True``: it ran in a batch, at half the listed price."""
    usd = _listed_cost(usage, model, quality=quality, size=size, n=n)
    return usd * BATCH_PRICE_FACTOR if usd is not None and batch else usd


def _listed_cost(usage: Usage | None, model: str | None, *, quality: str | None, size: str | None,
                 n: int) -> float | None:
    if model is None:
        return None
    prices = prices_for(model)
    if prices.per_image:
        return prices.per_image.get(f"{quality or 'standard'}:{size or '1024x1024'}",
                                    max(prices.per_image.values())) * n
    if usage is None:
        return None
    text_in = usage.input_text_tokens
    image_in = usage.input_image_tokens
    if text_in + image_in == 0:
        text_in = usage.input_tokens
    return (text_in * prices.text_input + image_in * prices.image_input
            + usage.output_tokens * prices.image_output) / 1e6
