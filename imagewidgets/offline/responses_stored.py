"""Stored Responses as the API serves them: retrieve (as JSON, or ``?stream=true`` as events),
delete, cancel (background responses), and their ``input_items``.

A streamed retrieve sends the events of the response's life so far and follows it until it ends
(``starting_after=N`` skips the events up to sequence number N, as after a dropped connection).
The partial images of a streamed turn are not kept, so a replay sends none of them. The events
themselves are ``responses_events``'s (the create route streams a background turn with them too).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .common import api, backend_of, query, sse_response
from .parse import APIFailure
from .responses_api import ensure_running
from .responses_events import TERMINAL, follow

__all__ = ["retrieve_response", "delete_response", "cancel_response", "list_input_items"]
_INCLUDE = ("list:", "file_search_call.results", "web_search_call.results", "web_search_call.action.sources",
            "message.input_image.image_url", "computer_call_output.output.image_url", "code_interpreter_call.outputs",
            "reasoning.encrypted_content", "message.output_text.logprobs")
_RETRIEVE_QUERY = {"include": _INCLUDE, "stream": "bool", "starting_after": "int", "include_obfuscation": "bool"}
_ITEMS_QUERY = {"limit": "int", "order": ("asc", "desc"), "after": "str", "include": _INCLUDE}


def _record(request: Request) -> dict:
    rid = request.path_params["response_id"]
    rec = backend_of(request).state.get("responses", rid)
    if rec is None:
        raise APIFailure(404, f"Response with id '{rid}' not found.", param="response_id", code=None)
    return rec


@api
async def retrieve_response(request: Request) -> Response:
    q = query(request, _RETRIEVE_QUERY)  # a wrong type is a 400 before the lookup, as the API answers
    rec = _record(request)
    ensure_running(backend_of(request), rec)  # a background turn its (stopped) server never drew: draw it now
    if q.get("stream"):
        return sse_response(request, follow(backend_of(request), rec["response"]["id"], q.get("starting_after", -1)),
                            error_shape="responses")
    return JSONResponse(rec["response"])


@api
async def delete_response(request: Request) -> Response:
    rec = _record(request)
    backend = backend_of(request)
    rid = rec["response"]["id"]
    backend.state.delete("responses", rid)  # a background turn still drawing finds it gone and stops
    for item in rec["response"].get("output") or []:
        if item.get("type") == "image_generation_call" and isinstance(item.get("id"), str):
            backend.state.delete("calls", item["id"])
    return JSONResponse({"id": rid, "object": "response", "deleted": True})


@api
async def cancel_response(request: Request) -> Response:
    """Cancel a background response; cancelling one that has ended returns it as it is (idempotent, as
    OpenAI's background guide says)."""
    rec = _record(request)
    response = rec["response"]
    if not response.get("background"):
        raise APIFailure(400, "Only responses created with background=true can be cancelled.",
                         param="response_id", code="invalid_request")
    if response["status"] not in TERMINAL:
        response = {**response, "status": "cancelled", "output": [], "completed_at": None}
        backend_of(request).state.put("responses", response["id"], {**rec, "response": response})
    return JSONResponse(response)


@api
async def list_input_items(request: Request) -> Response:
    q = query(request, _ITEMS_QUERY)
    limit = q.get("limit", 20)
    if not 1 <= limit <= 100:
        raise APIFailure(400, f"Invalid value for query parameter 'limit': {limit}. It must be from 1 to 100.",
                         param="limit", code="invalid_value")
    items = list((_record(request).get("meta") or {}).get("input") or [])
    if q.get("order", "desc") == "desc":
        items.reverse()
    after = q.get("after")
    if after is not None:
        ids = [item.get("id") for item in items]
        if after not in ids:
            raise APIFailure(400, f"No input item with id '{after[:80]}' in this response.", param="after",
                             code="invalid_value")
        items = items[ids.index(after) + 1:]
    page = items[:limit]
    if "message.input_image.image_url" not in q.get("include", []):  # image URLs only when asked for, as the API
        page = [_without_image_urls(item) for item in page]
    return JSONResponse({"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
                         "last_id": page[-1]["id"] if page else None, "has_more": len(items) > limit})


def _without_image_urls(item: dict) -> dict:
    if item.get("type") != "message":
        return item
    return {**item, "content": [{**part, "image_url": None} if part.get("type") == "input_image" else part
                                for part in item.get("content") or []]}
