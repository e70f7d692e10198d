"""Immutable request types for the image APIs: each field a parameter declared with ``param()``
(``api/params.py``), the input images ``ImageInput`` (``api/inputs.py``).

They only hold what was asked: the client checks a request against the model table before any
I/O (``api/validation.py``, the same ``ParamError`` texts wherever it is sent from).

    >>> from imagewidgets.api.requests import GenerateRequest
    >>> from imagewidgets.api.validation import validate
    >>> req = GenerateRequest("a lighthouse at dusk", model="gpt-image-2", size="1536x1024")
    >>> validate(req)         # raises ParamError naming the parameter, the value and what is allowed
    >>> req.replace(quality="high").quality
    'high'
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self  # typing.Self from Python 3.11

from .errors import ParamError
from .inputs import ImageInput, coerce_images
from .models import COMPRESSED_FORMATS, DEFAULT_MODEL, DEFAULT_RESPONSES_MODEL
from .params import param
from .pins import Pin, instruction

__all__ = [
    "OutputOptions",
    "GenerateRequest",
    "EditRequest",
    "VariationRequest",
    "ResponsesRequest",
    "ImageRequest",
]


class _Request:
    """What every request type does: copies with changes. (Checking one against the model table is
    ``api.validation.validate``'s job, run by whoever sends it: the rules read the requests, not the
    other way round.)"""

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (requests are immutable)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]  # every subclass is a dataclass


@dataclass(frozen=True)
class OutputOptions(_Request):
    """Output options shared by generations, edits and the Responses image tool.

    ``None`` means "not sent": the server's default applies.
    """

    model: str = param(
        DEFAULT_MODEL, flags=("-m", "--model"), config=True,
        help=f"image model (default {DEFAULT_MODEL}); the table knows: {{models}} (and their dated snapshots); "
        "other names are sent as given, for compatible servers")
    size: str | None = param(choices="sizes", tool=True, flags=("-s", "--size"), config=True, control="size",
                             help="WxH: {choices}")
    quality: str | None = param(choices="qualities", tool=True, flags=("-q", "--quality"), config=True,
                                control="quality", help="quality: {choices}")
    n: int | None = param(json=int, range=(1, 10), max_from="n_max", flags=("-n",), metavar="N",
                          control="n", start=1, idle=1,
                          help="how many images ({lo}-{hi}): one call on the Image API, that many parallel calls "
                          "(sibling turns) on the Responses API; shown as a grid to pick from")
    output_format: str | None = param(choices="output_formats", tool=True, flags=("-f", "--format"),
                                      metavar="FORMAT", config=True, control="format", prefer="png",
                                      help="output format: {choices}")
    output_compression: int | None = param(json=int, range=(0, 100), tool=True, flags=("--compression",),
                                           control="compression", widget="compression", start=80,
                                           accepted_if="compression", only=("output_format", COMPRESSED_FORMATS),
                                           help="jpeg/webp compression level, {lo}-{hi} (only with -f jpeg or webp)")
    background: str | None = param(choices="backgrounds", tool=True, flags=("-b", "--background"), config=True,
                                   control="background", prefer="auto", help="background: {choices}")
    moderation: str | None = param(choices="moderations", tool=True, flags=("--moderation",), config=True,
                                   control="moderation", prefer="auto", help="moderation: {choices}")
    style: str | None = param(choices="styles", control="style")
    response_format: str | None = param(choices="response_formats")
    stream: bool = param(False, json=bool, delivery=True)
    partial_images: int | None = param(json=int, range=(0, 3), tool=True, flags=("-p", "--partial-images"),
                                       control="partials", start=2, idle=0, accepted_if="streaming", delivery=True,
                                       only=("stream", (True,)),
                                       help="stream {lo}-{hi} partial frames, shown live in place")
    complexity: str | None = param(choices="complexities", tool=True)
    frame_count: int | None = param(json=int, range=(2, 16), tool=True, only=("output_format", ("gif",)))
    frame_duration_ms: int | None = param(json=int, range=(1, 655_350), tool=True, capped=True,  # above: capped
                                          only=("output_format", ("gif",)))
    svg: dict | None = param(json=dict, tool=True, only=("output_format", ("svg",)))
    safety_identifier: str | None = param()
    extra_body: dict | None = None  # passed through verbatim, for servers with their own options

    endpoint: ClassVar[str] = ""

    def params(self) -> dict[str, Any]:
        """The API parameters that are set (no images, no None values)."""
        skip = {"extra_body", "images", "mask", "markup", "image", "input_images", "base_image", "pins"}
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in skip}
        out = {k: v for k, v in out.items() if v is not None and not (k == "stream" and v is False)}
        if self.extra_body:
            out.update(self.extra_body)
        return out

    @property
    def sent_prompt(self) -> str:
        """The prompt as sent: with pins, followed by the instruction naming them (``api/pins.py``)."""
        pins = getattr(self, "pins", ())
        if not pins:
            return getattr(self, "prompt", "")
        return f"{getattr(self, 'prompt', '')}\n\n{instruction(pins)}".strip()

    @property
    def effective_format(self) -> str:
        """The output format the server will use (png when not given)."""
        return self.output_format or "png"


@dataclass(frozen=True)
class GenerateRequest(OutputOptions):
    """``POST /v1/images/generations``: an image from a prompt."""

    prompt: str = ""
    endpoint: ClassVar[str] = "generations"

    def __init__(self, prompt: str, **options: Any) -> None:  # prompt positional, options by name
        _init(self, GenerateRequest, prompt=prompt, **options)


@dataclass(frozen=True)
class FromImagesOptions(OutputOptions):
    """What edits and the Responses tool add to the output options: both start from images."""

    input_fidelity: str | None = param(choices="input_fidelities", tool=True, flags=("--input-fidelity",),
                                       metavar="FIDELITY", control="fidelity", prefer="low",
                                       help="how closely to keep the input image: {choices}")
    #: pinned references (``api/pins.py``): sent after the other input images, named in an
    #: instruction after the prompt; a session fills them from its pins
    pins: tuple[Pin, ...] = ()


@dataclass(frozen=True)
class EditRequest(FromImagesOptions):
    """``POST /v1/images/edits``: new images from one or more reference images, an optional mask or markup."""

    prompt: str = ""
    images: tuple[ImageInput, ...] = ()
    mask: ImageInput | None = None
    markup: ImageInput | None = None
    endpoint: ClassVar[str] = "edits"

    def __init__(self, prompt: str, images: Any = (), mask: Any = None, markup: Any = None, **options: Any) -> None:
        _init(
            self,
            EditRequest,
            prompt=prompt,
            images=coerce_images(images, "image"),
            mask=ImageInput.coerce(mask, "mask") if mask is not None else None,
            markup=ImageInput.coerce(markup, "markup") if markup is not None else None,
            **options,
        )


@dataclass(frozen=True)
class VariationRequest(_Request):
    """``POST /v1/images/variations`` (dall-e-2): variations of one square PNG."""

    image: ImageInput
    model: str = "dall-e-2"
    size: str | None = None
    n: int | None = None
    response_format: str | None = None
    extra_body: dict | None = None
    endpoint: ClassVar[str] = "variations"
    prompt: ClassVar[str] = ""
    stream: ClassVar[bool] = False
    partial_images: ClassVar[None] = None

    def __init__(self, image: Any, **options: Any) -> None:
        _init(self, VariationRequest, image=ImageInput.coerce(image, "image"), **options)

    def params(self) -> dict[str, Any]:
        out = {k: v for k, v in (("model", self.model), ("n", self.n), ("size", self.size),
                                 ("response_format", self.response_format)) if v is not None}
        out.update(self.extra_body or {})
        return out


@dataclass(frozen=True)
class ResponsesRequest(FromImagesOptions):
    """``POST /v1/responses`` with the ``image_generation`` tool: one turn of a multi-turn image conversation.

    ``model`` here is the *image* model used by the tool; ``responses_model`` is the mainline model.
    """

    prompt: str = ""
    input_images: tuple[ImageInput, ...] = ()
    previous_response_id: str | None = None
    responses_model: str = DEFAULT_RESPONSES_MODEL
    action: str | None = param(tool=True)  # generate | edit | auto
    mask: ImageInput | None = None  # the tool's input_image_mask
    #: the image ``previous_response_id`` continues from, when the caller has it: never sent, but
    #: the mask is checked against it before the request (a Session always passes it)
    base_image: ImageInput | None = None
    instructions: str | None = None
    tool_choice: str | None = "required"
    #: run the turn in background mode (``background=true``) with this completion window: soonest, 2h or 8h
    completion_window: str | None = None
    endpoint: ClassVar[str] = "responses"

    def __init__(self, prompt: str, input_images: Any = (), mask: Any = None, base_image: Any = None,
                 **options: Any) -> None:
        _init(
            self,
            ResponsesRequest,
            prompt=prompt,
            input_images=coerce_images(input_images, "input_images"),
            mask=ImageInput.coerce(mask, "mask") if mask is not None else None,
            base_image=ImageInput.coerce(base_image, "base_image") if base_image is not None else None,
            **options,
        )


ImageRequest = GenerateRequest | EditRequest | VariationRequest | ResponsesRequest


def _init(self: Any, cls: type, **values: Any) -> None:
    """Shared __init__ for the frozen request dataclasses: defaults, then the given values.

    Unknown keywords are an error that lists the known ones (a typo must not be sent silently).
    """
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ParamError(
            unknown[0], values[unknown[0]], ", ".join(sorted(names)),
            message=f"unknown option {unknown[0]!r} for {cls.__name__}; known options: "
            + ", ".join(sorted(n for n in names if n != "extra_body")) + " (use extra_body={...} for others)",
        )
    for name, f in names.items():
        if name in values:
            value = values[name]
            if name == "pins":  # any sequence of Pin: kept as a tuple (requests are immutable)
                value = tuple(value or ())
        elif f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            raise TypeError(f"{cls.__name__} needs {name}")
        object.__setattr__(self, name, value)

