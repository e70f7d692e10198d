"""The verbs' keyword options as types, so an editor completes ``quality=`` with its values and mypy
refuses ``quality="hgih"`` before anything runs.

These are static spellings of the parameter registry (``api/params.py``) and the model table
(``api/models.py``): ``tests/test_typing.py`` checks that each ``TypedDict`` has exactly the
parameters of its request type and that each ``Literal`` lists exactly the values the table's
models accept, so a parameter or value added there fails the test until it is added here.

    >>> from imagewidgets import Client
    >>> Client().generate("a kite", quality="low", output_format="webp")   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Literal, TypedDict, Union

__all__ = ["Size", "Quality", "OutputFormat", "Background", "Moderation", "Style", "ResponseFormat", "Complexity",
           "InputFidelity", "Action", "CompletionWindow", "SvgOptions", "GenerateOptions", "EditOptions", "RespondOptions",
           "VaryOptions", "ImageParams", "Streaming", "ImagineOptions", "SessionOptions"]

#: a size of the table, "auto", or any ``WxH`` the model's free size rule takes
Size = Union[Literal["auto", "1024x1024", "1536x1024", "1024x1536", "256x256", "512x512", "1792x1024", "1024x1792"],
             str]
Quality = Literal["low", "medium", "high", "xhigh", "max", "auto", "standard", "hd"]
OutputFormat = Literal["png", "jpeg", "webp", "gif", "svg"]
Background = Literal["transparent", "opaque", "auto"]
Moderation = Literal["auto", "low"]
Style = Literal["vivid", "natural"]
ResponseFormat = Literal["url", "b64_json"]
Complexity = Literal["low", "medium", "high"]
InputFidelity = Literal["high", "low"]
Action = Literal["generate", "edit", "auto"]
CompletionWindow = Literal["soonest", "2h", "8h"]


class SvgOptions(TypedDict, total=False):
    """``svg={"model": "gpt-5.5", "reasoning": {"effort": "low"}}`` (only with ``output_format="svg"``)."""

    model: str
    reasoning: dict[str, str]


class ImageParams(TypedDict, total=False):
    """The output parameters every image request takes (streaming apart: ``Streaming``)."""

    model: str
    size: Size
    quality: Quality
    n: int
    output_format: OutputFormat
    output_compression: int
    background: Background
    moderation: Moderation
    style: Style
    response_format: ResponseFormat
    complexity: Complexity
    frame_count: int
    frame_duration_ms: int
    svg: SvgOptions
    safety_identifier: str
    extra_body: dict


class Streaming(TypedDict, total=False):
    """Streaming: ``stream=True`` and how many partial images arrive before the final one."""

    stream: bool
    partial_images: int


class GenerateOptions(ImageParams, Streaming, total=False):
    """``Client.generate`` / ``GenerateRequest``: every parameter of ``POST /images/generations``."""


class EditOptions(GenerateOptions, total=False):
    """``Client.edit`` / ``EditRequest``: the generation's parameters, how closely to keep the input,
    and the mask or markup."""

    input_fidelity: InputFidelity
    mask: object
    markup: object
    pins: object  # pinned references (``api/pins.py``): a session fills them


class RespondOptions(GenerateOptions, total=False):
    """``Client.respond`` / ``ResponsesRequest``: the image tool's parameters and the conversation's."""

    input_fidelity: InputFidelity
    action: Action
    mask: object
    pins: object
    base_image: object
    previous_response_id: str
    responses_model: str
    instructions: str
    tool_choice: str
    completion_window: CompletionWindow


class VaryOptions(TypedDict, total=False):
    """``Client.vary`` / ``VariationRequest`` (dall-e-2)."""

    model: str
    size: Size
    n: int
    response_format: ResponseFormat
    extra_body: dict


class ImagineOptions(ImageParams, total=False):
    """A Session's ``imagine`` (which takes ``stream`` and ``partial_images`` by name): the Image
    API's and the Responses tool's parameters (which API a call uses is the session's or ``api=``)."""

    input_fidelity: InputFidelity
    action: Action
    responses_model: str
    instructions: str
    completion_window: CompletionWindow
    pins: object  # the session's pins go along: ``False`` none this time, or the names of some


class SessionOptions(ImagineOptions, Streaming, total=False):
    """A Session's ``edit``: ``ImagineOptions`` and streaming."""
