"""The events of a stored Response, as a stream sends them: what its status allows so far
(``events_so_far``) and, followed, each new one until it ends (``follow``).

Both the create route (``responses_api``: a streamed background turn) and the retrieve route
(``responses_stored``: ``?stream=true``) send them; kept apart so neither route module imports
the other's caller.

    >>> [e["type"] for e in events_so_far({"id": "resp_1", "status": "queued", "background": True})]
    ['response.created', 'response.queued']
"""

from __future__ import annotations

from typing import Any, AsyncIterator

import anyio

from .common import Frame

__all__ = ["events_so_far", "follow", "TERMINAL"]

#: statuses after which a response no longer changes
TERMINAL = ("completed", "failed", "cancelled", "incomplete")
#: how often a followed response is looked at again (it lives in the state, maybe another process's)
_POLL_S = 0.05


def events_so_far(response: dict) -> list[dict]:
    """The stream events a response's status allows, numbered from 0: ``created`` (``queued`` for a
    background one), then ``in_progress`` and the call's first events, then its end. Each list is a
    prefix of the next status's, so a follower sends only the new tail."""
    status = response["status"]
    start = "queued" if response.get("background") else "in_progress"
    snapshot = {**response, "status": start, "output": [], "usage": None, "tool_usage": None, "completed_at": None}
    events: list[dict] = [{"type": "response.created", "response": snapshot}]
    if response.get("background"):
        events.append({"type": "response.queued", "response": snapshot})
    item = next((i for i in response.get("output") or [] if i.get("type") == "image_generation_call"), None)
    if status != "queued" and item is not None:
        ids = {"item_id": item["id"], "output_index": 0}
        events += [{"type": "response.in_progress", "response": {**snapshot, "status": "in_progress"}},
                   {"type": "response.output_item.added", "output_index": 0,
                    "item": {**item, "status": "in_progress", "result": None}},
                   {"type": "response.image_generation_call.in_progress", **ids},
                   {"type": "response.image_generation_call.generating", **ids}]
        if status in ("completed", "failed", "incomplete"):
            events += [{"type": "response.image_generation_call.completed", **ids},
                       {"type": "response.output_item.done", "output_index": 0, "item": item}]
    if status in ("completed", "failed", "incomplete"):
        events.append({"type": f"response.{status}", "response": response})
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]


async def follow(backend: Any, response_id: str, starting_after: int = -1) -> AsyncIterator[Frame]:
    """The events of a stored response after ``starting_after``, then each new one as the response moves
    on, until it ends (or is cancelled or deleted)."""
    sent = 0
    while True:
        rec = backend.state.get("responses", response_id)
        if rec is None:
            return
        events = events_so_far(rec["response"])
        for event in events[sent:]:
            if event["sequence_number"] > starting_after:
                yield Frame(event)
        sent = max(sent, len(events))
        if rec["response"]["status"] in TERMINAL:
            return
        await anyio.sleep(_POLL_S)
