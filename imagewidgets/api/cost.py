"""Tokens and dollars: ``estimate(request)`` before a call, ``cost_of(usage, model)`` after it.

    >>> from imagewidgets import GenerateRequest
    >>> from imagewidgets.cost import estimate
    >>> est = estimate(GenerateRequest("a kite", model="gpt-image-2", quality="low", size="1024x1024"))
    >>> est.output_tokens, round(est.usd, 4)
    (196, 0.0059)

Where each figure comes from (``Estimate.sources`` says it per request, the studio shows it):

- **table**: output tokens of the gpt-image-1 family from the seed spec's table (low/medium/high
  x the three standard sizes); prices from ``PRICES``, each entry dated with its source.
- **formula**: output tokens of gpt-image-2 and later, ``ceil(q*s*(2_000_000 + W*H) / 4_000_000)``
  with q = 16/48/96 for low/medium/high and ``s = floor((2*q*short + long) / (2*long))`` — a
  community-derived formula that reproduces OpenAI's calculator (7,024 tokens for 1024x1024 high,
  5,488 for 1536x1024 high); input image tokens by OpenAI's vision rule (fit in 2048x2048, short
  side to 512, 65 + 129 per 512-px tile; input_fidelity="high" adds 4,160 square / 6,240 other).
- **assumption**: text tokens as characters / 4 (no tokenizer); other sizes of the gpt-image-1
  family scaled by pixel count; xhigh/max as 1.5x/2x high; a model without a price entry priced
  as gpt-image-2; "auto" size/quality at their dearest (an upper bound).

Each streamed partial image adds 100 output tokens. After a call, ``cost_of(usage, model)``
prices what ``usage`` reports, text and image input tokens separately
(``input_tokens_details``); ``breakdown()`` shows the split. ``set_prices(model, ...)`` overrides a price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .models import get_model, parse_size
from .requests import VariationRequest
from .usage import Usage

if TYPE_CHECKING:  # pragma: no cover
    from .requests import ImageRequest

__all__ = [
    "OUTPUT_TOKENS",
    "PARTIAL_IMAGE_TOKENS",
    "Prices",
    "PRICES",
    "PRICES_READ_ON",
    "Estimate",
    "estimate",
    "cost_of",
    "formula_tokens",
    "set_prices",
    "output_tokens",
    "text_tokens",
    "image_input_tokens",
    "BATCH_PRICE_FACTOR",
    "formula_output_tokens",
    "output_tokens_for",
    "CostBreakdown",
    "breakdown",
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

#: the day the token prices below were last checked against their source
PRICES_READ_ON = "2026-11-30"
_PRICING = "https://openai.com/api/pricing/ (image generation), as quoted in issue 13"
#: q of the gpt-image-2+ output-token formula, per quality
FORMULA_Q = {"low": 16, "medium": 48, "high": 96}
#: The Batch API bills half the listed price (``estimate(req, batch=True)``, ``cost_of(..., batch=True)``).
BATCH_PRICE_FACTOR = 0.5


@dataclass(frozen=True)
class Prices:
    """Dollars per million tokens (GPT image models), or per image (dall-e: ``per_image``).

    ``cached_text_input`` / ``cached_image_input``: the price of input tokens the API reports as
    cached (``tool_usage.image_gen.cached_tokens_details``); None where OpenAI lists none, and such
    tokens are priced as uncached input. Estimates assume no cache hit (the dearer case)."""

    text_input: float = 0.0
    image_input: float = 0.0
    image_output: float = 0.0
    cached_text_input: float | None = None
    cached_image_input: float | None = None
    per_image: dict[str, float] = field(default_factory=dict)  # "quality:size" -> dollars
    verified: bool = True  # False: assumed, not read from OpenAI's price list
    note: str = ""
    read_on: str = PRICES_READ_ON
    source: str = _PRICING


_GPT15 = Prices(5.00, 8.00, 32.00)
# gpt-image-2, 2.5 and 2.6 (and their snapshots); cached input $1.25 text / $2 image per 1M (openai SDK 3.5x notes)
_GPT2 = Prices(5.00, 8.00, 30.00, cached_text_input=1.25, cached_image_input=2.00)
_ASSUMED = replace(_GPT2, verified=False, note="no price entry: assumed equal to gpt-image-2; set_prices() to correct")

#: model -> Prices, USD per 1M tokens (text in / image in / image out), dated and sourced.
#: Batch API requests cost 50% of these.
PRICES: dict[str, Prices] = {
    "gpt-image-1": Prices(5.00, 10.00, 40.00),
    "gpt-image-1-mini": Prices(2.00, 2.50, 8.00),
    "gpt-image-1.5": _GPT15,
    "chatgpt-image-latest": _GPT15,
    **{name: _GPT2 for name in (
        "gpt-image-2", "gpt-image-2-2026-04-21", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare",
        "gpt-image-2.5-sunburst-2026-09-08", "gpt-image-2.5-flare-2026-09-08", "gpt-image-2.6-sunburst",
        "gpt-image-2.6-flare")},
    "dall-e-3": Prices(per_image={
        "standard:1024x1024": 0.040, "standard:1792x1024": 0.080, "standard:1024x1792": 0.080,
        "hd:1024x1024": 0.080, "hd:1792x1024": 0.120, "hd:1024x1792": 0.120,
    }, read_on="2025-12-16", source="https://openai.com/api/pricing/ (retired 2026-05-12)"),
    "dall-e-2": Prices(per_image={"standard:256x256": 0.016, "standard:512x512": 0.018,
                                  "standard:1024x1024": 0.020},
                       read_on="2025-12-16", source="https://openai.com/api/pricing/ (retired 2026-05-12)"),
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


def uses_formula(model: str) -> bool:
    """gpt-image-2 and later are estimated with the formula, the gpt-image-1 family with the table."""
    spec = get_model(model)
    return spec is not None and spec.family == "gpt-image" and spec.name.startswith("gpt-image-2")


def formula_output_tokens(quality: str, width: int, height: int) -> int:
    """Output tokens of one gpt-image-2+ image by the community-derived formula (see the module doc).

    >>> formula_output_tokens("high", 1024, 1024), formula_output_tokens("high", 1536, 1024)
    (7024, 5488)
    """
    q = FORMULA_Q[quality]
    short, long = min(width, height), max(width, height)
    s = (2 * q * short + long) // (2 * long)
    return math.ceil(q * s * (2_000_000 + width * height) / 4_000_000)


def formula_tokens(quality: str, width: int, height: int) -> int:
    """``formula_output_tokens`` for any quality: xhigh and max as their factor of high (an
    assumption, said where an estimate shows its sources); the one formula the gateway bounds with too."""
    if quality in FORMULA_Q:
        return formula_output_tokens(quality, width, height)
    return round(formula_output_tokens("high", width, height) * _EXTRA_QUALITY_FACTOR.get(quality, 1.0))


def output_tokens_for(model: str, quality: str, size: str, partial_images: int = 0) -> tuple[int, str]:
    """Output tokens of one image and where the number comes from: "table", "formula" or
    "assumption" (with why, after a colon)."""
    extra = PARTIAL_IMAGE_TOKENS * (partial_images or 0)
    if uses_formula(model):
        w, h = parse_size(size) or (1024, 1024)
        if quality in FORMULA_Q:
            return formula_tokens(quality, w, h) + extra, "formula"
        factor = _EXTRA_QUALITY_FACTOR.get(quality, 1.0)
        return formula_tokens(quality, w, h) + extra, f"assumption: {quality} as {factor}x the formula's high"
    tokens = output_tokens(quality, size, partial_images)
    if quality in OUTPUT_TOKENS and size in OUTPUT_TOKENS[quality]:
        return tokens, "table"
    return tokens, f"assumption: {quality} {size} scaled from the gpt-image-1 table by pixel count"


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
    #: (part, where it comes from): "table", "formula" or "assumption: why", per part of the estimate
    sources: tuple[tuple[str, str], ...] = ()

    def explain(self) -> str:
        """One line per part: what it is, and whether it is table, formula or assumption."""
        return "\n".join(f"{part}: {src}" for part, src in self.sources)

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


def _resolve(req: ImageRequest) -> tuple[str, str, list[str]]:
    """The quality and size a request will be billed at; 'auto' takes the dearest (an upper bound)."""
    spec = get_model(req.model)
    notes: list[str] = []
    quality = getattr(req, "quality", None) or (spec.default_quality if spec else None) or "auto"
    size = req.size or (spec.default_size if spec else "auto")
    if quality == "auto":
        quality = "high"
        notes.append("quality auto estimated as high (an upper bound)")
    if size == "auto":
        size = "1024x1536"
        notes.append("size auto estimated as 1024x1536 (an upper bound)")
    return quality, size, notes


def estimate(req: ImageRequest, *, batch: bool = False) -> Estimate:
    """The expected cost of ``req`` (any request type) before it is sent; ``batch=True``: sent in a
    batch, at the Batch API's price (half the listed one)."""
    est = _estimate(req)
    if not batch:
        return est
    return replace(est, usd=est.usd * BATCH_PRICE_FACTOR,
                   assumptions=est.assumptions + (f"Batch API price: {BATCH_PRICE_FACTOR:g} x the listed price",))


