"""``Client`` and ``AsyncClient``: the image APIs over HTTP, with retries and typed streams.

    >>> from imagewidgets import Client
    >>> client = Client()          # no OPENAI_API_KEY: the offline renderer on this machine
    >>> img = client.generate("a red kite over green hills", size="1536x1024", quality="low")
    >>> img.save("kite.png")                                              # doctest: +SKIP
    >>> edited = client.edit("add a second kite", image=img, input_fidelity="high")   # doctest: +SKIP
    >>> turn = client.respond("a watercolour fox")                        # doctest: +SKIP
    >>> client.respond("now make it night", previous_response_id=turn.response_id)  # doctest: +SKIP

Every request is validated against the model table before anything is sent. Both clients
share all logic (request encoding, answer decoding, the retry decision); only the I/O differs.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import _http
from .config import BackendConfig, Secret, data_home, resolve
from .decode import images_response, responses_response
from .errors import APIConnectionError, APIError, APITimeoutError, error_for_status
from .lifecycle import LifecycleGate, RetiredModelWarning
from .models import get_model
from .requests import EditRequest, GenerateRequest, ResponsesRequest, VariationRequest
from .results import ImageResult, ImageSet, atomic_write
from .streams import AsyncImageStream, ImageStream
from .wire import HTTPCall, encode

__all__ = ["Client", "AsyncClient", "RetryPolicy", "FileObject", "RetiredModelWarning"]

#: the models list is a small JSON document: a short timeout, then the table decides
_LIST_TIMEOUT = 10.0


@dataclass(frozen=True)
class RetryPolicy:
    """Retries with exponential backoff and jitter on 408/409/429/5xx and connection errors,
    honouring ``Retry-After``; never on other 4xx. ``sleep`` is the seam tests replace.

    A generation, edit or Responses turn that timed out *after it was fully sent* (a read
    timeout) is not retried unless ``retry_sent_timeouts=True``: the server may have made and
    billed the image, and a retry would bill it twice. Timeouts before sending, connection
    failures, 429 and 5xx are retried as before."""

    max_retries: int = 2
    retry_sent_timeouts: bool = False
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0
    sleep: Callable[[float], Any] | None = None
    async_sleep: Callable[[float], Any] | None = None

    def should_retry(self, err: APIError) -> bool:
        if isinstance(err, APITimeoutError) and err.sent:
            return self.retry_sent_timeouts
        if isinstance(err, APIConnectionError):
            return True
        return err.status in (408, 409, 429) or (err.status or 0) >= 500

    def delay(self, attempt: int, err: APIError) -> float:
        wait = _http.parse_retry_after(err.headers) if err.headers else None
        if wait is not None and wait <= self.retry_after_max:
            return wait
        backoff = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        return backoff * (0.75 + random.random() * 0.25)  # jitter: 75-100% of the backoff


@dataclass(frozen=True)
class FileObject:
    """A file uploaded with the Files API; pass ``.id`` (or the object) where an image is expected."""

    id: str
    filename: str
    bytes: int
    purpose: str
    created_at: int | None = None

    def __str__(self) -> str:
        return self.id


class _Core:
    """What both clients share: configuration, encoding, decoding and the retry decision."""

    def __init__(self, api_key: str | Secret | None = None, base_url: str | None = None, *,
                 organization: str | None = None, project: str | None = None,
                 timeout: float | Any = None, max_retries: int = 2, retry: RetryPolicy | None = None,
                 transport: Any = None, save_dir: str | os.PathLike | None | bool = True,
                 check_lifecycle: bool | None = None, allow_shut_down: bool | Any = False) -> None:
        self.config: BackendConfig = resolve(api_key, base_url, organization, project)
        #: lifecycle checks (api/lifecycle.py): None on api.openai.com only, True on any server
        #: (with that server's own models list), False never; ``allow_shut_down``: True or model
        #: names sent even past their shutdown date
        self.check_lifecycle = check_lifecycle
        self.allow_shut_down = allow_shut_down
        self._gate_obj: LifecycleGate | None = None
        #: where generate/edit/vary/respond write every image (and its metadata) before returning
        #: it; True: ``$IMAGEWIDGETS_HOME/images``; None or False: not saved
        self.save_dir = save_dir
        self.timeout = _http.DEFAULT_TIMEOUT if timeout is None else timeout
        self.retry = retry or RetryPolicy(max_retries=max_retries)
        self._transport = transport
        self._embedded_url: str | None = None

    @property
    def base_url(self) -> str:
        """The API's base URL; for the offline backend, starts it on first use."""
        if self.config.base_url:
            return self.config.base_url
        if self._embedded_url is None:
            from ..offline.server import embedded_base_url

            self._embedded_url = embedded_base_url()
        return self._embedded_url

    @property
    def backend(self) -> str:
        """Which backend this client talks to, in words (never the key)."""
        return self.config.describe(self._embedded_url)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backend={self.backend!r}>"

    def _gate(self) -> LifecycleGate | None:
        """The lifecycle check for this client's server, or None when it does not apply."""
        active = self.config.is_openai if self.check_lifecycle is None else bool(self.check_lifecycle)
        if not active:
            return None
        if self._gate_obj is None:
            self._gate_obj = LifecycleGate(self.base_url, self.config.is_openai, self.allow_shut_down)
        return self._gate_obj

    @staticmethod
    def _lifecycle_models(req: Any) -> list[str]:
        models = [req.model]
        if isinstance(req, ResponsesRequest):
            models.append(req.responses_model)
        return models

    def _prepare(self, req: Any, listing: dict | None = None) -> tuple[HTTPCall, dict]:
        req.validate()
        gate = self._gate()
        if gate is not None:
            gate.check(self._lifecycle_models(req), listing)
        call = encode(req)
        meta = {"model": req.model, "prompt": getattr(req, "prompt", None) or None,
                "params": {k: v for k, v in req.params().items() if k not in ("prompt",)}}
        return call, meta

    @staticmethod
    def _request_kwargs(call: HTTPCall) -> dict:
        if call.json is not None:
            return {"json": call.json}
        return {"data": call.data or {}, "files": call.files}

    @staticmethod
    def _error(resp) -> APIError:
        try:
            body = resp.json()
        except ValueError:
            body = resp.text
        err = error_for_status(resp.status_code, body, dict(resp.headers))
        if getattr(err, "code", None) == "model_not_found":  # a shut-down model: name what replaces it
            _hint_replacement(err)
        return err

    def _decode(self, req: Any, body: dict, meta: dict, fetch=None) -> list[ImageResult]:
        if isinstance(req, ResponsesRequest):
            return responses_response(body, meta)
        return images_response(body, meta, fetch)

    def _save_folder(self) -> Path | None:
        if self.save_dir is None or self.save_dir is False:
            return None
        return data_home() / "images" if self.save_dir is True else Path(self.save_dir)

    def _save(self, result: ImageResult) -> ImageResult:
        """Write the image, then its metadata, atomically; returns the result with ``.path`` set."""
        folder = self._save_folder()
        if folder is None or result.path is not None:
            return result
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"{stamp}-{result.request_id or uuid.uuid4().hex[:12]}-{result.index}"
        saved = result.with_meta(path=atomic_write(folder / f"{name}.{result.extension}", result.data))
        atomic_write(folder / f"{name}.json", json.dumps(saved.to_dict(), indent=1, default=str).encode())
        return saved

    @staticmethod
    def _shape(results: list[ImageResult]) -> ImageResult | ImageSet:
        return results[0] if len(results) == 1 else ImageSet(results)

    @staticmethod
    def _requests(kind: str, *args: Any, **options: Any) -> Any:
        if kind == "generate":
            return GenerateRequest(*args, **options)
        if kind == "edit":
            prompt, image = args
            return EditRequest(prompt, images=image, **options)
        if kind == "vary":
            return VariationRequest(*args, **options)
        prompt, images = args
        return ResponsesRequest(prompt, input_images=images, **options)

    @staticmethod
    def _file_object(body: dict) -> FileObject:
        return FileObject(id=body["id"], filename=body.get("filename", ""), bytes=int(body.get("bytes") or 0),
                          purpose=body.get("purpose", ""), created_at=body.get("created_at"))

    @staticmethod
    def _upload_parts(file: Any, purpose: str) -> tuple[dict, list]:
        from .requests import ImageInput

        img = ImageInput.coerce(file, "file")
        return {"purpose": purpose}, [("file", (img.name, img.data, img.mime))]


