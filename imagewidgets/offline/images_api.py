"""The Image API of the offline server: generations, edits and variations, plain or streamed."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..api.models import ModelSpec
from . import imaging
from .common import (IMAGE_URL_PATH, Frame, api, b64, backend_of, json_body, known_model, new_id, read_bytes,
                     sse_response, validated)
from .parse import (APIFailure, edit_request, form_to_dict, generate_request, image_from_upload, upload_bytes,
                    variation_request)

if TYPE_CHECKING:  # pragma: no cover
    from ..api.requests import ImageRequest

__all__ = ["generations", "edits", "variations", "served_image"]

_MAX_PART = 64 * 1024 * 1024


@api
async def generations(request: Request) -> Response:
    backend = backend_of(request)
    req = generate_request(await json_body(request))
    spec = known_model(req.model, day=backend.config.calendar_day())
    validated(req)
    _moderate(req.prompt, req.moderation, backend.config)
    out = imaging.resolve_output(req, spec, req.prompt, pictures=backend.config.pictures)
    revised = None
    if spec.revised_prompt:  # dall-e-3 reports the prompt it drew: here, the prompt and the options applied
        quality = req.quality or spec.default_quality
        revised = imaging.revised_prompt([req.prompt], [f"{out.style} style" if out.style else "", out.size,
                                                        f"{quality} quality" if quality else ""])
    return await _answer(request, req, spec, out, req.prompt, revised, [], None, "image_generation")


@api
async def edits(request: Request) -> Response:
    backend = backend_of(request)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        body = await _read_form(request)
    else:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise APIFailure(400, "The body must be a JSON object.", code="invalid_json")
    req = edit_request(body, backend.resolve)
    spec = known_model(req.model, day=backend.config.calendar_day())
    validated(req)
    _moderate(req.prompt, req.moderation, backend.config)
    images = read_bytes(req.images)
    out = imaging.resolve_output(req, spec, req.prompt, imaging.image_size(images[0]), backend.config.pictures)
    fidelity = req.input_fidelity or ("low" if spec.input_fidelities else None)
    edit = imaging.edit_inputs(images, req.mask.data if req.mask else None, strict=spec.mask_strict,
                               fidelity=fidelity, markup=req.markup.data if req.markup else None)
    return await _answer(request, req, spec, out, req.prompt, None, images, edit, "image_edit", fidelity)


@api
async def variations(request: Request) -> Response:
    backend = backend_of(request)
    body = await _read_form(request)
    req = variation_request(body)
    spec = known_model(req.model, day=backend.config.calendar_day())
    validated(req)
    out = imaging.resolve_output(req, spec, "", None, backend.config.pictures)
    datas = await imaging.render_variation(out, read_bytes([req.image])[0], req.n or 1)
    return JSONResponse(_images_body(request, spec, out, datas, None, req.response_format, None))


async def served_image(request: Request) -> Response:
    """The images handed out as URLs (``response_format="url"``)."""
    name = request.path_params["name"]
    image_id = name.rsplit(".", 1)[0]
    backend = backend_of(request)
    rec = backend.state.get("images", image_id)
    data = backend.state.blob("images", image_id) if rec else None
    if data is None or rec is None:
        return JSONResponse(APIFailure(404, f"No image {name!r} on this offline server.").body(), status_code=404)
    from ..api.images import MIME_TYPES

    return Response(data, media_type=MIME_TYPES.get(rec.get("format", "png"), "application/octet-stream"))


async def _read_form(request: Request) -> dict[str, Any]:
    try:
        form = await request.form(max_files=64, max_fields=1000, max_part_size=_MAX_PART)
    except Exception as e:  # starlette's MultiPartException and friends
        raise APIFailure(400, f"Could not read the multipart body: {e}", code="invalid_multipart") from None
    try:
        body = form_to_dict(form.multi_items())
        for key in ("image", "mask", "markup"):
            value = body.get(key)
            if value is None or isinstance(value, str):
                continue
            many = isinstance(value, list)
            items = value if many else [value]
            converted: list[Any] = []  # text (ids, URLs) as given, uploads as images
            for i, item in enumerate(items):
                if isinstance(item, str):
                    converted.append(item)
                    continue
                param = f"{key}[{i}]" if many and len(items) > 1 else key
                converted.append(image_from_upload(await upload_bytes(item), getattr(item, "filename", None), param))
            body[key] = converted if many else converted[0]
        return body
    finally:
        await form.close()  # the uploads' spooled temporary files


def _moderate(prompt: str, level: str | None, config: Any) -> None:
    word = imaging.moderation_verdict(prompt, level, config)
    if word:
        raise APIFailure(400, imaging.moderation_message(word), type="image_generation_user_error",
                         param="prompt", code="moderation_blocked")


async def _answer(request: Request, req: ImageRequest, spec: ModelSpec, out: imaging.Output, prompt: str,
                  revised: str | None, images: list[bytes], edit: Any, prefix: str,
                  fidelity: str | None = None) -> Response:
    n = req.n or 1
    if req.stream:
        partials = req.partial_images or 0
        return sse_response(request, _stream(req, out, prompt, images, edit, prefix, fidelity, n, partials))
    datas = await imaging.render_images(prompt, out, req, n, edit)
    use = imaging.usage(prompt, out, images, fidelity, 0, n) if out.gpt else None
    body = _images_body(request, spec, out, datas, revised, req.response_format, use)
    safety = getattr(req, "safety_identifier", None)
    if safety:  # the effective safety identifier, as ImagesResponse has it
        body["safety_identifier"] = safety
    if out.output_format == "svg":
        body["svg_usage"] = imaging.svg_usage(prompt, getattr(req, "svg", None), datas)
    return JSONResponse(body)


async def _stream(req: ImageRequest, out: imaging.Output, prompt: str, images: list[bytes], edit: Any, prefix: str,
                  fidelity: str | None, n: int, partials: int) -> AsyncIterator[Frame]:
    meta = {"size": out.size, "quality": out.quality, "background": out.background,
            "output_format": out.output_format}
    for i in range(n):
        k = 0
        async for frame in imaging.render_frames(prompt, out, req, i, partials, edit):
            if k == partials:  # the last one is the final image
                final = frame
                continue
            yield Frame({"type": f"{prefix}.partial_image", "b64_json": b64(frame), "partial_image_index": k,
                         "created_at": int(time.time()), **meta}, image=True, index=k)
            k += 1
        # the input is counted once, on the first image: the completed events add up to the whole request
        use = imaging.usage(prompt, out, images, fidelity, partials, 1, include_input=(i == 0))
        data = {"type": f"{prefix}.completed", "b64_json": b64(final), "created_at": int(time.time()),
                **meta, "usage": use}
        if getattr(req, "safety_identifier", None):
            data["safety_identifier"] = getattr(req, "safety_identifier")
        yield Frame(data, image=True, index=partials)


def _images_body(request: Request, spec: ModelSpec, out: imaging.Output, datas: list[bytes],
                 revised: str | None, response_format: str | None, use: dict | None) -> dict:
    fmt = response_format or ("url" if spec.response_formats else "b64_json")
    items = []
    for data in datas:
        item: dict[str, Any] = {"url": _store_url(request, data, out.output_format)} if fmt == "url" else {
            "b64_json": b64(data)}
        if revised:
            item["revised_prompt"] = revised
        items.append(item)
    body: dict[str, Any] = {"created": int(time.time()), "data": items}
    if out.gpt:
        body.update(background=out.background, output_format=out.output_format, quality=out.quality,
                    size=out.size, usage=use)
    return body


def _store_url(request: Request, data: bytes, fmt: str) -> str:
    image_id = new_id("img_")
    backend_of(request).state.put("images", image_id, {"format": fmt, "created": int(time.time())}, data)
    ext = "jpg" if fmt == "jpeg" else fmt
    return f"{str(request.base_url).rstrip('/')}{IMAGE_URL_PATH}{image_id}.{ext}"
