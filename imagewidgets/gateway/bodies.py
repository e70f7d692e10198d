"""What a participant's request says: its body read within a size and a time limit, its fields (JSON or
multipart, the bytes left untouched for forwarding) checked for the types the API gives them (the
image parameters' types and ranges are their declarations, ``api/requests.py``), the ids
it names (every one: the gateway forwards only the participant's own), its first words for the gallery."""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.requests import ClientDisconnect, Request

from ..api.params import params_of
from ..api.registry import registry
from ..api.requests import EditRequest, GenerateRequest, ResponsesRequest
from .rules import Refusal

__all__ = ["MAX_BODY_BYTES", "BODY_TIMEOUT_S", "read_body", "parse_body", "check_fields", "check_headers",
           "references", "first_text"]

#: largest request body a participant may send: the API takes edit images below 50 MB, which as
#: base64 in JSON (the Responses API's input_image) are 67 MB; 100 MB leaves room for a mask, as the
#: offline twin's --max-body does (64 MiB refused the largest legitimate edits)
MAX_BODY_BYTES = 100 * 1024 * 1024
#: a body must have arrived whole within this many seconds (a half-sent body would hold a slot forever)
BODY_TIMEOUT_S = 60.0
#: JSON nested deeper than this is refused (no request of the API nests half as deep)
MAX_DEPTH = 32
#: the headers forwarded upstream: their values must be printable ASCII, as HTTP/1.1 asks
FORWARDED_HEADERS = ("content-type", "accept", "openai-beta")


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refusal(413, f"The request is larger than the gateway accepts ({MAX_BODY_BYTES // 2**20} MB).",
                      code="request_too_large")
    chunks, size = [], 0
    with anyio.move_on_after(BODY_TIMEOUT_S) as waited:
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise Refusal(413, f"The request is larger than the gateway accepts "
                                  f"({MAX_BODY_BYTES // 2**20} MB).", code="request_too_large")
                chunks.append(chunk)
        except ClientDisconnect:
            raise Refusal(400, "The request's body broke off.", code="request_incomplete") from None
    if waited.cancelled_caught:
        raise Refusal(408, f"The request's body did not arrive within {BODY_TIMEOUT_S:g} s; send it again.",
                      code="request_timeout", headers={"connection": "close"})
    return b"".join(chunks)


def check_headers(request: Request) -> None:
    """The forwarded headers are printable ASCII (anything else could not be sent on)."""
    for name in FORWARDED_HEADERS:
        value = request.headers.get(name)
        if value is not None and not (value.isascii() and value.isprintable()):
            raise Refusal(400, f"The {name} header holds characters HTTP headers may not carry; send plain ASCII.",
                          code="invalid_header", param=name)