def _hint_replacement(err: APIError) -> None:
    """Append "use X instead" to a 404 model_not_found naming a model the table knows ended."""
    import re

    from .lifecycle import lifecycle_of

    message = str(getattr(err, "message", "") or "")
    m = re.search(r"`([A-Za-z0-9._:-]{1,100})`", message)
    if not m:
        return
    life = lifecycle_of(m.group(1))
    if life.shutdown_date and life.replacement:
        err.message = f"{message} ({m.group(1)} shut down on api.openai.com on {life.shutdown_date}; " \
                      f"use {life.replacement} instead)"
        err.args = (err._text(),)


def _transport_error(e: Exception, billable: bool = False) -> APIError:
    if isinstance(e, _http.SENT_TIMEOUT_ERRORS) and billable:
        return APITimeoutError("the request was sent but no answer came within the read timeout", sent=True)
    if isinstance(e, _http.TIMEOUT_ERRORS):
        return APITimeoutError()
    return APIConnectionError(f"could not connect to the API: {type(e).__name__}")


class Client(_Core):
    """The image APIs, synchronously. See the module docstring for an example."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._http = None

    @property
    def http(self):
        if self._http is None:
            self._http = _http.new_client(self.base_url, self.config.headers(), self.timeout, self._transport)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the transport loop ------------------------------------------------------------------
    def _send(self, method: str, path: str, stream: bool = False, billable: bool = False, **kwargs: Any):
        sleep = self.retry.sleep or time.sleep
        attempt = 0
        while True:
            try:
                request = self.http.build_request(method, path, **kwargs)
                resp = self.http.send(request, stream=True)
            except _http.CONNECTION_ERRORS as e:
                err = _transport_error(e, billable)
            else:
                if resp.status_code < 400:
                    if not stream:
                        resp.read()
                        resp.close()
                    return resp
                resp.read()
                resp.close()
                err = self._error(resp)
            if attempt >= self.retry.max_retries or not self.retry.should_retry(err):
                raise err
            sleep(self.retry.delay(attempt, err))
            attempt += 1

    def run(self, req: Any, *, save: bool = False) -> Any:
        """Send a typed request; an ``ImageStream`` when it streams, else a list of results.

        ``save=True`` writes each image to ``save_dir`` before it is returned or yielded (the
        public methods do; a Session keeps images in its own store instead)."""
        call, meta = self._prepare(req, self._listing())
        resp = self._send(call.method, call.path, stream=call.stream, billable=True, **self._request_kwargs(call))
        meta["request_id"] = resp.headers.get("x-request-id")
        if call.stream:
            return ImageStream(resp, meta, getattr(req, "partial_images", None),
                               saver=self._save if save else None)
        results = self._decode(req, resp.json(), meta, self._fetch)
        return [self._save(r) for r in results] if save else results

    def _fetch(self, url: str) -> bytes:
        return self._send("GET", url).content

    def _listing(self) -> dict | None:
        """The server's models list (once per base URL and day; None when unavailable)."""
        gate = self._gate()
        if gate is None:
            return None
        known, listing = gate.cached_listing()
        if known:
            return listing
        try:  # one plain attempt: the table is the fallback, so no retries here
            resp = self.http.get("/models", timeout=_LIST_TIMEOUT)
            body = resp.json() if resp.status_code == 200 else None
        except (*_http.CONNECTION_ERRORS, ValueError):
            body = None
        return gate.store_listing(body)

    def models(self) -> list[dict]:
        """Every model the table names with its shutdown date and status today, from this
        server's models list where it says so (``source``), else the table."""
        from .lifecycle import lifecycle_table

        gate = self._gate()
        listing = self._listing() if gate is not None else None
        return lifecycle_table(listing)  # the table's dates are api.openai.com's; source says which

    def _one(self, req: Any) -> Any:
        out = self.run(req, save=True)
        return out if isinstance(out, ImageStream) else self._shape(out)

    # -- the public methods ------------------------------------------------------------------
    def generate(self, prompt: str, **options: Any) -> ImageResult | ImageSet | ImageStream:
        """``POST /images/generations``. ``stream=True`` returns an ``ImageStream``."""
        return self._one(self._requests("generate", prompt, **options))

    def edit(self, prompt: str, image: Any, **options: Any) -> ImageResult | ImageSet | ImageStream:
        """``POST /images/edits`` with one image or a list (paths, bytes, PIL, arrays, results,
        file ids); ``mask=`` / ``markup=`` optional."""
        return self._one(self._requests("edit", prompt, image, **options))

    def vary(self, image: Any, **options: Any) -> ImageResult | ImageSet:
        """``POST /images/variations`` (dall-e-2)."""
        return self._one(self._requests("vary", image, **options))

    def respond(self, prompt: str, images: Any = (), **options: Any) -> ImageResult | ImageStream:
        """One turn of the Responses API with the image_generation tool. Options: the tool's
        (``model`` is the image model), ``previous_response_id``, ``responses_model``, ``stream``."""
        return self._one(self._requests("respond", prompt, images, **options))

    def upload(self, file: Any, purpose: str = "vision") -> FileObject:
        """``POST /files``: upload an image; use the returned id as an input image."""
        data, files = self._upload_parts(file, purpose)
        return self._file_object(self._send("POST", "/files", data=data, files=files).json())

    def retrieve_response(self, response_id: str) -> dict:
        """``GET /responses/{id}``: a stored response as JSON."""
        return self._send("GET", f"/responses/{response_id}").json()

    def send(self, method: str, path: str, *, stream: bool = False, **kwargs: Any):
        """A raw HTTP request to the API (same headers and retries): the response, or the mapped
        ``APIError`` for an error answer. ``imagewidgets doctor`` compares answers' shapes with it.

            >>> client.send("GET", "/models").json()["data"][0]["id"]   # doctest: +SKIP
            'gpt-image-2'
        """
        return self._send(method, path, stream=stream, **kwargs)


