"""What ``Client`` and ``AsyncClient`` share, as httpx's ``BaseClient`` does: configuration,
building a request's HTTP call, decoding the answer, saving images, and the retry decision.
Only sending (``_send``) and the stream type differ between the two.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from . import _http, embedded
from .config import BackendConfig, Secret, data_home, resolve
from .decode import Meta, images_response, responses_response, urls_to_fetch
from .errors import APIConnectionError, APIError, APITimeoutError, ParamError, RetryWaitWarning, error_for_status
from .images import ImageLike
from .lifecycle import LifecycleGate, RetiredModelWarning, lifecycle_of
from .redact import redact
from .refusals import REFUSED, request_key
from .requests import EditRequest, GenerateRequest, ImageInput, ImageRequest, ResponsesRequest, VariationRequest
from .results import ImageResult, ImageSet, atomic_write
from .wire import HTTPCall, encode

__all__ = ["BaseClient", "RetryPolicy", "FileObject", "RetiredModelWarning", "LIST_TIMEOUT"]

#: the models list is a small JSON document: a short timeout, then the table decides
LIST_TIMEOUT = 10.0


@dataclass(frozen=True)
class RetryPolicy:
    """Retries with exponential backoff and jitter on 408/409/429/5xx and connection errors,
    honouring ``Retry-After``; never on other 4xx, nor when the answer says ``x-should-retry: false``
    (as the openai SDK does; a class gateway's "budget used up" says so). ``sleep`` is the seam tests replace.

    A wait of ``announce_after`` seconds or more is announced before it starts (``on_wait(seconds,
    error)``, by default a ``RetryWaitWarning``; the magics print it at once). A server asking for
    more than ``retry_after_max`` seconds is not waited for: the error is raised at once, saying so.

        >>> Client(retry=RetryPolicy(retry_after_max=10))    # never wait more than 10 s  # doctest: +SKIP

    A generation, edit or Responses turn that timed out *after it was fully sent* (a read
    timeout) is not retried unless ``retry_sent_timeouts=True``: the server may have made and
    billed the image, and a retry would bill it twice. Timeouts before sending, connection
    failures, 429 and 5xx are retried as before."""

    max_retries: int = 2
    retry_sent_timeouts: bool = False
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0
    announce_after: float = 5.0
    on_wait: Callable[[float, APIError], Any] | None = None
    sleep: Callable[[float], Any] | None = None
    async_sleep: Callable[[float], Any] | None = None

    def should_retry(self, err: APIError) -> bool:
        if (err.headers or {}).get("x-should-retry") == "false":  # the server says a retry cannot help
            return False
        if isinstance(err, APITimeoutError) and err.sent:
            return self.retry_sent_timeouts
        if isinstance(err, APIConnectionError):
            return True
        return err.status in (408, 409, 429) or (err.status or 0) >= 500

    def delay(self, attempt: int, err: APIError) -> float:
        wait = _http.parse_retry_after(err.headers) if err.headers else None
        if wait is not None:
            if wait > self.retry_after_max:
                raise _too_long(err, wait, self.retry_after_max)
            return wait
        backoff = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        return backoff * (0.75 + random.random() * 0.25)  # jitter: 75-100% of the backoff

    def wait(self, attempt: int, err: APIError) -> float:
        """Seconds to wait before retry ``attempt + 1``, announced first when long."""
        seconds = self.delay(attempt, err)
        if seconds >= self.announce_after:
            if self.on_wait is not None:
                self.on_wait(seconds, err)
            else:
                warnings.warn(f"waiting {seconds:.0f} s before retrying: the server answered {err.status or 'no'} "
                              f"and asked for the wait (retry {attempt + 1} of {self.max_retries}; "
                              "RetryPolicy(retry_after_max=...) caps it)", RetryWaitWarning, stacklevel=6)
        return seconds


def _too_long(err: APIError, wait: float, cap: float) -> APIError:
    """``err`` again, saying why it was not retried."""
    return type(err)(f"{err.message} (the server asks to wait {wait:.0f} s before retrying, more than "
                     f"retry_after_max={cap:g} s: not retried)", status=err.status, type=err.type, code=err.code,
                     param=err.param, request_id=err.request_id, body=err.body, headers=err.headers)


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

    @classmethod
    def from_api(cls, body: dict) -> "FileObject":
        """The File object of an API answer."""
        return cls(id=body["id"], filename=body.get("filename", ""), bytes=int(body.get("bytes") or 0),
                   purpose=body.get("purpose", ""), created_at=body.get("created_at"))


class BaseClient:
    """What both clients share: configuration, encoding, decoding, saving and the retry decision."""

    def __init__(self, api_key: str | Secret | None = None, base_url: str | None = None, *,
                 organization: str | None = None, project: str | None = None,
                 timeout: float | Any = None, max_retries: int = 2, retry: RetryPolicy | None = None,
                 transport: Any = None, save_dir: str | os.PathLike | None | bool = True,
                 check_lifecycle: bool | None = None, allow_shut_down: bool | Any = False,
                 retry_refused: bool = False) -> None:
        self.config: BackendConfig = resolve(api_key, base_url, organization, project)
        #: lifecycle checks (api/lifecycle.py): None on api.openai.com only, True on any server
        #: (with that server's own models list), False never; ``allow_shut_down``: True or model
        #: names sent even past their shutdown date
        self.check_lifecycle = check_lifecycle
        self.allow_shut_down = allow_shut_down
        #: send again a request moderation refused before (api/refusals.py); off: each try may be paid
        self.retry_refused = retry_refused
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
        """The API's base URL; for the offline backend, starts it on first use (through the
        starter registered in ``api/embedded.py``: the api layer never imports the twin)."""
        if self.config.base_url:
            return self.config.base_url
        if self._embedded_url is None:
            self._embedded_url = embedded.base_url()
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
    def _lifecycle_models(req: ImageRequest) -> list[str]:
        models = [req.model]
        if isinstance(req, ResponsesRequest):
            models.append(req.responses_model)
        return models

    def _prepare(self, req: ImageRequest, listing: dict[str, str | None] | None = None) -> tuple[HTTPCall, Meta]:
        """Validate (nothing is sent for a request the table refuses), check the model's lifecycle
        (nor for a shut-down model), encode."""
        req.validate()
        gate = self._gate()
        if gate is not None:
            gate.check(self._lifecycle_models(req), listing)
        call = encode(req)
        refusal_key = request_key(self.config.base_url or "offline", call)
        if not self.retry_refused:
            REFUSED.check(refusal_key)  # the very same request was refused: not sent, not paid again
        # the one place results take their text from: masked here, so no result, saved file or
        # store downstream ever holds the key (the server still receives the prompt as typed)
        secrets = self._secrets()
        meta = {"model": req.model, "prompt": redact(getattr(req, "prompt", None) or None, secrets),
                "params": redact({k: v for k, v in req.params().items() if k not in ("prompt",)}, secrets),
                "_secret": self.config.api_key, "_refusal_key": refusal_key}
        return call, meta

    def _secrets(self) -> tuple[str, ...]:
        return (self.config.api_key.reveal(),) if self.config.api_key else ()

    @staticmethod
    def _request_kwargs(call: HTTPCall) -> dict:
        return call.request_kwargs()

    def _error(self, resp: _http.Response) -> APIError:
        try:
            body = resp.json()
        except ValueError:
            body = resp.text
        # a server may quote the key back ("Incorrect API key provided: ..."): never into an error
        err = error_for_status(resp.status_code, redact(body, self._secrets()), dict(resp.headers))
        if getattr(err, "code", None) == "model_not_found":  # a shut-down model: name what replaces it
            _hint_replacement(err)
        return err

    @staticmethod
    def _to_fetch(req: ImageRequest, body: dict[str, Any]) -> list[str]:
        """The image URLs an answer names without bytes; each client downloads them its own way."""
        return [] if isinstance(req, ResponsesRequest) else urls_to_fetch(body)

    def _results(self, req: ImageRequest, body: dict[str, Any], meta: Meta, fetched: Mapping[str, bytes],
                 save: bool) -> list[ImageResult]:
        """The answer's images, saved first when asked (both clients end here)."""
        if isinstance(req, ResponsesRequest):
            results = responses_response(body, meta)
        else:
            results = images_response(body, meta, fetched)
        return [self._save(r) for r in results] if save else results

    def _save_folder(self) -> Path | None:
        if self.save_dir is None or self.save_dir is False:
            return None
        return data_home() / "images" if self.save_dir is True else Path(self.save_dir)

    def _save(self, result: ImageResult) -> ImageResult:
        """Write the image, then its metadata, atomically; returns the result with ``.path`` set."""
        folder = self._save_folder()
        if folder is None or result.path is not None:
            return result
        # the name is ours alone (time, a fresh id, our own index): nothing a server sent (its
        # request id, response or call ids, revised prompt) ever becomes part of a path
        stamp = time.strftime("%Y%m%d-%H%M%S")
        index = result.index if isinstance(result.index, int) and 0 <= result.index < 1000 else 0
        name = f"{stamp}-{uuid.uuid4().hex[:12]}-{index}"
        saved = result.with_meta(path=atomic_write(folder / f"{name}.{result.extension}", result.data))
        atomic_write(folder / f"{name}.json", json.dumps(saved.to_dict(), indent=1, default=str).encode())
        return saved

    @staticmethod
    def _shape(results: list[ImageResult]) -> ImageResult | ImageSet:
        return results[0] if len(results) == 1 else ImageSet(results)

    # the requests the public methods send (the same for both clients)
    @staticmethod
    def _generate(prompt: str, **options: Any) -> GenerateRequest:
        return GenerateRequest(prompt, **options)

    @staticmethod
    def _edit(prompt: str, image: Any, **options: Any) -> EditRequest:
        return EditRequest(prompt, images=image, **options)

    @staticmethod
    def _vary(image: ImageLike | ImageInput, **options: Any) -> VariationRequest:
        return VariationRequest(image, **options)

    @staticmethod
    def _respond(prompt: str, images: Any, **options: Any) -> ResponsesRequest:
        return ResponsesRequest(prompt, input_images=images, **options)

    @staticmethod
    def file_object(body: dict) -> FileObject:
        """The ``FileObject`` of a Files API answer (``client.files`` reads them with it)."""
        return FileObject.from_api(body)

    @staticmethod
    def _provenance_parts(image: Any) -> list:
        img = ImageInput.coerce(image, "image")
        if img.data is None:
            raise ParamError("image", image, "the image's bytes (a file id or URL cannot be checked)")
        return [("file", (img.name, img.data, img.mime))]

    @staticmethod
    def _upload_parts(file: Any, purpose: str) -> tuple[dict, list]:
        img = ImageInput.coerce(file, "file")
        return {"purpose": purpose}, [("file", (img.name, img.data, img.mime))]


def _hint_replacement(err: APIError) -> None:
    """Append "use X instead" to a 404 model_not_found naming a model the table knows ended."""
    import re

    message = str(getattr(err, "message", "") or "")
    m = re.search(r"`([A-Za-z0-9._:-]{1,100})`", message)
    if not m:
        return
    life = lifecycle_of(m.group(1))
    if life.shutdown_date and life.replacement:
        err.reword(f"{message} ({m.group(1)} shut down on api.openai.com on {life.shutdown_date}; "
                   f"use {life.replacement} instead)")


def transport_error(e: Exception, billable: bool = False) -> APIError:
    """A connection failure or timeout of the HTTP layer, as the one exception tree says it.
    ``billable``: a request that makes an image; a read timeout after it went out is marked ``sent``."""
    if isinstance(e, _http.SENT_TIMEOUT_ERRORS) and billable:
        return APITimeoutError("the request was sent but no answer came within the read timeout", sent=True)
    if isinstance(e, _http.TIMEOUT_ERRORS):
        return APITimeoutError()
    return APIConnectionError(f"could not connect to the API: {type(e).__name__}")