async def parse_body(request: Request, body: bytes) -> tuple[dict, list[bytes]]:
    """Fields of a JSON or multipart body (nothing is changed: the bytes are forwarded as they came),
    and the bytes of uploaded input images."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        async def replay() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        fields: dict[str, Any] = {}
        images: list[bytes] = []
        form_request = Request(request.scope, replay)
        try:
            async with form_request.form(max_files=64, max_fields=1000, max_part_size=MAX_BODY_BYTES) as form:
                for key, value in form.multi_items():
                    if isinstance(value, str):
                        fields[key] = value
                    elif key in ("image", "image[]"):
                        images.append(await value.read())
        except Exception as e:  # starlette's MultiPartException and friends
            raise Refusal(400, f"The multipart body could not be read: {e}", code="invalid_multipart") from None
        fields["stream"] = str(fields.get("stream", "false")).lower() == "true"
        return fields, images
    try:
        fields = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise Refusal(400, "The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(fields, dict):
        raise Refusal(400, "The body must be a JSON object.", code="invalid_json")
    if _depth(fields) > MAX_DEPTH:
        raise Refusal(400, f"The body nests deeper than {MAX_DEPTH} levels.", code="invalid_json")
    return fields, []


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_DEPTH:
            break
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


_STR, _INT, _BOOL, _DICT, _LIST = (str,), (int,), (bool,), (dict,), (list,)


def _declared(params: Any) -> dict[str, tuple[type, ...]]:
    """name -> JSON type of declared image parameters (``api/requests.py``), as every layer reads them."""
    return {p.name: (p.json,) for p in params}


#: the type each field may have. The image parameters are the declared ones (a new parameter is checked
#: here with no edit); the rest are the API's own fields, from its reference: the prompt and user of
#: the Image API, the Responses API's envelope, the image tool's type and mask.
_TYPES: dict[str, dict[str, tuple[type, ...]]] = {
    "images": {"prompt": _STR, "user": _STR,
               **_declared(p for cls in (GenerateRequest, EditRequest) for p in params_of(cls))},
    "responses": {"model": _STR, "input": (str, list), "instructions": _STR, "tools": _LIST,
                  "tool_choice": (str, dict), "previous_response_id": _STR, "max_output_tokens": _INT,
                  "max_tool_calls": _INT, "conversation": (str, dict), "stream": _BOOL, "background": _BOOL,
                  "store": _BOOL, "metadata": _DICT, "text": _DICT, "reasoning": _DICT, "prompt": _DICT,
                  "parallel_tool_calls": _BOOL, "include": _LIST, "user": _STR, "safety_identifier": _STR},
    "tool": {"type": _STR, "input_image_mask": _DICT,
             **_declared(p for p in params_of(ResponsesRequest) if p.tool or p.name == "model")},
}
#: the whole numbers each field may hold: a declared parameter's widest range over the model table
#: (the upstream checks each model's own; ``None``: above the minimum the API caps, it does not refuse),
#: and the Responses envelope's limits
_RANGES: dict[str, tuple[int, int | None]] = {
    **{p.name: (p.bounds()[0], None if p.capped else p.bounds()[1])
       for p in registry().values() if p.json is int and p.range},
    "max_output_tokens": (1, 10**7), "max_tool_calls": (0, 10**4)}
_INT_PARAMS = tuple(p.name for p in registry().values() if p.json is int)
_NAMES = {str: "a string", int: "an integer", bool: "true or false", dict: "an object", list: "an array"}


def check_fields(endpoint: str, fields: dict, *, multipart: bool = False) -> None:
    """Each field the gateway reads has the type the API gives it: anything else is a 400 naming it
    (the gateway would otherwise price a request it cannot read)."""
    if multipart:  # form fields are text; the numbers among them must read as numbers
        for name in _INT_PARAMS:
            if name in fields and not str(fields[name]).strip().isdigit():
                raise _wrong(name, fields[name], (int,))
            if name in fields:
                _in_range(name, int(str(fields[name]).strip()), name)
        return
    _typed(fields, _TYPES["responses" if endpoint == "responses" else "images"], "")
    if endpoint == "responses":
        for i, tool in enumerate(fields.get("tools") or []):
            if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
                raise Refusal(400, f"tools[{i}] must be an object with a 'type'.", code="invalid_type",
                              param=f"tools[{i}]")
            if tool["type"] == "image_generation":
                _typed(tool, _TYPES["tool"], f"tools[{i}].")


def _typed(fields: dict, types: dict[str, tuple[type, ...]], prefix: str) -> None:
    for name, allowed in types.items():
        value = fields.get(name)
        if value is None:
            continue
        ok = isinstance(value, allowed) and (bool in allowed or not isinstance(value, bool))
        if not ok:
            raise _wrong(prefix + name, value, allowed)
        if name in _RANGES and isinstance(value, int):
            _in_range(name, value, prefix + name)


def _in_range(name: str, value: int, param: str) -> None:
    low, high = _RANGES[name]
    if high is None and value < low:
        raise Refusal(400, f"Invalid '{param}': {value} is less than {low}.", code="invalid_value", param=param)
    if high is not None and not low <= value <= high:
        raise Refusal(400, f"Invalid '{param}': {value} is not between {low} and {high}.", code="invalid_value",
                      param=param)


def _wrong(param: str, value: Any, allowed: tuple[type, ...]) -> Refusal:
    want = " or ".join(_NAMES[t] for t in allowed)
    return Refusal(400, f"Invalid type for '{param}': expected {want}, got {type(value).__name__}.",
                   code="invalid_type", param=param)


def references(fields: dict) -> list[tuple[str, str, str]]:
    """(kind, id, param) of every id a body names: file ids, image-generation-call ids, ``item_reference``
    and any other input item that names an id, a ``conversation``, a stored ``prompt``, vector stores and
    containers of tools. The gateway forwards a body only when each one is the participant's own: an
    id it does not know is someone else's (or the teacher's organisation's), so the default is deny."""
    out: list[tuple[str, str, str]] = []

    def add(kind: str, value: Any, param: str) -> None:
        out.append((kind, value if isinstance(value, str) else json.dumps(value)[:100], param))

    def walk(value: Any, path: str, in_input: bool) -> None:
        if isinstance(value, dict):
            if "file_id" in value and value["file_id"] is not None:
                add("file", value["file_id"], f"{path}.file_id".lstrip("."))
            if in_input and value.get("id") is not None:
                kind = "call" if value.get("type") == "image_generation_call" else "item"
                add(kind, value["id"], f"{path}.id".lstrip("."))
            for k, v in value.items():
                walk(v, f"{path}.{k}", in_input)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]", in_input)
        elif isinstance(value, str) and value.startswith("file-") and path.split(".")[-1].split("[")[0] in (
                "image", "image[]", "mask", "markup", "images"):
            add("file", value, path.lstrip("."))

    for key, value in fields.items():
        if key == "input":
            walk(value, "input", True)
        elif key == "conversation" and value is not None:
            add("conversation", value.get("id") if isinstance(value, dict) else value, "conversation")
        elif key == "prompt" and isinstance(value, dict):
            add("prompt", value.get("id"), "prompt.id")
        elif key == "tools" and isinstance(value, list):
            for i, tool in enumerate(value):
                if not isinstance(tool, dict):
                    continue
                for store_id in tool.get("vector_store_ids") or []:
                    add("vector_store", store_id, f"tools[{i}].vector_store_ids")
                if isinstance(tool.get("container"), str):
                    add("container", tool["container"], f"tools[{i}].container")
                walk(tool, f"tools[{i}]", False)
        elif key != "prompt":
            walk(value, key, False)
    return out


def first_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for v in value:
            text = first_text(v)
            if text:
                return text
    if isinstance(value, dict):
        return first_text(value.get("text") or value.get("content"))
    return None
