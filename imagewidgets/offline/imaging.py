"""What the offline server decides for a validated request: the actual size, quality and background
("auto" resolved deterministically), the moderation verdict, the usage by the real token table,
the honest ``revised_prompt``, and the calls into the procedural renderer (in worker threads).
"""

from __future__ import annotations

import functools
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Sequence

import anyio.to_thread

from ..api.config import OFFLINE_NOTE
from ..api.cost import image_input_tokens, output_tokens_for, text_tokens
from ..api.models import STANDARD_SIZES, ModelSpec, parse_size
from .config import OfflineConfig

if TYPE_CHECKING:  # pragma: no cover
    from ..api.requests import ImageRequest

__all__ = ["Output", "resolve_output", "moderation_verdict", "usage", "revised_prompt", "render_images",
           "render_frames", "render_variation", "image_size", "HONEST_NOTE"]

#: Appended to every revised_prompt: no language model is involved here.
HONEST_NOTE = OFFLINE_NOTE

_LANDSCAPE = re.compile(r"\b(landscape|wide|panorama|panoramic|banner|horizon)\b", re.I)
_PORTRAIT = re.compile(r"\b(portrait|tall|poster|vertical|skyscraper)\b", re.I)
_CUTOUT = re.compile(r"\b(transparent|sticker|cutout|cut-out|icon|logo)\b", re.I)


@dataclass(frozen=True)
class Output:
    """The settings an image is actually made with, and how they are reported."""

    width: int
    height: int
    quality: str  # the renderer's quality (low/medium/high/xhigh/max)
    output_format: str
    output_compression: int | None
    background: str  # transparent | opaque
    style: str | None
    gpt: bool  # GPT image model: report quality/background/format/size/usage
    model: str = ""  # which model bills it (usage: table or formula)
    pictures: str = "drawn"  # the server's picture mode (OfflineConfig.pictures): "realistic" adds grain

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def _nearest_standard(w: int, h: int, sizes: tuple[str, ...] = STANDARD_SIZES) -> str:
    aspect = w / h
    return min(sizes, key=lambda s: abs((parse_size(s)[0] / parse_size(s)[1]) - aspect))  # type: ignore[index]


def _pick_size(req: ImageRequest, spec: ModelSpec, prompt: str, first: tuple[int, int] | None) -> str:
    size = getattr(req, "size", None)
    if size and size != "auto":
        if size in spec.sizes or (spec.free_size and parse_size(size)):
            return size
        wh = parse_size(size)  # a size only "the server decides" on (gpt-image-2.6): nearest standard one
        return _nearest_standard(*wh) if wh else spec.default_size
    if first is not None:  # an edit keeps its image's size when the model can make it
        as_text = f"{first[0]}x{first[1]}"
        if as_text in spec.sizes or (spec.free_size and spec.size_error(as_text) is None):
            return as_text
        if spec.family == "dall-e":
            return spec.default_size
        return _nearest_standard(*first)
    if spec.family == "dall-e":
        return spec.default_size
    if _LANDSCAPE.search(prompt):
        return "1536x1024"
    if _PORTRAIT.search(prompt):
        return "1024x1536"
    return "1024x1024"


def resolve_output(req: ImageRequest, spec: ModelSpec, prompt: str, first: tuple[int, int] | None = None,
                   pictures: str = "drawn") -> Output:
    """Resolve "auto" and defaults into what is drawn; deterministic in the request (and the
    server's ``pictures`` mode)."""
    w, h = parse_size(_pick_size(req, spec, prompt, first)) or (1024, 1024)
    gpt = spec.family != "dall-e"
    quality = getattr(req, "quality", None) or spec.default_quality or "auto"
    quality = {"auto": "medium", "standard": "medium", "hd": "high"}.get(quality, quality)
    fmt = getattr(req, "output_format", None) or "png"
    background = getattr(req, "background", None) or "auto"
    if background == "auto":
        background = "transparent" if gpt and fmt in ("png", "webp") and _CUTOUT.search(prompt) else "opaque"
    return Output(w, h, quality, fmt, getattr(req, "output_compression", None), background,
                  getattr(req, "style", None) or ("vivid" if spec.styles else None), gpt, spec.name, pictures)


def moderation_verdict(prompt: str, level: str | None, config: OfflineConfig) -> str | None:
    """The blocked word found in ``prompt`` (None: allowed). ``level="low"`` lets ``low_allowed_words`` pass."""
    if not config.moderation:
        return None
    for word in config.blocked_words:
        if re.search(rf"\b{re.escape(word)}\b", prompt or "", re.I):
            if level == "low" and word in config.low_allowed_words:
                continue
            return word
    return None


def moderation_stage(word: str, config: OfflineConfig) -> str:
    """"output" for ``output_blocked_words`` (the picture is made, then withheld), else "input"."""
    return "output" if word in config.output_blocked_words else "input"


def moderation_message(word: str) -> str:
    return (
        "Your request was rejected by the safety system of the offline backend: the prompt contains "
        f"{word!r}, one of its test words (IMAGEWIDGETS_OFFLINE_BLOCKED_WORDS). "
        "safety_violations=[offline-test-word]."
    )


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of encoded raster bytes, or None."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:
        return None


