"""From the wire to request objects, and from failures to the API's error JSON.

The offline server builds the same request types the client builds (``GenerateRequest``,
``EditRequest``, ``VariationRequest``, ``ResponsesRequest``) and validates them with the same
rules, so a request the client would refuse is refused here with the same parameter named.
Image references (``file_id``, data URLs, ``ig_…`` call ids, URLs this server handed out) are
turned into bytes by a ``resolve`` callable before validation, so size and format rules apply
to them too.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Iterable

from ..api.errors import ParamError
from ..api.images import sniff_format
from ..api.models import COMPLETION_WINDOWS, DEFAULT_TOOL_MODEL
from ..api.params import Param, params_of
from ..api.registry import registry
from ..api.inputs import ImageInput
from ..api.requests import EditRequest, GenerateRequest, ResponsesRequest, VariationRequest

__all__ = [
    "APIFailure",
    "from_param_error",
    "form_to_dict",
    "file_form",
    "generate_request",
    "edit_request",
    "variation_request",
    "responses_request",
    "ResponsesWire",
    "decode_data_url",
]

#: Resolves an image reference (file id, URL, call id) into an ImageInput holding bytes.
Resolver = Callable[[ImageInput, str], ImageInput]

#: The wire's field lists, from the request types' parameters (``api/params.py``).
_GENERATE_PARAMS = {p.name: p for p in params_of(GenerateRequest)}
_EDIT_PARAMS = {p.name: p for p in params_of(EditRequest)}
_TOOL_PARAMS = {p.name: p for p in params_of(ResponsesRequest) if p.tool or p.name == "model"}
_INT_FIELDS = {p.name for p in registry().values() if p.json is int}
_BOOL_FIELDS = {p.name for p in registry().values() if p.json is bool}
_GENERATE_FIELDS = {"prompt", "user", *_GENERATE_PARAMS}
# the edits endpoint has no moderation (SDK 3.57 and the OpenAPI spec): sent, it is an unknown parameter
_EDIT_FIELDS = {"prompt", "user", "image", "images", "mask", "markup", *_EDIT_PARAMS} - {"moderation"}
_VARIATION_OPTIONS = tuple(f.name for f in fields(VariationRequest) if f.name not in ("image", "extra_body"))
_VARIATION_FIELDS = {"image", "user", *_VARIATION_OPTIONS}
_TOOL_FIELDS = {"type", "input_image_mask", *_TOOL_PARAMS}


class APIFailure(Exception):
    """An answer with the API's error body: ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def from_param_error(e: ParamError) -> APIFailure:
    """A ``ParamError`` of the shared validation as the 400 the API sends."""
    code = "missing_required_parameter" if e.value in (None, "") else "invalid_value"
    if e.message.startswith("unknown option"):
        code = "unknown_parameter"
    return APIFailure(400, e.message, param=e.param, code=code)


