"""The Responses API of the offline server, for the ``image_generation`` tool only.

There is no language model here: each turn makes exactly one ``image_generation_call``. With
``previous_response_id`` (or an ``image_generation_call`` input item) the turn edits the earlier
image, so a chain visibly continues; ``revised_prompt`` is the chain's prompts joined, and says so.
``metadata={"imagewidgets_variant": "k"}`` draws picture k of the prompt (as the Image API's n
does for its k-th image): a Session's n parallel calls for ``n > 1`` come back as n different pictures.
The image tool's tokens are in ``Response.tool_usage.image_gen``; ``Response.usage`` counts only the
text the (absent) mainline model would have read.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..api.cost import text_tokens
from ..api.errors import ParamError
from ..api.models import get_model
from ..api.requests import ImageInput
from . import imaging
from .common import (Frame, api, b64, backend_of, json_body, known_model, model_not_found, new_id, shut_down,
                     sse_response, validated)
from .parse import APIFailure, ResponsesWire, responses_request

__all__ = ["create_response", "retrieve_response"]


@dataclass
class Turn:
    """One planned turn: the response's id and skeleton, the call, and what to draw."""

    wire: ResponsesWire
    response_id: str
    call_id: str
    created_at: int
    prompts: list[str]  # the chain's prompts, this turn's last
    base_call_id: str | None  # the image this chain continues from
    images: list[bytes]
    out: imaging.Output | None
    action: str
    revised: str
    blocked: str | None  # the moderation word that blocked it
    fidelity: str | None
    edit: Any = None
    variant: int = 0  # which picture: metadata {"imagewidgets_variant": "k"} tells a Session's n calls apart


@api
async def create_response(request: Request) -> Response:
    backend = backend_of(request)
    wire = responses_request(await json_body(request), backend.resolve)
    turn = _plan(backend, wire)
    _save(backend, turn, _response(turn, "in_progress", _call(turn, "in_progress")), None)
    if wire.request.stream:
        return sse_response(request, _stream(backend, turn), error_shape="responses")
    image = await _draw(turn) if not turn.blocked else None
    return JSONResponse(_finish(backend, turn, image))


@api
async def retrieve_response(request: Request) -> Response:
    rid = request.path_params["response_id"]
    rec = backend_of(request).state.get("responses", rid)
    if rec is None:
        raise APIFailure(404, f"Response with id '{rid}' not found.", param="response_id", code=None)
    return JSONResponse(rec["response"])


def _plan(backend: Any, wire: ResponsesWire) -> Turn:
    req = wire.request
    if get_model(req.responses_model) is not None:
        raise APIFailure(400, f"{req.responses_model} is an image model: the Responses API takes a mainline "
                         "model (e.g. gpt-5.5) and the image model goes in the image_generation tool.",
                         param="model", code="invalid_value")
    if shut_down(req.responses_model, backend.config.calendar_day()):
        raise model_not_found(req.responses_model)
    spec = known_model(req.model, param=f"tools[{wire.tool_index}].model", day=backend.config.calendar_day())
    prompts: list[str] = []
    base_call_id = None
    if req.previous_response_id:
        prev = backend.state.get("responses", req.previous_response_id)
        if prev is None:
            raise APIFailure(400, f"Previous response with id '{req.previous_response_id}' not found.",
                             param="previous_response_id", code="previous_response_not_found")
        prompts = list(prev["meta"]["prompts"])
        base_call_id = prev["meta"]["image_call_id"]
        if req.mask is not None and base_call_id and req.action != "generate":
            # the mask applies to the image this chain continues from: the contract checks it against that
            base = backend.state.blob("calls", base_call_id)
            if base is not None:
                req = dataclasses.replace(req, base_image=ImageInput.coerce(base, "base_image"))
                wire = dataclasses.replace(wire, request=req)
    try:
        validated(req)
    except ParamError as e:  # name the tool's option as it is on the wire
        tool_params = {"mask": "input_image_mask", "model": "model", **{k: k for k in wire.tool}}
        if e.param in tool_params and e.param not in ("prompt", "stream"):
            e.param = f"tools[{wire.tool_index}].{tool_params[e.param]}"
        raise
    prompts += [t for t in wire.earlier_texts if t.strip()]
    if req.prompt.strip():
        prompts.append(req.prompt)
    action = req.action or "auto"
    images = [img.data for img in req.input_images]
    if base_call_id and action != "generate":
        base = backend.state.blob("calls", base_call_id)
        images = ([base] if base is not None else []) + images
    if action == "generate":
        images = []
    if action == "edit" and not images:
        raise ParamError("action", "edit", "generate or auto", model=spec.name,
                         hint="there is no image to edit: give an input image or a previous_response_id")
    out = imaging.resolve_output(req, spec, req.prompt or " ".join(prompts),
                                 imaging.image_size(images[0]) if images else None, backend.config.pictures)
    fidelity = req.input_fidelity or ("low" if spec.input_fidelities else None)
    turn = Turn(
        wire=wire, response_id=new_id("resp_"), call_id=new_id("ig_"), created_at=int(time.time()),
        prompts=prompts, base_call_id=base_call_id, images=images, out=out,
        action="edit" if images else "generate", revised=imaging.revised_prompt(prompts),
        blocked=imaging.moderation_verdict(req.prompt, req.moderation, backend.config), fidelity=fidelity,
        variant=_variant(wire.metadata),
    )
    if images:
        turn.edit = imaging.edit_inputs(images, req.mask.data if req.mask else None, strict=spec.mask_strict,
                                        fidelity=fidelity)
    return turn


