"""Requests as they go on the wire: the JSON or multipart body of each endpoint.

``encode(request)`` gives an ``HTTPCall`` (method, path, and a JSON body or form fields and
files); the client sends it. Kept apart from the client so the offline server's tests and the
replay hash can use the same encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .endpoints import endpoint
from .models import get_model
from .registry import tool_fields
from .inputs import ImageInput
from .requests import EditRequest, GenerateRequest, ImageRequest, ResponsesRequest, VariationRequest

__all__ = ["HTTPCall", "encode"]


@dataclass(frozen=True)
class HTTPCall:
    method: str
    path: str
    json: dict | None = None
    data: dict[str, str] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] = field(default_factory=list)
    stream: bool = False

    def request_kwargs(self) -> dict[str, Any]:
        """The body as the HTTP client takes it: ``json=``, or ``data=`` and ``files=`` (multipart)."""
        if self.json is not None:
            return {"json": self.json}
        return {"data": self.data or {}, "files": self.files}


def _form_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _form_fields(params: dict[str, Any]) -> dict[str, str]:
    """Flatten params for multipart: nested dicts become ``svg[model]``-style keys."""
    out: dict[str, str] = {}

    def put(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                put(f"{prefix}[{k}]", v)
        elif value is not None:
            out[prefix] = _form_value(value)

    for k, v in params.items():
        put(k, v)
    return out


def _default_response_format(req: ImageRequest, params: dict[str, Any]) -> None:
    """dall-e defaults to URLs; ask for base64 so every image arrives as bytes we can store."""
    spec = get_model(req.model)
    if spec and spec.response_formats and "response_format" not in params:
        params["response_format"] = "b64_json"


def _file_part(name: str, img: ImageInput) -> tuple[str, tuple[str, bytes, str]]:
    assert img.data is not None
    return (name, (img.name, img.data, img.mime))


def _image_ref(img: ImageInput) -> dict[str, str]:
    return {"file_id": img.file_id} if img.file_id else {"image_url": img.data_url()}


def encode(req: ImageRequest) -> HTTPCall:
    """The HTTP call for a request (validate it first)."""
    if isinstance(req, GenerateRequest):
        params = req.params()
        _default_response_format(req, params)
        return _call(req, json=params, stream=req.stream)
    if isinstance(req, EditRequest):
        return _encode_edit(req)
    if isinstance(req, VariationRequest):
        params = req.params()
        _default_response_format(req, params)
        if req.image.data is None:
            raise ValueError("variations need the image's bytes (a file id or URL is not accepted)")
        return _call(req, data=_form_fields(params), files=[_file_part("image", req.image)])
    if isinstance(req, ResponsesRequest):
        return _call(req, json=responses_body(req), stream=req.stream)
    raise TypeError(f"not a request: {type(req).__name__}")


def _call(req: ImageRequest, **body: Any) -> HTTPCall:
    """The call to the request's endpoint, method and path from its declaration (``api/endpoints.py``)."""
    e = endpoint(req.endpoint)
    return HTTPCall(e.method, e.path, **body)


def _encode_edit(req: EditRequest) -> HTTPCall:
    params = req.params()
    params["prompt"] = req.sent_prompt  # pinned references are named after the prompt (api/pins.py)
    _default_response_format(req, params)
    extras = [x for x in (req.mask, req.markup) if x is not None]
    sent = (*req.images, *(p.image for p in req.pins))  # pins last: the instruction says "the last N"
    if all(i.data is not None for i in (*sent, *extras)):
        files = [_file_part("image" if len(sent) == 1 else "image[]", i) for i in sent]
        if req.mask is not None:
            files.append(_file_part("mask", req.mask))
        if req.markup is not None:
            files.append(_file_part("markup", req.markup))
        return _call(req, data=_form_fields(params), files=files, stream=req.stream)
    # some inputs are file ids or URLs: the JSON form of the edits endpoint
    body = dict(params)
    body["images"] = [_image_ref(i) for i in sent]
    if req.mask is not None:
        body["mask"] = _image_ref(req.mask)
    if req.markup is not None:
        body["markup"] = _image_ref(req.markup)
    return _call(req, json=body, stream=req.stream)


def _input_image(img: ImageInput) -> dict[str, str]:
    if img.file_id:
        return {"type": "input_image", "file_id": img.file_id}
    return {"type": "input_image", "image_url": img.data_url()}


def responses_body(req: ResponsesRequest) -> dict[str, Any]:
    """The body of ``POST /v1/responses`` with the image_generation tool."""
    tool: dict[str, Any] = {"type": "image_generation", "model": req.model}
    for name in tool_fields():
        value = getattr(req, name)
        if value is not None:
            tool[name] = value
    if req.mask is not None:
        tool["input_image_mask"] = _image_ref(req.mask)
    content: list[dict[str, Any]] = []
    if req.prompt:
        content.append({"type": "input_text", "text": req.prompt})
    items: list[dict[str, Any]] = []
    for img in req.input_images:
        if img.call_id:
            items.append({"type": "image_generation_call", "id": img.call_id})
        else:
            content.append(_input_image(img))
    if req.pins:  # named after the prompt, their images last (api/pins.py)
        from .pins import instruction

        content.append({"type": "input_text", "text": instruction(req.pins)})
        content += [_input_image(p.image) for p in req.pins]
    message = {"role": "user", "content": content}
    body: dict[str, Any] = {
        "model": req.responses_model,
        # with pins, earlier calls come first, so the pinned images stay the last ones of the input
        "input": [*items, message] if req.pins else [message, *items],
        "tools": [tool],
    }
    if req.tool_choice:
        body["tool_choice"] = req.tool_choice
    if req.previous_response_id:
        body["previous_response_id"] = req.previous_response_id
    if req.instructions:
        body["instructions"] = req.instructions
    if req.stream:
        body["stream"] = True
    if req.completion_window:  # background mode: answered "queued" at once, polled until done
        body["background"] = True
        body["background_options"] = {"completion_window": req.completion_window}
    if req.safety_identifier:
        body["safety_identifier"] = req.safety_identifier
    if req.extra_body:
        body.update(req.extra_body)
    return body