def _unknown(name: str) -> APIFailure:
    return APIFailure(400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")


# --- multipart ---------------------------------------------------------------------------------


def form_to_dict(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Multipart fields as a body dict: ``image[]`` repeated -> a list, ``svg[model]`` -> nested,
    numbers and booleans from their text, empty strings (the SDK's None) dropped. Files stay
    objects with ``.read()`` (starlette's UploadFile)."""
    out: dict[str, Any] = {}
    for key, value in items:
        if isinstance(value, str):
            value = _scalar(key, value)
            if value is None:
                continue
        m = re.match(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$", key)
        if not m:
            raise _unknown(key)
        name, rest = m.group(1), re.findall(r"\[([^\[\]]*)\]", m.group(2))
        if not rest:
            if name == "image" and name in out:  # a repeated ``image`` is a list, as ``image[]``
                prev = out[name]
                out[name] = (prev if isinstance(prev, list) else [prev]) + [value]
            elif name in out:  # any other field given twice is ambiguous: which one was meant?
                raise APIFailure(400, f"The field '{name}' is given more than once.", param=name,
                                 code="invalid_value")
            else:
                out[name] = value
            continue
        if rest == [""]:
            out.setdefault(name, [])
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(value)
            continue
        node = out.setdefault(name, {})
        for part in rest[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node
        if not isinstance(node, dict) or "" in rest:
            raise _unknown(key)
        node[rest[-1]] = value
    return out


def _scalar(key: str, text: str) -> Any:
    if text == "":
        return None
    base = key.split("[", 1)[0]
    if base in _INT_FIELDS and re.fullmatch(r"-?\d+", text.strip()):
        return int(text)
    if base in _BOOL_FIELDS:
        low = text.strip().lower()
        if low in ("true", "false"):
            return low == "true"
    return text


def file_form(body: dict[str, Any], fields: Iterable[str]) -> Any:
    """The ``file`` of a multipart body that may hold only ``fields`` (``file`` among them): as the
    API does, a field it does not know is an error, not silently dropped, and a missing file is one too."""
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise APIFailure(400, f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0],
                         code="unknown_parameter")
    upload = body.get("file")
    if upload is None or isinstance(upload, str):
        raise APIFailure(400, "Missing required parameter: 'file'.", param="file", code="missing_required_parameter")
    return upload


async def upload_bytes(value: Any) -> bytes:
    """Bytes of a multipart file (starlette UploadFile) or of raw bytes."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if hasattr(value, "read"):
        data = await value.read()
        return bytes(data)
    raise TypeError(type(value).__name__)


def image_from_upload(data: bytes, filename: str | None, param: str) -> ImageInput:
    fmt = sniff_format(data)
    if fmt is None:
        raise ParamError(param, f"<{len(data)} bytes>", "a PNG, JPEG or WebP image",
                         hint="the uploaded file is not an image")
    return ImageInput(data=data, format=fmt, name=filename or f"image.{fmt}")


# --- references --------------------------------------------------------------------------------


def decode_data_url(url: str, param: str) -> ImageInput:
    """``data:image/png;base64,...`` -> ImageInput with the bytes."""
    m = re.match(r"^data:([\w.+/-]*)(;[^,]*)?,(.*)$", url, re.S)
    if not m or "base64" not in (m.group(2) or ""):
        raise APIFailure(400, f"Invalid image URL in {param}: expected a base64 data URL or a file_id.",
                         param=param, code="invalid_image_url")
    try:
        data = base64.b64decode(m.group(3), validate=False)
    except ValueError:  # binascii.Error is one
        raise APIFailure(400, f"Invalid base64 image data in {param}.", param=param,
                         code="invalid_base64_image") from None
    return image_from_upload(data, None, param)


def _reference(obj: Any, param: str) -> ImageInput:
    """``{"image_url": ...}`` or ``{"file_id": ...}`` (the JSON form of an image) -> an unresolved ImageInput."""
    if isinstance(obj, str):
        obj = {"image_url": obj}
    if not isinstance(obj, dict):
        raise APIFailure(400, f"Invalid value for {param}: expected an object with image_url or file_id.",
                         param=param, code="invalid_type")
    extra = set(obj) - {"image_url", "file_id", "type", "detail"}
    if extra:
        raise _unknown(f"{param}.{sorted(extra)[0]}")
    if obj.get("file_id"):
        return ImageInput(file_id=str(obj["file_id"]))
    if obj.get("image_url"):
        return ImageInput(url=str(obj["image_url"]))
    raise APIFailure(400, f"Missing image_url or file_id in {param}.", param=param,
                     code="missing_required_parameter")


# --- the Image API -----------------------------------------------------------------------------


def _options(body: dict, allowed: set[str], params: dict[str, Param]) -> dict[str, Any]:
    for key in body:
        if key not in allowed:
            raise _unknown(key)
    opts = _typed({k: body[k] for k in params if k in body and body[k] is not None}, params)
    if body.get("user") is not None and not isinstance(body["user"], str):
        raise ParamError("user", body["user"], "text")
    if body.get("user") and not opts.get("safety_identifier"):
        opts["safety_identifier"] = body["user"]
    return opts


_JSON_TYPES = {bool: "true or false", str: "a string", dict: "an object"}


def _typed(opts: dict[str, Any], params: dict[str, Param]) -> dict[str, Any]:
    """Refuse a value of the wrong JSON type (whole numbers are left to the rules, which name the range)."""
    for name, value in opts.items():
        kind = params[name].json
        wrong = isinstance(value, bool) != (kind is bool) or not isinstance(value, kind)
        if kind in _JSON_TYPES and wrong:
            raise ParamError(name, value, _JSON_TYPES[kind])
    return opts


def generate_request(body: Any) -> GenerateRequest:
    """``POST /v1/images/generations`` JSON body -> GenerateRequest (not yet validated)."""
    if not isinstance(body, dict):
        raise APIFailure(400, "The body must be a JSON object.", code="invalid_json")
    opts = _options(body, _GENERATE_FIELDS, _GENERATE_PARAMS)
    if not isinstance(body.get("model"), str) or not body["model"]:  # the API: "Specify a model explicitly"
        raise APIFailure(400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    return GenerateRequest(body.get("prompt"), **opts)  # type: ignore[arg-type]


def edit_request(body: dict, resolve: Resolver) -> EditRequest:
    """``POST /v1/images/edits`` (multipart, after ``form_to_dict`` and reading the files as
    ImageInputs, or JSON with ``images: [{image_url|file_id}]``) -> EditRequest, images resolved."""
    opts = _options(body, _EDIT_FIELDS, _EDIT_PARAMS)
    images: list[ImageInput] = []
    raw = body.get("images") if "images" in body else body.get("image")
    if raw is not None:
        seq = raw if isinstance(raw, list) else [raw]
        label = "images" if "images" in body else "image"
        for i, item in enumerate(seq):
            param = f"{label}[{i}]" if len(seq) > 1 else label
            img = item if isinstance(item, ImageInput) else _reference(item, param)
            images.append(resolve(img, param))
    mask = _one_image(body.get("mask"), "mask", resolve)
    markup = _one_image(body.get("markup"), "markup", resolve)
    return EditRequest(body.get("prompt"), images=tuple(images), mask=mask, markup=markup, **opts)  # type: ignore[arg-type]


def _one_image(value: Any, param: str, resolve: Resolver) -> ImageInput | None:
    if value is None:
        return None
    img = value if isinstance(value, ImageInput) else _reference(value, param)
    return resolve(img, param)


def variation_request(body: dict) -> VariationRequest:
    """``POST /v1/images/variations`` (multipart, image read as an ImageInput) -> VariationRequest."""
    for key in body:
        if key not in _VARIATION_FIELDS:
            raise _unknown(key)
    image = body.get("image")
    if not isinstance(image, ImageInput):
        raise ParamError("image", None, "a square PNG", hint="a variation needs an image")
    opts = {k: body[k] for k in _VARIATION_OPTIONS if body.get(k) is not None}
    return VariationRequest(image, **opts)


# --- the Responses API -------------------------------------------------------------------------


@dataclass
class ResponsesWire:
    """What a ``POST /v1/responses`` body says besides the image request itself."""

    request: ResponsesRequest
    tool: dict
    tools: list
    tool_index: int
    tool_choice: Any = "auto"
    earlier_texts: list[str] = field(default_factory=list)  # user texts before this turn's prompt
    store: bool = True
    metadata: dict = field(default_factory=dict)
    instructions: Any = None
    safety_identifier: str | None = None
    #: ``background=true``: answered ``queued`` at once, drawn later; ``completion_window`` soonest, 2h or 8h
    background: bool = False
    completion_window: str | None = None


def responses_request(body: Any, resolve: Resolver) -> ResponsesWire:
    """``POST /v1/responses`` with an ``image_generation`` tool -> ResponsesRequest (images resolved)."""
    if not isinstance(body, dict):
        raise APIFailure(400, "The body must be a JSON object.", code="invalid_json")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise APIFailure(400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise APIFailure(400, "Invalid type for 'tools': expected an array.", param="tools", code="invalid_type")
    index = next((i for i, t in enumerate(tools) if isinstance(t, dict) and t.get("type") == "image_generation"), None)
    if index is None:
        raise APIFailure(
            400, "The offline backend has no language model: it only runs the image_generation tool. "
            "Add tools=[{'type': 'image_generation'}].", param="tools", code="unsupported_value")
    tool = tools[index]
    for key in tool:
        if key not in _TOOL_FIELDS:
            raise _unknown(f"tools[{index}].{key}")
    choice = body.get("tool_choice", "auto")
    if choice == "none" or (isinstance(choice, dict) and choice.get("type") not in ("image_generation", None)):
        raise APIFailure(400, "The offline backend can only call the image_generation tool; "
                         "use tool_choice 'auto', 'required' or {'type': 'image_generation'}.",
                         param="tool_choice", code="unsupported_value")
    texts, images = _read_input(body.get("input"), resolve)
    prompt = texts[-1] if texts else ""
    opts = _typed({k: tool[k] for k in _TOOL_PARAMS if tool.get(k) is not None}, _TOOL_PARAMS)
    opts.setdefault("model", DEFAULT_TOOL_MODEL)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ParamError("stream", stream, "true or false")
    mask = _one_image(tool.get("input_image_mask"), f"tools[{index}].input_image_mask", resolve)
    req = ResponsesRequest(
        prompt, input_images=tuple(images), mask=mask, stream=stream,
        previous_response_id=body.get("previous_response_id"), responses_model=model,
        instructions=body.get("instructions") if isinstance(body.get("instructions"), str) else None,
        tool_choice=choice if isinstance(choice, str) else "required", **opts,
    )
    return ResponsesWire(
        request=req, tool=tool, tools=tools, tool_index=index, tool_choice=choice,
        earlier_texts=texts[:-1], store=body.get("store", True) is not False,
        metadata=body.get("metadata") or {}, instructions=body.get("instructions"),
        safety_identifier=body.get("safety_identifier") or body.get("user"),
        **_background(body, stream),
    )


def _background(body: dict, stream: bool) -> dict[str, Any]:
    """``background`` and ``background_options`` checked as the API does: a boolean; the 2h and 8h
    windows need ``background=true`` and no streaming; background needs ``store`` (the id must be kept)."""
    background = body.get("background", False)
    if background is None:
        background = False
    if not isinstance(background, bool):
        raise APIFailure(400, f"Invalid type for 'background': expected a boolean, but got {type(background).__name__}.",
                         param="background", code="invalid_type")
    options = body.get("background_options")
    window = None
    if options is not None:
        if not isinstance(options, dict):
            raise APIFailure(400, "Invalid type for 'background_options': expected an object.",
                             param="background_options", code="invalid_type")
        for key in options:
            if key not in ("completion_window", "continuation_id"):
                raise _unknown(f"background_options.{key}")
        window = options.get("completion_window")
        if window is not None and window not in COMPLETION_WINDOWS:
            raise APIFailure(400, f"Invalid value for 'background_options.completion_window': {str(window)[:40]!r}. "
                             "Supported values are: 'soonest', '2h' and '8h'.",
                             param="background_options.completion_window", code="invalid_value")
    if window in ("2h", "8h") and (not background or stream):
        raise APIFailure(400, f"The {window} completion window needs background=true and no streaming.",
                         param="background_options.completion_window", code="invalid_value")
    if background and body.get("store") is False:
        raise APIFailure(400, "background=true needs store=true: the response is kept until you retrieve it.",
                         param="store", code="invalid_value")
    return {"background": background, "completion_window": window}


def _read_input(value: Any, resolve: Resolver) -> tuple[list[str], list[ImageInput]]:
    """The user texts (one per user message) and the input images, in order."""
    if value is None:
        return [], []
    if isinstance(value, str):
        return [value], []
    if not isinstance(value, list):
        raise APIFailure(400, "Invalid type for 'input': expected a string or an array.", param="input",
                         code="invalid_type")
    texts: list[str] = []
    images: list[ImageInput] = []
    for i, item in enumerate(value):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise APIFailure(400, f"Invalid type for '{where}': expected an object.", param=where, code="invalid_type")
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "image_generation_call":
            if item.get("result"):
                images.append(decode_data_url(f"data:image/png;base64,{item['result']}", where))
            elif item.get("id"):
                images.append(resolve(ImageInput(call_id=str(item["id"])), where))
            else:
                raise APIFailure(400, f"Missing 'id' in {where}.", param=where, code="missing_required_parameter")
            continue
        if kind == "reasoning":
            continue
        if kind != "message":
            raise APIFailure(400, f"The offline backend does not take input items of type {kind!r} ({where}).",
                             param=f"{where}.type", code="unsupported_value")
        if item.get("role", "user") != "user":
            continue  # assistant, system and developer messages are not prompts for the image tool
        content = item.get("content")
        parts = [content] if isinstance(content, str) else content if isinstance(content, list) else []
        said: list[str] = []
        for j, part in enumerate(parts):
            pwhere = f"{where}.content[{j}]"
            if isinstance(part, str):
                said.append(part)
            elif isinstance(part, dict) and part.get("type") in ("input_text", "text"):
                said.append(str(part.get("text") or ""))
            elif isinstance(part, dict) and part.get("type") == "input_image":
                ref = {k: part[k] for k in ("image_url", "file_id") if part.get(k)}
                images.append(resolve(_reference(ref, pwhere), pwhere))
            else:
                kind_j = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise APIFailure(400, f"The offline backend does not take content of type {kind_j!r} ({pwhere}).",
                                 param=pwhere, code="unsupported_value")
        if said:
            texts.append("\n".join(t for t in said if t))
    return texts, images