def _render_prompt(turn: Turn) -> str:
    return turn.wire.request.prompt if turn.images and turn.wire.request.prompt.strip() else "; ".join(turn.prompts)


def _variant(metadata: Any) -> int:
    """The picture number a caller asked for through ``metadata`` (0 when absent or not a small number)."""
    tag = metadata.get("imagewidgets_variant") if isinstance(metadata, dict) else None
    return int(tag) if isinstance(tag, str) and tag.isdigit() and len(tag) <= 3 else 0


async def _draw(turn: Turn) -> bytes:
    return (await imaging.render_images(_render_prompt(turn), turn.out, turn.wire.request, 1, turn.edit,
                                        first=turn.variant))[0]


def _call(turn: Turn, status: str, image: bytes | None = None) -> dict:
    out = turn.out
    item: dict[str, Any] = {
        "id": turn.call_id, "type": "image_generation_call", "status": status,
        "result": b64(image) if image is not None else None, "action": turn.action,
        "background": out.background, "output_format": out.output_format, "quality": out.quality,
        "size": out.size, "revised_prompt": turn.revised,
    }
    if status == "failed" and turn.blocked:
        item["error"] = {
            "code": "moderation_blocked", "message": imaging.moderation_message(turn.blocked),
            "param": None, "type": "image_generation_user_error",
            "moderation_details": {"categories": ["offline-test-word"], "moderation_stage": "input"},
        }
    return item


def _usages(turn: Turn, image: bytes | None) -> tuple[dict, dict]:
    wire = turn.wire
    said = [t for t in [wire.instructions if isinstance(wire.instructions, str) else "", *wire.earlier_texts,
                        wire.request.prompt] if t]
    text_in = text_tokens("\n".join(said)) if said else 0
    main = {"input_tokens": text_in, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": 0, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": text_in}
    if image is None:
        zero = {"input_tokens": 0, "input_tokens_details": {"image_tokens": 0, "text_tokens": 0},
                "output_tokens": 0, "total_tokens": 0,
                "output_tokens_details": {"image_tokens": 0, "text_tokens": 0}}
        return main, zero
    partials = (wire.request.partial_images or 0) if wire.request.stream else 0
    tool = imaging.usage("; then: ".join(turn.prompts), turn.out, turn.images, turn.fidelity, partials)
    return main, tool


def _response(turn: Turn, status: str, item: dict | None, image: bytes | None = None) -> dict:
    wire = turn.wire
    done = status == "completed"
    main, tool = _usages(turn, image) if done else (None, None)
    return {
        "id": turn.response_id, "object": "response", "created_at": turn.created_at, "status": status,
        "completed_at": int(time.time()) if done else None, "error": None, "incomplete_details": None,
        "instructions": wire.instructions, "max_output_tokens": None, "metadata": wire.metadata,
        "model": wire.request.responses_model, "output": [item] if item is not None else [],
        "parallel_tool_calls": True, "previous_response_id": wire.request.previous_response_id,
        "safety_identifier": wire.safety_identifier, "store": wire.store, "temperature": 1.0,
        "tool_choice": wire.tool_choice, "tools": wire.tools, "top_p": 1.0, "truncation": "disabled",
        "usage": main,
        "tool_usage": {"image_gen": tool, "web_search": {"num_requests": 0}} if done else None,
    }


def _save(backend: Any, turn: Turn, response: dict, image: bytes | None) -> None:
    if not turn.wire.store:
        return
    ok = image is not None
    meta = {
        "prompts": turn.prompts if ok or response["status"] != "completed" else turn.prompts[:-1],
        "image_call_id": turn.call_id if ok else turn.base_call_id,
    }
    if ok:
        backend.state.put("calls", turn.call_id, {"response_id": turn.response_id, "revised_prompt": turn.revised,
                                                   "size": turn.out.size, "format": turn.out.output_format}, image)
    backend.state.put("responses", turn.response_id, {"response": response, "meta": meta})


def _finish(backend: Any, turn: Turn, image: bytes | None) -> dict:
    item = _call(turn, "completed" if image is not None else "failed", image)
    response = _response(turn, "completed", item, image)
    _save(backend, turn, response, image)
    return response


async def _stream(backend: Any, turn: Turn) -> AsyncIterator[Frame]:
    seq = 0

    def event(type: str, **fields: Any) -> dict:
        nonlocal seq
        data = {"type": type, "sequence_number": seq, **fields}
        seq += 1
        return data

    snapshot = _response(turn, "in_progress", None)
    yield Frame(event("response.created", response=snapshot))
    yield Frame(event("response.in_progress", response=snapshot))
    ids = {"item_id": turn.call_id, "output_index": 0}
    yield Frame(event("response.output_item.added", item=_call(turn, "in_progress"), output_index=0))
    yield Frame(event("response.image_generation_call.in_progress", **ids))
    image = None
    if not turn.blocked:
        yield Frame(event("response.image_generation_call.generating", **ids))
        req = turn.wire.request
        partials = req.partial_images or 0
        out = turn.out
        k = 0
        async for frame in imaging.render_frames(_render_prompt(turn), out, req, turn.variant, partials, turn.edit):
            if k == partials:  # the last one is the final image
                image = frame
                continue
            yield Frame(event("response.image_generation_call.partial_image", **ids, partial_image_b64=b64(frame),
                              partial_image_index=k, size=out.size, quality=out.quality,
                              background=out.background, output_format=out.output_format), image=True, index=k)
            k += 1
        yield Frame(event("response.image_generation_call.completed", **ids), image=True, index=partials)
    response = _finish(backend, turn, image)
    yield Frame(event("response.output_item.done", item=response["output"][0], output_index=0))
    yield Frame(event("response.completed", response=response))
