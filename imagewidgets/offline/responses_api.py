"""The Responses API of the offline server, for the ``image_generation`` tool only.

There is no language model here: each turn makes exactly one ``image_generation_call``. With
``previous_response_id`` (or an ``image_generation_call`` input item) the turn edits the earlier
image, so a chain visibly continues; ``revised_prompt`` is the chain's prompts joined, and says so.
``metadata={"imagewidgets_variant": "k"}`` draws picture k of the prompt (as the Image API's n
does for its k-th image): a Session's n parallel calls for ``n > 1`` come back as n different pictures.
The image tool's tokens are in ``Response.tool_usage.image_gen``; ``Response.usage`` counts only the
text the (absent) mainline model would have read.

``background=true`` answers ``queued`` at once; a task of this server draws the turn after
``background_s`` (a cancel meanwhile stops it). Its request is kept with it, so a server started on
the same state folder draws a turn the previous one left queued, when it is asked about it.
The stored-response routes (retrieve, stream, delete, cancel, input items) are in ``responses_stored``
(which restarts a background turn through ``ensure_running`` here); the events both routes stream
are ``responses_events``'s.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..api.cost import text_tokens
from ..api.errors import ParamError
from ..api.models import get_model
from ..api.requests import ImageInput
from . import imaging
from .common import (Frame, api, b64, backend_of, json_body, known_model, model_not_found, new_id, read_bytes,
                     shut_down, sse_response, validated)
from .parse import APIFailure, ResponsesWire, responses_request
from .responses_events import follow

__all__ = ["create_response", "ensure_running", "input_items"]

_log = logging.getLogger("imagewidgets.offline")


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
    out: imaging.Output
    action: str
    revised: str
    blocked: str | None  # the moderation word that blocked it
    fidelity: str | None
    edit: Any = None
    variant: int = 0  # which picture: metadata {"imagewidgets_variant": "k"} tells a Session's n calls apart
    input_items: list = dataclasses.field(default_factory=list)  # the request's input, as input_items lists it
    body: dict | None = None  # a background turn's request, kept to draw it after a restart
    blocked_stage: str = "input"  # where moderation refused it: "input" (the prompt) or "output" (the picture)


@api
async def create_response(request: Request) -> Response:
    backend = backend_of(request)
    body = await json_body(request)
    wire = responses_request(body, backend.resolve)
    turn = _plan(backend, wire)
    turn.input_items = input_items(body)
    if wire.background:  # answered at once; drawn by a task of this server (ensure_running)
        turn.body = body
        queued = _response(turn, "queued", _call(turn, "in_progress"))
        _save(backend, turn, queued, None)
        _start(backend, turn)
        if wire.request.stream:
            return sse_response(request, follow(backend, turn.response_id), error_shape="responses")
        return JSONResponse(queued)
    _save(backend, turn, _response(turn, "in_progress", _call(turn, "in_progress")), None)
    if wire.request.stream:
        return sse_response(request, _stream(backend, turn), error_shape="responses")
    image = await _draw(turn) if not turn.blocked else None
    return JSONResponse(_finish(backend, turn, image))


# --- background turns ------------------------------------------------------------------------------


def _start(backend: Any, turn: Turn) -> None:
    backend.tasks[turn.response_id] = asyncio.get_running_loop().create_task(_run_background(backend, turn))


async def _run_background(backend: Any, turn: Turn) -> None:
    """Queued for ``background_s``, then drawn; a cancel or delete meanwhile stops it (the event loop
    runs one step at a time, so the look at the record and the save that follows are not interleaved)."""
    rid = turn.response_id
    try:
        await anyio.sleep(backend.config.background_s)
        if not _still_wanted(backend, rid):
            return
        _save(backend, turn, _response(turn, "in_progress", _call(turn, "in_progress")), None)
        image = await _draw(turn) if not turn.blocked else None
        if _still_wanted(backend, rid):
            _finish(backend, turn, image)
    except Exception:
        _log.exception("offline background response %s failed", rid)
        if _still_wanted(backend, rid):
            failed = _response(turn, "failed", None)
            failed["error"] = {"code": "server_error", "message": "The offline backend had an error while "
                               f"drawing this background response ({rid}). Its log has the details."}
            _save(backend, turn, failed, None)
    finally:
        backend.tasks.pop(rid, None)


def _still_wanted(backend: Any, rid: str) -> bool:
    rec = backend.state.get("responses", rid)
    return rec is not None and rec["response"]["status"] in ("queued", "in_progress")


def ensure_running(backend: Any, rec: dict) -> None:
    """A background response that no task of this process draws (the server was restarted while it was
    queued) is planned again from its stored request and drawn, under its own ids."""
    response, meta = rec["response"], rec.get("meta") or {}
    rid = response["id"]
    if response["status"] not in ("queued", "in_progress") or rid in backend.tasks or not meta.get("body"):
        return
    try:
        turn = _plan(backend, responses_request(meta["body"], backend.resolve))
    except (APIFailure, ParamError) as e:  # e.g. an input file deleted meanwhile: the turn fails, the GET answers
        code = getattr(e, "code", None)
        failed = {**response, "status": "failed", "error": {
            "code": code if code in _RESPONSE_ERROR_CODES else "invalid_prompt",
            "message": e.message if isinstance(e, APIFailure) else str(e), "param": getattr(e, "param", None)}}
        backend.state.put("responses", rid, {**rec, "response": failed})
        rec["response"] = failed
        return
    turn.response_id, turn.created_at, turn.body = rid, response["created_at"], meta["body"]
    turn.input_items = meta.get("input") or []
    call = next((i for i in response.get("output") or [] if i.get("type") == "image_generation_call"), None)
    if call is not None:
        turn.call_id = call["id"]
    _start(backend, turn)


#: the codes a failed Response's ``error`` may carry (the SDK's ``ResponseError.code``) that the twin can meet
_RESPONSE_ERROR_CODES = ("server_error", "invalid_prompt", "invalid_image", "invalid_image_format",
                         "invalid_base64_image", "invalid_image_url", "image_too_large", "image_too_small",
                         "image_parse_error", "failed_to_download_image", "image_file_not_found")


def input_items(body: dict) -> list[dict]:
    """The request's input as the API lists it (``input_items``): items with ids, text as ``input_text``."""
    value = body.get("input")
    raw = [{"type": "message", "role": "user", "content": value}] if isinstance(value, str) else \
        value if isinstance(value, list) else []
    items = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message" if "role" in item else None)
        if kind == "image_generation_call":
            items.append({"id": str(item.get("id") or new_id("ig_")), "type": "image_generation_call",
                          "status": "completed", "result": item.get("result")})
        elif kind == "message" and item.get("role", "user") in ("user", "system", "developer"):
            content = item.get("content")
            parts = [content] if isinstance(content, str) else content if isinstance(content, list) else []
            items.append({"id": new_id("msg_"), "type": "message", "role": item.get("role", "user"),
                          "status": "completed", "content": [_content(p) for p in parts]})
    return items


def _content(part: Any) -> dict:
    if isinstance(part, str):
        return {"type": "input_text", "text": part}
    if part.get("type") == "input_image":
        return {"type": "input_image", "detail": part.get("detail") or "auto",
                "image_url": part.get("image_url"), "file_id": part.get("file_id")}
    return {"type": "input_text", "text": str(part.get("text") or "")}


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
    images = read_bytes(req.input_images)
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
    if turn.blocked:
        turn.blocked_stage = imaging.moderation_stage(turn.blocked, backend.config)
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
            "moderation_details": {"categories": ["offline-test-word"], "moderation_stage": turn.blocked_stage},
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
    # the twin keeps no cache: it says so in the fields the API reports cached input in
    tool.update(cached_tokens=0, cached_tokens_details={"cached_text_tokens": 0, "cached_image_tokens": 0})
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
        "usage": main, "background": wire.background,
        "tool_usage": {"image_gen": tool, "web_search": {"num_requests": 0}} if done else None,
    }


def _save(backend: Any, turn: Turn, response: dict, image: bytes | None) -> None:
    if not turn.wire.store:
        return
    ok = image is not None
    meta = {
        "input": turn.input_items, "body": turn.body,
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
