"""Answers as they come off the wire, turned into results and typed stream events.

Pure functions of JSON (no I/O), shared by the sync and async clients.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from .cost import cost_of
from .errors import StreamError
from .redact import redact
from .results import CompletedEvent, ImageResult, PartialImageEvent, ResponseEvent, StreamEvent
from .usage import Usage

__all__ = ["images_response", "responses_response", "stream_events", "urls_to_fetch", "Meta"]


#: what the client knows of a request, attached to every result: model, prompt, params, ids
Meta = dict[str, Any]


def _b64(s: Any) -> bytes:
    try:
        return base64.b64decode(s, validate=True)
    except (TypeError, ValueError):  # binascii.Error is a ValueError
        raise StreamError("the server sent image data that is not valid base64") from None


def _cost(usage: Usage | None, meta: dict, body: dict, n: int) -> float | None:
    return cost_of(
        usage, meta.get("model"),
        quality=body.get("quality") or meta.get("params", {}).get("quality"),
        size=body.get("size") or meta.get("params", {}).get("size"),
        n=n, batch=bool(meta.get("batch")),
    )


def _served_quality(body: Mapping[str, Any]) -> str | None:
    """The quality a response says it used, kept only when it is a plain word (it is server text)."""
    q = body.get("quality") if isinstance(body, Mapping) else None
    return q if isinstance(q, str) and 0 < len(q) <= 16 and q.isalpha() and q.isascii() else None


def _result(data: bytes, meta: dict, **extra: Any) -> ImageResult:
    from .images import sniff_format

    if sniff_format(data) is None:  # whatever the server says the format is, these bytes are no image
        raise StreamError(f"the server sent {len(data)} bytes that are not an image")
    secret = meta.get("_secret")
    if extra.get("revised_prompt") and secret:  # the server's text, masked like the prompt it came from
        extra["revised_prompt"] = redact(extra["revised_prompt"], (secret.reveal(),))
    created = extra.get("created")
    if created is not None and (isinstance(created, bool) or not isinstance(created, int)):
        extra["created"] = None  # a timestamp that is not a number is not kept
    return ImageResult.from_bytes(
        data,
        model=meta.get("model"),
        prompt=meta.get("prompt"),
        params=meta.get("params", {}),
        request_id=meta.get("request_id"),
        **extra,
    )


def urls_to_fetch(body: dict[str, Any]) -> list[str]:
    """The image URLs of an ``ImagesResponse`` that carry no bytes (dall-e's ``response_format=url``):
    the client downloads them (with its own I/O) before ``images_response``."""
    return [d["url"] for d in body.get("data") or [] if not d.get("b64_json") and d.get("url")]


def images_response(body: dict[str, Any], meta: dict[str, Any],
                    fetched: Mapping[str, bytes] | None = None) -> list[ImageResult]:
    """``ImagesResponse`` JSON -> results; ``fetched`` holds the bytes of ``urls_to_fetch(body)``."""
    usage = Usage.from_api(body.get("usage"))
    items = body.get("data") or []
    total = _cost(usage, meta, body, len(items))
    cost = total / len(items) if total is not None and items else total  # each image's share
    out = []
    for i, item in enumerate(items):
        if item.get("b64_json"):
            data = _b64(item["b64_json"])
        elif item.get("url") and fetched is not None and item["url"] in fetched:
            data = fetched[item["url"]]
        else:
            raise StreamError("the server returned an image without data", body=body)
        out.append(_result(data, meta, revised_prompt=item.get("revised_prompt"), usage=usage, cost=cost,
                           created=body.get("created"), index=i, url=item.get("url"),
                           served_quality=_served_quality(body)))
    return out


def _image_usage(resp: dict) -> Usage | None:
    """The image tool's usage in a Response: ``tool_usage.image_gen`` when present, else ``usage``."""
    tool_usage = (resp.get("tool_usage") or {}).get("image_gen")
    return Usage.from_api(tool_usage) or Usage.from_api(resp.get("usage"))


def responses_response(resp: dict, meta: dict) -> list[ImageResult]:
    """A ``Response`` JSON -> the images of its ``image_generation_call`` output items."""
    usage = _image_usage(resp)
    calls = [o for o in resp.get("output") or [] if o.get("type") == "image_generation_call"]
    failed = [c for c in calls if c.get("status") == "failed" or c.get("error")]
    if failed and not any(c.get("result") for c in calls):
        err = failed[0].get("error") or {}
        from .errors import ModerationError

        raise ModerationError(err.get("message") or "the image generation call failed", status=400,
                              code=err.get("code") or "moderation_blocked", body=resp,
                              request_id=meta.get("request_id"))
    cost = _cost(usage, meta, calls[0] if calls else {}, 1)
    out = []
    for i, call in enumerate(c for c in calls if c.get("result")):
        out.append(_result(_b64(call["result"]), meta, revised_prompt=call.get("revised_prompt"),
                           usage=usage, cost=cost, response_id=resp.get("id"), call_id=call.get("id"),
                           created=resp.get("created_at"), index=i, served_quality=_served_quality(call)))
    if not out:
        raise StreamError("the response has no image (the model answered without calling the image tool)",
                          body=resp)
    return out


#: the Image API's stream event types (decoded into PartialImageEvent / CompletedEvent); the
#: drift test compares them with the SDK's ImageGenStreamEvent and ImageEditStreamEvent
IMAGE_STREAM_EVENTS = ("image_generation.partial_image", "image_generation.completed",
                       "image_edit.partial_image", "image_edit.completed")
#: the Responses API's image-call events; partial_image is decoded, the others become ResponseEvent
RESPONSES_IMAGE_EVENTS = ("response.image_generation_call.in_progress", "response.image_generation_call.generating",
                          "response.image_generation_call.partial_image",
                          "response.image_generation_call.completed")


def stream_events(name: str, data: dict[str, Any], meta: dict[str, Any], total: int | None) -> list[StreamEvent]:
    """One SSE event of either API -> its typed events (a Responses ``response.completed`` carries
    every image of the call); an error event raises."""
    kind = data.get("type") or name
    if kind in ("error", "response.failed") or kind.endswith(".failed"):
        err = data.get("error") or (data.get("response") or {}).get("error") or {}
        from .errors import error_for_status

        if err.get("code") == "moderation_blocked":
            raise error_for_status(400, {"error": err})
        raise StreamError(err.get("message") or f"the stream reported {kind}", code=err.get("code"), body=data)
    if kind in ("image_generation.partial_image", "image_edit.partial_image"):
        return [PartialImageEvent(
            index=int(data.get("partial_image_index", 0)), data=_b64(data["b64_json"]),
            format=data.get("output_format") or "png", size=data.get("size"), total=total, raw=data,
        )]
    if kind in ("image_generation.completed", "image_edit.completed"):
        usage = Usage.from_api(data.get("usage"))
        result = _result(_b64(data["b64_json"]), meta, usage=usage, cost=_cost(usage, meta, data, 1),
                         created=data.get("created_at"), index=int(meta.get("_completed", 0)),
                         served_quality=_served_quality(data))
        meta["_completed"] = int(meta.get("_completed", 0)) + 1
        return [CompletedEvent(result=result, raw=data)]
    if kind == "response.image_generation_call.partial_image":
        return [PartialImageEvent(
            index=int(data.get("partial_image_index", 0)), data=_b64(data["partial_image_b64"]),
            format=data.get("output_format") or "png", size=data.get("size"), total=total,
            response_id=meta.get("response_id"), call_id=data.get("item_id"),
            sequence_number=data.get("sequence_number"), raw=data,
        )]
    if kind == "response.created":
        meta["response_id"] = (data.get("response") or {}).get("id")
    if kind == "response.completed":
        results = responses_response(data.get("response") or {}, meta)
        return [CompletedEvent(result=r, raw=data) for r in results]
    return [ResponseEvent(event=kind, raw=data)]