def _estimate(req: ImageRequest) -> Estimate:
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
        return Estimate(model=model, usd=usd, assumptions=tuple(notes),
                        sources=(("price per image", f"table ({prices.read_on}, {prices.source})"),))
    quality, size, more = _resolve(req)
    notes += more
    partials = (getattr(req, "partial_images", None) or 0) if getattr(req, "stream", False) else 0
    per_image, out_src = output_tokens_for(model, quality, size, partials)
    if out_src.startswith("assumption"):
        notes.append(out_src.split(": ", 1)[1])
    out = per_image * n
    sources = [
        ("prices", f"table ({prices.read_on}, {prices.source})" if prices.verified
         else f"assumption: {prices.note}"),
        (f"output tokens ({quality}, {size})", out_src + (f" + {PARTIAL_IMAGE_TOKENS} per partial image"
                                                         if partials else "")),
        ("text tokens", "assumption: characters / 4 (no tokenizer)"),
    ]
    sources += [("auto", "assumption: " + m) for m in more]
    if prices.cached_text_input is not None or prices.cached_image_input is not None:
        sources.append(("cached input", f"table: ${_g(prices.cached_text_input)} text / "
                        f"${_g(prices.cached_image_input)} image per 1M; estimated as not cached (the dearer "
                        "case); a finished turn is priced with the cached tokens its usage reports"))
    window = getattr(req, "completion_window", None)
    if window:
        sources.append(("background", f"assumption: completion_window {window}, no discount assumed (OpenAI's "
                        "background guide prices 2h and 8h 30% and 40% below standard model token rates, and "
                        "does not say that the image tool's tokens get it)"))
        notes.append(f"background ({window}): no discount assumed for the image tool's tokens")
    text = text_tokens(getattr(req, "sent_prompt", None) or getattr(req, "prompt", "") or "")
    # pinned references are input images like any other (api/pins.py): counted before sending
    pinned = [p.image for p in getattr(req, "pins", ()) or ()]
    images = list(getattr(req, "images", ()) or ()) + list(getattr(req, "input_images", ()) or ()) + pinned
    if isinstance(req, VariationRequest):
        images = [req.image]
    fidelity = getattr(req, "input_fidelity", None)
    img_tokens = 0
    for i, img in enumerate(images):
        wh = img.size() if hasattr(img, "size") else None
        w, h = wh or (1024, 1024)
        img_tokens += image_input_tokens(w, h, fidelity if i == 0 else None)
    if pinned:
        sources.append((f"pinned references ({len(pinned)})", "input images, sent with every turn that carries them"))
    if images:
        sources.append(("input image tokens", "formula (OpenAI's vision rule: 65 + 129 per 512-px tile"
                        + (", +4160/6240 for input_fidelity high)" if fidelity == "high" else ")")
                        + ("" if not uses_formula(model) else "; assumed to hold for gpt-image-2+")))
    usd = (text * prices.text_input + img_tokens * prices.image_input + out * prices.image_output) / 1e6
    notes.append("text tokens approximated as characters / 4")
    return Estimate(model, text, img_tokens, out, usd, tuple(notes), tuple(sources))


