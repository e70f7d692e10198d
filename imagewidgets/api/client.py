"""``Client`` and ``AsyncClient``: the image APIs over HTTP, with retries and typed streams.

    >>> from imagewidgets import Client
    >>> client = Client()          # no OPENAI_API_KEY: the offline renderer on this machine
    >>> img = client.generate("a red kite over green hills", size="1536x1024", quality="low")
    >>> img.save("kite.png")                                              # doctest: +SKIP
    >>> edited = client.edit("add a second kite", image=img, input_fidelity="high")   # doctest: +SKIP
    >>> turn = client.respond("a watercolour fox")                        # doctest: +SKIP
    >>> client.respond("now make it night", previous_response_id=turn.response_id)  # doctest: +SKIP

Every request is validated against the model table before anything is sent. Both clients are
twins over ``BaseClient`` (``_base_client.py``): request building, answer decoding, saving and the
retry decision are shared; only the I/O (``_send``) and the stream type differ.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any

from . import _http
from ._base_client import LIST_TIMEOUT, BaseClient, FileObject, RetiredModelWarning, RetryPolicy, transport_error
from .endpoints import endpoint
from .errors import ModerationError, ParamError, RetryWaitWarning
from .refusals import REFUSED
from .images import ImageLike
from .lifecycle import lifecycle_table
from .provenance import ProvenanceCheck
from .inputs import ImageInput
from .requests import ImageRequest, ResponsesRequest
from .results import ImageResult, ImageSet
from .streams import AsyncImageStream, ImageStream

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Unpack  # typing.Unpack from Python 3.12

    from .options import EditOptions, GenerateOptions, RespondOptions, VaryOptions

__all__ = ["Client", "AsyncClient", "RetryPolicy", "RetryWaitWarning", "FileObject", "RetiredModelWarning"]


class Client(BaseClient):
    """The image APIs, synchronously. See the module docstring for an example."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._http: Any = None
        self._http_lock = threading.Lock()

    @property
    def http(self) -> Any:
        if self._http is None:
            # several threads may send at once (a session's variants): one connection pool for all
            with self._http_lock:
                if self._http is None:
                    self._http = _http.new_client(self.base_url, self.config.public_headers(), self.timeout,
                                                  self._transport, credentials=self.config.credentials())
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the transport loop ------------------------------------------------------------------
    def _send(self, method: str, path: str, stream: bool = False, retry: bool = True, billable: bool = False,
              **kwargs: Any) -> _http.Response:
        sleep = self.retry.sleep or time.sleep
        attempt = 0
        while True:
            try:
                request = self.http.build_request(method, path, **kwargs)
                resp = self.http.send(request, stream=True)
            except _http.CONNECTION_ERRORS as e:
                err = transport_error(e, billable)
            else:
                if resp.status_code < 400:
                    if not stream:
                        resp.read()
                        resp.close()
                    return resp
                resp.read()
                resp.close()
                err = self._error(resp)
            if not retry or attempt >= self.retry.max_retries or not self.retry.should_retry(err):
                raise err
            sleep(self.retry.wait(attempt, err))
            attempt += 1

    def run(self, req: ImageRequest, *, save: bool = False) -> list[ImageResult] | ImageStream:
        """Send a typed request; an ``ImageStream`` when it streams, else a list of results.

        ``save=True`` writes each image to ``save_dir`` before it is returned or yielded (the
        public methods do; a Session keeps images in its own store instead)."""
        call, meta = self._prepare(req, self._listing())
        try:
            resp = self._send(call.method, call.path, stream=call.stream, billable=True,
                              **self._request_kwargs(call))
            meta["request_id"] = resp.headers.get("x-request-id")
            if call.stream:
                return ImageStream(resp, meta, getattr(req, "partial_images", None),
                                   saver=self._save if save else None)
            body = resp.json()
            fetched = {u: self._send("GET", u).content for u in self._to_fetch(req, body)}
            return self._results(req, body, meta, fetched, save)
        except ModerationError as e:  # the very same request is not sent again (api/refusals.py)
            REFUSED.remember(meta["_refusal_key"], e)
            raise

    def _listing(self) -> dict[str, str | None] | None:
        """The server's models list (once per base URL and day; None when unavailable or unchecked)."""
        gate = self._gate()
        if gate is None:
            return None
        known, listing = gate.cached_listing()
        if known:
            return listing
        try:  # one plain attempt: the table is the fallback, so no retries here
            resp = self.http.get(endpoint("list_models").path, timeout=LIST_TIMEOUT)
            body = resp.json() if resp.status_code == 200 else None
        except (*_http.CONNECTION_ERRORS, ValueError):
            body = None
        return gate.store_listing(body)

    def models(self) -> list[dict[str, Any]]:
        """Every model the table names with its shutdown date and status today, from this
        server's models list where it says so (``source``), else the table."""
        return lifecycle_table(self._listing())  # the table's dates are api.openai.com's

    def _one(self, req: ImageRequest) -> ImageResult | ImageSet | ImageStream:
        out = self.run(req, save=True)
        return out if isinstance(out, ImageStream) else self._shape(out)

    # -- the public methods ------------------------------------------------------------------
    def generate(self, prompt: str, **options: Unpack[GenerateOptions]) -> ImageResult | ImageSet | ImageStream:
        """``POST /images/generations``. ``stream=True`` returns an ``ImageStream``."""
        return self._one(self._generate(prompt, **options))

    def edit(self, prompt: str, image: Any, **options: Unpack[EditOptions]) -> ImageResult | ImageSet | ImageStream:
        """``POST /images/edits`` with one image or a list (paths, bytes, PIL, arrays, results,
        file ids); ``mask=`` / ``markup=`` optional."""
        return self._one(self._edit(prompt, image, **options))

    def vary(self, image: ImageLike | ImageInput, **options: Unpack[VaryOptions]) -> ImageResult | ImageSet | ImageStream:
        """``POST /images/variations`` (dall-e-2)."""
        return self._one(self._vary(image, **options))

    def respond(self, prompt: str, images: Any = (), **options: Unpack[RespondOptions]) -> ImageResult | ImageSet | ImageStream:
        """One turn of the Responses API with the image_generation tool. Options: the tool's
        (``model`` is the image model), ``previous_response_id``, ``responses_model``, ``stream``."""
        return self._one(self._respond(prompt, images, **options))

    def upload(self, file: Any, purpose: str = "vision") -> FileObject:
        """``POST /files``: upload an image; use the returned id as an input image."""
        data, files = self._upload_parts(file, purpose)
        return self.file_object(self.call("upload_file", data=data, files=files).json())

    def retrieve_response(self, response_id: str) -> dict[str, Any]:
        """``GET /responses/{id}``: a stored response as JSON."""
        return self.call("retrieve_response", ids={"response_id": response_id}).json()

    def call(self, name: str, *, ids: dict[str, str] | None = None, stream: bool = False, retry: bool = True,
             **kwargs: Any) -> _http.Response:
        """One declared endpoint (``api/endpoints.py``) by name: its method and path, the ids of the
        path checked, the same headers and retries as every call.

            >>> client.call("retrieve_batch", ids={"batch_id": "batch_abc"}).json()["status"]  # doctest: +SKIP
        """
        e = endpoint(name)
        return self._send(e.method, e.format(**(ids or {})), stream=stream, retry=retry, **kwargs)

    def submit(self, req: ImageRequest) -> tuple[dict[str, Any], dict[str, Any]]:
        """Send a background Responses turn (``completion_window`` set): the ``queued`` Response JSON the
        server answers at once, and the meta ``decode.responses_response`` needs once it has finished."""
        if not isinstance(req, ResponsesRequest) or not req.completion_window:
            raise ParamError("completion_window", None, "soonest, 2h or 8h on a Responses turn",
                             hint="submit() sends background Responses turns; run() sends the others")
        call, meta = self._prepare(req, self._listing())
        resp = self._send(call.method, call.path, billable=True, **self._request_kwargs(call))
        meta["request_id"] = resp.headers.get("x-request-id")
        return resp.json(), meta

    def cancel_response(self, response_id: str) -> dict[str, Any]:
        """``POST /responses/{id}/cancel``: stop a background turn (a finished one is returned as it is)."""
        return self.call("cancel_response", ids={"response_id": response_id}).json()

    def check_provenance(self, image: Any) -> ProvenanceCheck:
        """``POST /content_provenance_checks``: does ``image`` (bytes, a path, an ImageResult) carry a
        validating C2PA manifest and a SynthID watermark? The file is sent as it is."""
        return ProvenanceCheck.from_api(self.call("check_provenance", files=self._provenance_parts(image)).json())

    def send(self, method: str, path: str, *, stream: bool = False, **kwargs: Any) -> _http.Response:
        """A raw HTTP request to the API (same headers and retries): the response, or the mapped
        ``APIError`` for an error answer. ``imagewidgets doctor`` compares answers' shapes with it.

            >>> client.send("GET", "/models").json()["data"][0]["id"]   # doctest: +SKIP
            'gpt-image-2'
        """
        return self._send(method, path, stream=stream, **kwargs)

    @property
    def files(self) -> Any:
        """The Files API (``upload``, ``list``, ``retrieve``, ``content``, ``lines``, ``delete``)."""
        from .batches import Files

        return Files(self)

    @property
    def batches(self) -> Any:
        """The Batch API (``create``, ``retrieve``, ``list``, ``cancel``, ``find``): half price, within 24 h."""
        from .batches import Batches

        return Batches(self)