class AsyncClient(_Core):
    """The image APIs with ``await``; the same methods as ``Client``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._http = None

    @property
    def http(self):
        if self._http is None:
            self._http = _http.new_async_client(self.base_url, self.config.headers(), self.timeout,
                                                self._transport)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def _send(self, method: str, path: str, stream: bool = False, billable: bool = False, **kwargs: Any):
        sleep = self.retry.async_sleep or asyncio.sleep
        attempt = 0
        while True:
            try:
                request = self.http.build_request(method, path, **kwargs)
                resp = await self.http.send(request, stream=True)
            except _http.CONNECTION_ERRORS as e:
                err = _transport_error(e, billable)
            else:
                if resp.status_code < 400:
                    if not stream:
                        await resp.aread()
                        await resp.aclose()
                    return resp
                await resp.aread()
                await resp.aclose()
                err = self._error(resp)
            if attempt >= self.retry.max_retries or not self.retry.should_retry(err):
                raise err
            await sleep(self.retry.delay(attempt, err))
            attempt += 1

    async def run(self, req: Any, *, save: bool = False) -> Any:
        """The async twin of ``Client.run``."""
        call, meta = self._prepare(req, await self._listing())
        resp = await self._send(call.method, call.path, stream=call.stream, billable=True,
                                **self._request_kwargs(call))
        meta["request_id"] = resp.headers.get("x-request-id")
        if call.stream:
            return AsyncImageStream(resp, meta, getattr(req, "partial_images", None),
                                    saver=self._save if save else None)
        body = resp.json()
        if isinstance(req, ResponsesRequest):
            results = responses_response(body, meta)
        else:
            urls = [d.get("url") for d in body.get("data") or [] if not d.get("b64_json") and d.get("url")]
            fetched = {u: (await self._send("GET", u)).content for u in urls}
            results = images_response(body, meta, fetched.__getitem__)
        return [self._save(r) for r in results] if save else results

    async def _listing(self) -> dict | None:
        """The async twin of ``Client._listing``."""
        gate = self._gate()
        if gate is None:
            return None
        known, listing = gate.cached_listing()
        if known:
            return listing
        try:
            resp = await self.http.get("/models", timeout=_LIST_TIMEOUT)
            body = resp.json() if resp.status_code == 200 else None
        except (*_http.CONNECTION_ERRORS, ValueError):
            body = None
        return gate.store_listing(body)

    async def _one(self, req: Any) -> Any:
        out = await self.run(req, save=True)
        return out if isinstance(out, AsyncImageStream) else self._shape(out)

    async def generate(self, prompt: str, **options: Any):
        return await self._one(self._requests("generate", prompt, **options))

    async def edit(self, prompt: str, image: Any, **options: Any):
        return await self._one(self._requests("edit", prompt, image, **options))

    async def vary(self, image: Any, **options: Any):
        return await self._one(self._requests("vary", image, **options))

    async def respond(self, prompt: str, images: Any = (), **options: Any):
        return await self._one(self._requests("respond", prompt, images, **options))

    async def upload(self, file: Any, purpose: str = "vision") -> FileObject:
        data, files = self._upload_parts(file, purpose)
        return self._file_object((await self._send("POST", "/files", data=data, files=files)).json())

    async def retrieve_response(self, response_id: str) -> dict:
        return (await self._send("GET", f"/responses/{response_id}")).json()