def _g(price: float | None) -> str:
    return "(uncached price)" if price is None else f"{price:g}"


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
    parts = breakdown(usage, model)
    return parts.usd if parts is not None else None


@dataclass(frozen=True)
class CostBreakdown:
    """What a finished request cost, part by part, from the ``usage`` the API reported."""

    model: str
    text_input_tokens: int
    image_input_tokens: int
    output_tokens: int
    text_input_usd: float
    image_input_usd: float
    output_usd: float
    prices: Prices
    #: of the input tokens, those the API read from its cache, priced at the cached rate (in the usd above)
    cached_text_tokens: int = 0
    cached_image_tokens: int = 0

    @property
    def usd(self) -> float:
        return self.text_input_usd + self.image_input_usd + self.output_usd

    def __str__(self) -> str:
        cached = lambda n: f" ({n} cached)" if n else ""  # noqa: E731
        return (f"${self.usd:.4f} = text in {self.text_input_tokens} tok{cached(self.cached_text_tokens)} "
                f"${self.text_input_usd:.4f}"
                f" + image in {self.image_input_tokens} tok{cached(self.cached_image_tokens)} ${self.image_input_usd:.4f}"
                f" + image out {self.output_tokens} tok ${self.output_usd:.4f}"
                f" ({self.model} at {self.prices.text_input:g}/{self.prices.image_input:g}/"
                f"{self.prices.image_output:g} USD per 1M, prices of {self.prices.read_on})")