class AsyncClient(BaseClient):
    """The image APIs with ``await``: ``Client``'s methods, each a coroutine, with ``AsyncImageStream``
    (``async for``) for streams::

        async with AsyncClient() as client:
            img = await client.generate("a red kite", quality="low")
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._http: Any = None

    @property
    def http(self) -> Any:
        if self._http is None:
            self._http = _http.new_async_client(self.base_url, self.config.public_headers(), self.timeout,
                                                self._transport, credentials=self.config.credentials())
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def _send(self, method: str, path: str, stream: bool = False, billable: bool = False,
                    **kwargs: Any) -> _http.Response:
        sleep = self.retry.async_sleep or asyncio.sleep
        attempt = 0
        while True:
            try:
                request = self.http.build_request(method, path, **kwargs)
                resp = await self.http.send(request, stream=True)
            except _http.CONNECTION_ERRORS as e:
                err = transport_error(e, billable)
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
            await sleep(self.retry.wait(attempt, err))
            attempt += 1

    async def run(self, req: ImageRequest, *, save: bool = False) -> list[ImageResult] | AsyncImageStream:
        """The async twin of ``Client.run``."""
        call, meta = self._prepare(req, await self._listing())
        try:
            resp = await self._send(call.method, call.path, stream=call.stream, billable=True,
                                    **self._request_kwargs(call))
            meta["request_id"] = resp.headers.get("x-request-id")
            if call.stream:
                return AsyncImageStream(resp, meta, getattr(req, "partial_images", None),
                                        saver=self._save if save else None)
            body = resp.json()
            fetched = {u: (await self._send("GET", u)).content for u in self._to_fetch(req, body)}
            return self._results(req, body, meta, fetched, save)
        except ModerationError as e:
            REFUSED.remember(meta["_refusal_key"], e)
            raise

    async def _listing(self) -> dict[str, str | None] | None:
        """The async twin of ``Client._listing``."""
        gate = self._gate()
        if gate is None:
            return None
        known, listing = gate.cached_listing()
        if known:
            return listing
        try:
            resp = await self.http.get(endpoint("list_models").path, timeout=LIST_TIMEOUT)
            body = resp.json() if resp.status_code == 200 else None
        except (*_http.CONNECTION_ERRORS, ValueError):
            body = None
        return gate.store_listing(body)

    async def _one(self, req: ImageRequest) -> ImageResult | ImageSet | AsyncImageStream:
        out = await self.run(req, save=True)
        return out if isinstance(out, AsyncImageStream) else self._shape(out)

    # -- the public methods: Client's, awaited ------------------------------------------------
    async def generate(self, prompt: str, **options: Unpack[GenerateOptions]) -> ImageResult | ImageSet | AsyncImageStream:
        """``POST /images/generations``. ``stream=True`` returns an ``AsyncImageStream``."""
        return await self._one(self._generate(prompt, **options))

    async def edit(self, prompt: str, image: Any, **options: Unpack[EditOptions]) -> ImageResult | ImageSet | AsyncImageStream:
        """``POST /images/edits`` with one image or a list; ``mask=`` / ``markup=`` optional."""
        return await self._one(self._edit(prompt, image, **options))

    async def vary(self, image: ImageLike | ImageInput, **options: Unpack[VaryOptions]) -> ImageResult | ImageSet | AsyncImageStream:
        """``POST /images/variations`` (dall-e-2)."""
        return await self._one(self._vary(image, **options))

    async def respond(self, prompt: str, images: Any = (), **options: Unpack[RespondOptions]) -> ImageResult | ImageSet | AsyncImageStream:
        """One turn of the Responses API with the image_generation tool (see ``Client.respond``)."""
        return await self._one(self._respond(prompt, images, **options))

    async def upload(self, file: Any, purpose: str = "vision") -> FileObject:
        """``POST /files``: upload an image; use the returned id as an input image."""
        data, files = self._upload_parts(file, purpose)
        return self.file_object((await self.call("upload_file", data=data, files=files)).json())

    async def cancel_response(self, response_id: str) -> dict[str, Any]:
        return (await self.call("cancel_response", ids={"response_id": response_id})).json()

    async def check_provenance(self, image: Any) -> ProvenanceCheck:
        return ProvenanceCheck.from_api((await self.call("check_provenance",
                                                         files=self._provenance_parts(image))).json())

    async def retrieve_response(self, response_id: str) -> dict[str, Any]:
        """``GET /responses/{id}``: a stored response as JSON."""
        return (await self.call("retrieve_response", ids={"response_id": response_id})).json()

    async def call(self, name: str, *, ids: dict[str, str] | None = None, stream: bool = False, retry: bool = True,
                   **kwargs: Any) -> _http.Response:
        """The async twin of ``Client.call``: one declared endpoint by name."""
        e = endpoint(name)
        return await self._send(e.method, e.format(**(ids or {})), stream=stream, retry=retry, **kwargs)

    async def send(self, method: str, path: str, *, stream: bool = False, **kwargs: Any) -> _http.Response:
        """The async twin of ``Client.send``: a raw HTTP request with the same headers and retries."""
        return await self._send(method, path, stream=stream, **kwargs)
