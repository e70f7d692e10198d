"""What a participant's request says: its body read within a size limit, its fields (JSON or multipart,
the bytes left untouched for forwarding), the ids it names, its first words for the gallery."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from .rules import Refusal

__all__ = ["MAX_BODY_BYTES", "read_body", "parse_body", "references", "first_text"]

#: largest request body a participant may send: the API takes edit images below 50 MB, which as
#: base64 in JSON (the Responses API's input_image) are 67 MB; 100 MB leaves room for a mask, as the
#: offline twin's --max-body does (64 MiB refused the largest legitimate edits)
MAX_BODY_BYTES = 100 * 1024 * 1024


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refusal(413, f"The request is larger than the gateway accepts ({MAX_BODY_BYTES // 2**20} MB).",
                      code="request_too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refusal(413, f"The request is larger than the gateway accepts ({MAX_BODY_BYTES // 2**20} MB).",
                          code="request_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


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
    except ValueError:
        raise Refusal(400, "The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(fields, dict):
        raise Refusal(400, "The body must be a JSON object.", code="invalid_json")
    return fields, []


def references(fields: dict) -> list[tuple[str, str, str]]:
    """(kind, id, param) of every file id and image-generation-call id a body names."""
    out: list[tuple[str, str, str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("file_id"), str):
                out.append(("file", value["file_id"], f"{path}.file_id".lstrip(".")))
            if value.get("type") == "image_generation_call" and isinstance(value.get("id"), str):
                out.append(("call", value["id"], f"{path}.id".lstrip(".")))
            for k, v in value.items():
                walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif isinstance(value, str) and value.startswith("file-") and path.split(".")[-1].split("[")[0] in (
                "image", "image[]", "mask", "markup", "images"):
            out.append(("file", value, path.lstrip(".")))

    walk(fields, "")
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