def breakdown(usage: Usage | None, model: str) -> CostBreakdown | None:
    """``cost_of`` part by part: text input, image input and output tokens, each priced.

    >>> from imagewidgets.api.usage import Usage
    >>> print(breakdown(Usage(input_tokens=50, input_text_tokens=10, input_image_tokens=40,
    ...                       output_tokens=196), "gpt-image-2"))   # doctest: +ELLIPSIS
    $0.0063 = text in 10 tok $0.0001 + image in 40 tok $0.0003 + image out 196 tok $0.0059 (...)
    """
    prices = prices_for(model)
    if usage is None or prices.per_image:
        return None
    text_in, image_in = usage.input_text_tokens, usage.input_image_tokens
    if text_in + image_in == 0:
        text_in = usage.input_tokens  # a usage without details: all input priced as text
    # cached tokens are part of the input counts: at most all of them, priced at the cached rate when listed
    cached_text = min(usage.cached_text_tokens, text_in)
    cached_image = min(usage.cached_image_tokens, image_in)
    text_usd = _input_usd(text_in, cached_text, prices.text_input, prices.cached_text_input)
    image_usd = _input_usd(image_in, cached_image, prices.image_input, prices.cached_image_input)
    return CostBreakdown(model, text_in, image_in, usage.output_tokens, text_usd, image_usd,
                         usage.output_tokens * prices.image_output / 1e6, prices, cached_text, cached_image)


def _input_usd(tokens: int, cached: int, price: float, cached_price: float | None) -> float:
    return ((tokens - cached) * price + cached * (price if cached_price is None else cached_price)) / 1e6