def usage(prompt: str, out: Output, images: Sequence[bytes] = (), fidelity: str | None = None,
          partials: int = 0, n: int = 1, include_input: bool = True) -> dict:
    """The ``usage`` object: text and image input tokens, output tokens with 100 per partial image."""
    text = text_tokens(prompt) if include_input else 0
    img = 0
    if include_input:
        for i, data in enumerate(images):
            w, h = image_size(data) or (1024, 1024)
            img += image_input_tokens(w, h, fidelity if i == 0 else None)
    # what the live API bills: the seed's table for gpt-image-1.x, the formula for gpt-image-2+
    output = output_tokens_for(out.model, out.quality, out.size, partials)[0] * n
    return {
        "input_tokens": text + img,
        "input_tokens_details": {"text_tokens": text, "image_tokens": img},
        "output_tokens": output,
        "total_tokens": text + img + output,
        "output_tokens_details": {"image_tokens": output, "text_tokens": 0},
    }


#: reasoning tokens the offline SVG author reports per effort (made up, but monotone and stable)
_SVG_REASONING = {"none": 0, "minimal": 64, "low": 256, "medium": 1024, "high": 4096, "xhigh": 8192, "max": 16384}


def svg_usage(prompt: str, svg: dict | None, datas: list[bytes]) -> dict:
    """``svg_usage`` (the SDK's ``SvgUsage``): the SVG author's tokens, apart from the image's."""
    from ..api.models import DEFAULT_RESPONSES_MODEL

    svg = svg or {}
    effort = (svg.get("reasoning") or {}).get("effort") or "medium"
    inp = text_tokens(prompt)
    out = sum(max(1, len(d) // 4) for d in datas)
    reasoning = _SVG_REASONING.get(effort, 1024)
    return {"input_tokens": inp, "model": str(svg.get("model") or DEFAULT_RESPONSES_MODEL),
            "output_tokens": out, "reasoning_tokens": reasoning, "total_tokens": inp + out + reasoning}


def revised_prompt(prompts: list[str], details: Sequence[str] = ()) -> str:
    """An honest, deterministic rewrite: the chain's prompts joined, with the options applied and a note
    that no model rewrote it."""
    chain = "; then: ".join(p.strip() for p in prompts if p and p.strip())
    note = ", ".join([d for d in details if d] + [HONEST_NOTE])
    return f"{chain} ({note})"


# --- rendering (in worker threads: the event loop keeps serving) --------------------------------


def _spec(prompt: str, out: Output, index: int, req: ImageRequest | None):
    from .render import RenderSpec

    kw: dict[str, Any] = {}
    if getattr(req, "frame_count", None) is not None:
        kw["frame_count"] = getattr(req, "frame_count")
    if getattr(req, "frame_duration_ms", None) is not None:
        kw["frame_duration_ms"] = getattr(req, "frame_duration_ms")  # rounded and capped as the API does: gif_duration
    return RenderSpec(
        prompt=prompt, width=out.width, height=out.height, quality=out.quality,
        output_format=out.output_format, output_compression=out.output_compression,
        background=out.background, index=index, style=out.style, pictures=out.pictures, **kw,
    )


def edit_inputs(images: list[bytes], mask: bytes | None, *, strict: bool, fidelity: str | None,
                markup: bytes | None = None):
    from .render import EditInputs

    return EditInputs(images=tuple(images), mask=mask, mask_strict=strict, input_fidelity=fidelity, markup=markup)


async def render_images(prompt: str, out: Output, req: ImageRequest, n: int, edit: Any = None, first: int = 0) -> list[bytes]:
    """``n`` final images (index ``first`` .. ``first + n - 1``), one worker thread each in turn."""
    from . import render

    return [await _signed(await anyio.to_thread.run_sync(render.render, _spec(prompt, out, i, req), edit), req)
            for i in range(first, first + n)]


async def render_frames(prompt: str, out: Output, req: ImageRequest, index: int, partials: int,
                        edit: Any = None) -> AsyncIterator[bytes]:
    """The partial frames (coarse to fine), then the final image of image ``index``, each yielded as soon
    as a worker thread has drawn it (the event loop keeps serving meanwhile)."""
    from . import render

    frames = render.iter_frames(_spec(prompt, out, index, req), partials, edit)
    k = 0
    while (frame := await anyio.to_thread.run_sync(next, frames, None)) is not None:
        yield await _signed(frame, req) if k == partials else frame  # partials carry no manifest, as OpenAI's
        k += 1


async def render_variation(out: Output, image: bytes, n: int) -> list[bytes]:
    from . import render

    return [await _signed(await anyio.to_thread.run_sync(render.render_variation, _spec("", out, i, None), image),
                          None, "dall-e-2")
            for i in range(n)]


async def _signed(data: bytes, req: ImageRequest | None, model: str | None = None) -> bytes:
    """A final image with the twin's C2PA manifest (``provenance``), signed in a worker thread."""
    from . import provenance

    return await anyio.to_thread.run_sync(functools.partial(
        provenance.sign, data, model=model or getattr(req, "model", None)))
