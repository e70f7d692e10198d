"""``POST /v1/content_provenance_checks``: a multipart ``file`` (PNG, JPEG, WebP or GIF) in, a
``ContentProvenanceCheck`` out (the C2PA manifest read by ``provenance``; no SynthID here)."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..api.images import sniff_format
from . import provenance
from .common import api
from .parse import APIFailure, file_form, form_to_dict, upload_bytes

__all__ = ["content_provenance_check"]

_MAX_BYTES = 50 * 2**20  # as the edit endpoint's images: a check is for pictures, not archives


@api
async def content_provenance_check(request: Request) -> Response:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise APIFailure(400, "A provenance check is multipart/form-data with a 'file'.", code="invalid_multipart")
    async with request.form(max_files=1, max_part_size=_MAX_BYTES) as form:
        data = await upload_bytes(file_form(form_to_dict(form.multi_items()), {"file"}))
    if sniff_format(data[:64]) not in provenance.CHECKED_FORMATS:
        raise APIFailure(400, "Invalid file: a provenance check takes a PNG, JPEG, WebP or GIF image.",
                         param="file", code="invalid_image_format")
    return JSONResponse(await anyio.to_thread.run_sync(provenance.check, data))
