"""Requests the image service refused for moderation, noted per participant for the teacher's
dashboard: which stage refused it (input: the prompt or images; output: the picture made) and the
categories, when the API says (the Responses API's ``moderation_details``).

    >>> refusal_of({"error": {"code": "moderation_blocked", "message": "..."}})
    (None, ())
"""

from __future__ import annotations

from typing import Any

from ..api.errors import moderation_details

__all__ = ["refusal_of", "note"]


def refusal_of(body: Any) -> tuple[str | None, tuple[str, ...]] | None:
    """(stage, categories) of a moderation refusal in an answer (error body, Response, stream event),
    or None when the answer is no such refusal."""
    if not isinstance(body, dict) or not _blocked(body):
        return None
    details = moderation_details(body) or {}
    stage = details.get("moderation_stage")
    found = details.get("categories")
    categories = tuple(str(c)[:60] for c in found[:20] if isinstance(c, str)) if isinstance(found, list) else ()
    return (stage if stage in ("input", "output") else None), categories


def _blocked(body: dict) -> bool:
    inner = body.get("response")
    response: dict = inner if isinstance(inner, dict) else body
    errors = [body.get("error"), response.get("error"), body]
    output = response.get("output")
    if isinstance(output, list):
        errors += [item.get("error") for item in output if isinstance(item, dict)]
    return any(isinstance(e, dict) and e.get("code") == "moderation_blocked" for e in errors)


def note(store: Any, participant_id: int, endpoint: str, body: Any) -> bool:
    """Note a moderation refusal in ``body`` for the participant; True when there was one."""
    found = refusal_of(body)
    if found is None:
        return False
    store.note_moderation(participant_id, endpoint, *found)
    return True
