"""What each image model accepts: one table, read by the client's validation and the offline server.

Adding a model is one entry in ``MODELS``. Names not in the table are passed through to the
server with a warning (compatible servers have their own models); only what the table knows
is validated.

    >>> from imagewidgets.models import get_model
    >>> get_model("dall-e-3").sizes
    ('1024x1024', '1792x1024', '1024x1792')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_RESPONSES_MODEL",
    "COMPLETION_WINDOWS",
    "DEFAULT_TOOL_MODEL",
    "RESPONSES_MODEL_SHUTDOWNS",
    "RESPONSES_MODEL_SOURCE",
    "COMPRESSED_FORMATS",
    "TRANSPARENT_FORMATS",
    "ENDPOINTS",
    "FreeSize",
    "ModelSpec",
    "MODELS",
    "get_model",
    "model_names",
    "parse_size",
]

#: The model used when none is given: one the live API serves with no shutdown announced.
DEFAULT_MODEL = "gpt-image-2"
#: The mainline model that drives the Responses API's image_generation tool, when neither the
#: call, the Session, ``configure(responses_model=...)`` nor ``%imagine_config --responses-model``
#: names one. The one place this default lives. gpt-5 shuts down on 2026-12-11 (the SDK's
#: ``ChatModel`` docstring); gpt-5.5 has no announced shutdown date (openai 3.57).
DEFAULT_RESPONSES_MODEL = "gpt-5.5"
#: ``background_options.completion_window`` of a background Responses turn (openai SDK 3.57
#: ``BackgroundOptions``): ``soonest``, or the discounted ``2h`` / ``8h`` (no streaming with those)
COMPLETION_WINDOWS = ("soonest", "2h", "8h")

#: Announced shutdown dates of the mainline (Responses) models we name, with their replacements.
#: Dates: the openai SDK 3.57 ``types/shared/chat_model.py`` docstring (checked by
#: tests/test_sdk_drift.py). Replacements: OpenAI's deprecations page
#: (https://developers.openai.com/api/docs/deprecations, read 2026-12-01): gpt-5 -> gpt-6.1-sol and
#: gpt-5-mini -> gpt-6.1-terra; where the page names none, the default mainline model.
_DEPRECATIONS_PAGE = "OpenAI deprecations page, read 2026-12-01"
RESPONSES_MODEL_SHUTDOWNS: dict[str, tuple[str, str]] = {
    **{name: ("2026-12-11", "gpt-6.1-sol") for name in ("gpt-5", "gpt-5-2025-08-07")},
    **{name: ("2026-12-11", "gpt-6.1-terra") for name in (
        "gpt-5-mini", "gpt-5-mini-2025-08-07", "gpt-5-nano", "gpt-5-nano-2025-08-07")},
    **{name: ("2026-12-11", "gpt-5.5") for name in ("o3", "o3-2025-04-16")},
    **{name: ("2027-01-14", "gpt-5.5") for name in (
        "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14", "gpt-4o",
        "gpt-4o-2024-11-20", "gpt-4o-2024-08-06", "gpt-4o-mini", "gpt-4o-mini-2024-07-18")},
    **{name: ("2027-04-01", "gpt-5.5") for name in (
        "gpt-5.4-nano", "gpt-5.4-nano-2026-03-17", "gpt-5.1", "gpt-5.1-2025-11-13")},
    **{name: ("2026-10-23", "gpt-5.5") for name in (
        "gpt-4.1-nano", "gpt-4.1-nano-2025-04-14", "o4-mini", "o4-mini-2025-04-16", "o3-mini",
        "o3-mini-2025-01-31", "o1", "o1-2024-12-17", "gpt-4o-2024-05-13")},
}
#: where each mainline date and replacement comes from (``imagewidgets models`` and the README show it)
RESPONSES_MODEL_SOURCE = "openai SDK 3.57 types/shared/chat_model.py docstring; replacements: " + _DEPRECATIONS_PAGE

#: The image model the Responses API's image_generation tool uses when the tool names none
#: (openai SDK 3.51+ ``types/responses/tool.py``, ``ImageGeneration.model`` docstring).
DEFAULT_TOOL_MODEL = "gpt-image-2.6-sunburst"

ENDPOINTS = ("generations", "edits", "variations", "responses")

STANDARD_SIZES = ("1024x1024", "1536x1024", "1024x1536")
GPT_FORMATS = ("png", "jpeg", "webp")
NEW_FORMATS = ("png", "jpeg", "webp", "gif", "svg")
#: the output formats output_compression applies to, and those that can be transparent
COMPRESSED_FORMATS = ("jpeg", "webp")
TRANSPARENT_FORMATS = ("png", "webp")

# ASCII digits only, the whole text (no trailing newline, no full-width digits): what is checked is what is sent
_SIZE_RE = re.compile(r"([0-9]{1,5})x([0-9]{1,5})")


def parse_size(size: str) -> tuple[int, int] | None:
    """``"1536x1024"`` -> ``(1536, 1024)``; ``None`` for ``"auto"`` or anything else."""
    m = _SIZE_RE.fullmatch(size) if isinstance(size, str) else None
    return (int(m.group(1)), int(m.group(2))) if m else None


@dataclass(frozen=True)
class FreeSize:
    """The free ``WxH`` rule of gpt-image-2 and newer."""

    multiple: int = 16
    min_side: int = 16
    max_aspect: float = 3.0  # long side / short side
    max_width: int = 3840
    max_height: int = 3840
    max_pixels: int = 3840 * 2160
    experimental_above: tuple[int, int] = (2560, 1440)  # larger sizes work, as an experiment

    def check(self, width: int, height: int) -> str | None:
        """The reason ``width x height`` breaks the rule, or None when it fits."""
        if width % self.multiple or height % self.multiple:
            return f"width and height must both be multiples of {self.multiple}"
        if min(width, height) < self.min_side:
            return f"each side must be at least {self.min_side}px"
        if max(width, height) / min(width, height) > self.max_aspect + 1e-9:
            return f"the aspect ratio must be between {self._aspects(' and ')}"
        if width > self.max_width or height > self.max_height or width * height > self.max_pixels:
            return f"at most {self._most} pixels in all, no side above {self.max_width}"
        return None

    def describe(self) -> str:
        return (
            f"any WxH with both sides multiples of {self.multiple}, aspect {self._aspects(' to ')}, "
            f"at most {self._most} pixels"
        )

    @property
    def experimental_pixels(self) -> int:
        return self.experimental_above[0] * self.experimental_above[1]

    @property
    def experimental_size(self) -> str:
        return "x".join(map(str, self.experimental_above))

    @property
    def _most(self) -> str:  # the largest landscape size: 3840x2160
        return f"{self.max_width}x{self.max_pixels // self.max_width}"

    def _aspects(self, joiner: str) -> str:
        return f"1:{self.max_aspect:g}{joiner}{self.max_aspect:g}:1"


@dataclass(frozen=True)
class ModelSpec:
    """Everything one model accepts. Empty tuples mean "this parameter is not accepted"."""

    name: str
    family: str  # "gpt-image" or "dall-e"
    #: the day api.openai.com stops serving it (ISO date), None when none is announced; the
    #: server's models list overrides it (api/lifecycle.py), this is the fallback
    shutdown_date: str | None = None
    replacement: str | None = None
    #: where the date comes from, for the drift test and the README
    shutdown_source: str | None = None
    endpoints: tuple[str, ...] = ("generations", "edits", "responses")
    sizes: tuple[str, ...] = STANDARD_SIZES
    size_auto: bool = True
    free_size: FreeSize | None = None
    other_sizes_pass: bool = False  # unknown sizes go to the server, which decides
    default_size: str = "auto"
    qualities: tuple[str, ...] = ("low", "medium", "high", "auto")
    default_quality: str | None = "auto"
    output_formats: tuple[str, ...] = GPT_FORMATS
    compression: bool = True
    backgrounds: tuple[str, ...] = ("transparent", "opaque", "auto")
    transparent_preview: bool = False
    moderations: tuple[str, ...] = ("auto", "low")
    styles: tuple[str, ...] = ()
    response_formats: tuple[str, ...] = ()
    n_max: int = 10
    prompt_max: int = 32000
    edit_images_max: int = 16
    edit_image_formats: tuple[str, ...] = ("png", "webp", "jpeg")
    edit_image_max_bytes: int = 50 * 1024 * 1024
    edit_square_png_only: bool = False
    mask_strict: bool = False  # dall-e-2 edits only inside the mask; gpt-image uses it as a guide
    markup: bool = False
    streaming: bool = True
    input_fidelities: tuple[str, ...] = ("high", "low")
    complexities: tuple[str, ...] = ()
    revised_prompt: bool = False
    variation_sizes: tuple[str, ...] = ()
    variation_max_bytes: int = 4 * 1024 * 1024

    def supports(self, endpoint: str) -> bool:
        return endpoint in self.endpoints

    def allowed_sizes(self) -> str:
        """Human text of the sizes this model takes, for error messages."""
        parts = list(self.sizes) + (["auto"] if self.size_auto else [])
        text = ", ".join(parts)
        if self.free_size:
            text += f", or {self.free_size.describe()}"
        return text

    def size_error(self, size: str) -> str | None:
        """The reason ``size`` is refused, or None when it is accepted."""
        if size == "auto":
            return None if self.size_auto else "this model has no automatic size"
        if size in self.sizes:
            return None
        wh = parse_size(size)
        if self.free_size and wh:
            return self.free_size.check(*wh)
        if self.other_sizes_pass and wh:
            return None
        return "not one of its sizes"

    def status_on(self, day: "date") -> str:
        """``"live"``, ``"shutting down"`` (a date is announced) or ``"shut down"`` on ``day``. The
        caller brings the day (``api.lifecycle.is_live`` brings today's): the table never reads the clock."""
        if not self.shutdown_date:
            return "live"
        return "shut down" if day.isoformat() >= self.shutdown_date else "shutting down"


# complexity: the SDK (3.57) documents it for the GPT image models without excluding any
_GPT = ModelSpec(name="gpt-image-1", family="gpt-image", complexities=("low", "medium", "high"))
_FREE = FreeSize()

_NEW = replace(
    _GPT,
    free_size=_FREE,
    output_formats=NEW_FORMATS,
    input_fidelities=(),
)

_SDK = "openai SDK 3.57 types/image_model.py docstring"
# Announced by OpenAI on 2026-06-02 (https://developers.openai.com/api/docs/deprecations); the
# SDK 3.57 docstrings do not carry it yet, so the drift test lists it as a deliberate extra. The
# page was updated: the recommended replacement is gpt-image-2.6-sunburst or -flare (not gpt-image-2).
_DEC_1: dict[str, Any] = dict(shutdown_date="2026-12-01", replacement="gpt-image-2.6-sunburst",
                              shutdown_source="OpenAI deprecations page, announced 2026-06-02, read 2026-12-01")

_ENTRIES: list[ModelSpec] = [
    ModelSpec(
        name="dall-e-2",
        family="dall-e",
        shutdown_date="2026-05-12",
        replacement="gpt-image-2",
        shutdown_source=_SDK,
        endpoints=("generations", "edits", "variations"),
        sizes=("256x256", "512x512", "1024x1024"),
        size_auto=False,
        default_size="1024x1024",
        qualities=("standard",),
        default_quality=None,
        output_formats=(),
        compression=False,
        backgrounds=(),
        moderations=(),
        response_formats=("url", "b64_json"),
        n_max=10,
        prompt_max=1000,
        edit_images_max=1,
        edit_image_formats=("png",),
        edit_image_max_bytes=4 * 1024 * 1024,
        edit_square_png_only=True,
        mask_strict=True,
        streaming=False,
        input_fidelities=(),
        variation_sizes=("256x256", "512x512", "1024x1024"),
    ),
    ModelSpec(
        name="dall-e-3",
        family="dall-e",
        shutdown_date="2026-05-12",
        replacement="gpt-image-2",
        shutdown_source=_SDK,
        endpoints=("generations",),
        sizes=("1024x1024", "1792x1024", "1024x1792"),
        size_auto=False,
        default_size="1024x1024",
        qualities=("standard", "hd"),
        default_quality="standard",
        output_formats=(),
        compression=False,
        backgrounds=(),
        moderations=(),
        styles=("vivid", "natural"),
        response_formats=("url", "b64_json"),
        n_max=1,
        prompt_max=4000,
        edit_images_max=0,
        streaming=False,
        input_fidelities=(),
        revised_prompt=True,
    ),
    # the SDK's ImageModel docstring names the 2.5 family as gpt-image-1's replacement
    replace(_GPT, shutdown_date="2026-10-23", replacement="gpt-image-2.5-sunburst", shutdown_source=_SDK),
    replace(_GPT, name="gpt-image-1-mini", input_fidelities=("low",), **_DEC_1),
    replace(_GPT, name="gpt-image-1.5", **_DEC_1),
    # transparent backgrounds are "in preview" on gpt-image-2 and its snapshot only (the SDK's docstring)
    replace(_NEW, name="gpt-image-2", transparent_preview=True),
    replace(_NEW, name="gpt-image-2-2026-04-21", transparent_preview=True),
    *[
        replace(_NEW, name=name, qualities=("low", "medium", "high", "xhigh", "max", "auto"), markup=True)
        for name in (
            "gpt-image-2.5-sunburst",
            "gpt-image-2.5-flare",
            "gpt-image-2.5-sunburst-2026-09-08",
            "gpt-image-2.5-flare-2026-09-08",
        )
    ],
    *[
        replace(_NEW, name=name, free_size=None, other_sizes_pass=True)
        for name in ("gpt-image-2.6-sunburst", "gpt-image-2.6-flare")
    ],
    replace(_GPT, name="chatgpt-image-latest", **_DEC_1),
]

#: name -> ModelSpec, for every model the table knows.
MODELS: dict[str, ModelSpec] = {m.name: m for m in _ENTRIES}


def model_names(endpoint: str | None = None) -> list[str]:
    """The table's model names, optionally only those serving ``endpoint``. Which of them are live
    today is the calendar's answer (``api.lifecycle.live_model_names``): the table states dates, it
    never reads the clock."""
    return [m.name for m in _ENTRIES if endpoint is None or m.supports(endpoint)]


def get_model(name: str) -> ModelSpec | None:
    """The table's entry for ``name``, or None for a model the table does not know."""
    return MODELS.get(name)

