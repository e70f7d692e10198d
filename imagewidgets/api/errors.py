"""One exception hierarchy for everything imagewidgets raises.

    ImagewidgetsError
    ├── ParamError                  a request broke a rule of the model table (no request was sent)
    ├── BudgetExceededError         a session's budget would be exceeded (no request was sent)
    ├── SessionFileError            a session export is not valid (nothing was imported)
    ├── RepeatedRefusalError        the very same request was refused by moderation before (not sent)
    └── APIError                    the server answered with an error, or could not be reached
        ├── BadRequestError         400
        │   └── ModerationError     400, code moderation_blocked
        ├── AuthenticationError     401
        ├── PermissionDeniedError   403 (e.g. organisation not verified)
        ├── NotFoundError           404
        ├── RateLimitError          429
        ├── ServerError             5xx
        ├── APIConnectionError      no answer at all
        │   └── APITimeoutError     no answer in time
        └── StreamError             an error event in the middle of a stream

Every ``APIError`` carries ``status``, ``type``, ``code``, ``param``, ``message`` and
``request_id`` and reads well in a notebook:

    >>> try:
    ...     client.generate("a cat", model="dall-e-3", n=2)   # doctest: +SKIP
    ... except ParamError as e:
    ...     print(e)
    n=2 is not allowed for dall-e-3; allowed: 1
"""

from __future__ import annotations

import html
from typing import Any

__all__ = [
    "ImagewidgetsError",
    "ParamError",
    "ModelShutDownError",
    "BudgetExceededError",
    "SessionFileError",
    "APIError",
    "BadRequestError",
    "ModerationError",
    "RepeatedRefusalError",
    "moderation_details",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "APIConnectionError",
    "APITimeoutError",
    "StreamError",
    "error_for_status",
    "RetryWaitWarning",
]


class ImagewidgetsError(Exception):
    """Base class of every error imagewidgets raises."""

    def _repr_html_(self) -> str:
        return (
            '<div style="border-left:4px solid #c0392b;padding:4px 8px;background:#fdf2f2">'
            f"<b>{type(self).__name__}</b>: {html.escape(str(self))}</div>"
        )


class ParamError(ImagewidgetsError, ValueError):
    """A parameter's value is not allowed; raised before any request is sent.

    ``ParamError("n", 2, "1", model="dall-e-3")`` reads
    ``n=2 is not allowed for dall-e-3; allowed: 1``.
    """

    def __init__(
        self,
        param: str,
        value: Any,
        allowed: str,
        *,
        model: str | None = None,
        hint: str | None = None,
        message: str | None = None,
    ) -> None:
        self.param = param
        self.value = value
        self.allowed = allowed
        self.model = model
        self.hint = hint
        if message is None:
            shown = value if isinstance(value, (int, float)) and not isinstance(value, bool) else repr(value)
            where = f" for {model}" if model else ""
            message = f"{param}={shown} is not allowed{where}"
            if hint:
                message += f" ({hint})"
            message += f"; allowed: {allowed}"
        self.message = message
        super().__init__(message)


class ModelShutDownError(ParamError):
    """The model is past its shutdown date on this server; refused before sending.

    ``Client(allow_shut_down=["gpt-image-1.5"])`` (or ``True``) sends it anyway."""

    def __init__(self, model: str, shutdown_date: str, replacement: str | None, where: str, said: str) -> None:
        self.shutdown_date = shutdown_date
        self.replacement = replacement
        instead = f"use {replacement} instead" if replacement else "choose a current model"
        super().__init__(
            "model", model, replacement or "a current model", model=model,
            message=f"{model} shut down on {where} on {shutdown_date} ({said}); {instead}. "
                    f"Nothing was sent. To send it anyway: Client(allow_shut_down=[{model!r}])",
        )


class BudgetExceededError(ImagewidgetsError):
    """The request's estimated cost is more than what is left of the session's budget."""

    def __init__(self, estimate_usd: float, remaining_usd: float, budget_usd: float) -> None:
        self.estimate_usd = estimate_usd
        self.remaining_usd = remaining_usd
        self.budget_usd = budget_usd
        super().__init__(
            f"this request is estimated at ${estimate_usd:.4f} but only ${remaining_usd:.4f} "
            f"of the ${budget_usd:.2f} budget is left; nothing was sent "
            "(raise budget_usd, or lower quality, size or n)"
        )


class RetryWaitWarning(UserWarning):
    """The client is about to wait a while before retrying (the server asked for it with
    ``Retry-After``): said at once, so a call never sits silent for long."""


class SessionFileError(ImagewidgetsError, ValueError):
    """A ``session.json`` (or another file read back) breaks a rule; ``field`` names where, as a
    path into the document (``turns[2].images[0].format``). Nothing of the file was imported."""

    def __init__(self, path: str, field: str, problem: str) -> None:
        self.path = path
        self.field = field
        self.problem = problem
        super().__init__(f"{path}: {field} {problem}; nothing was imported")


class APIError(ImagewidgetsError):
    """The server answered with an error (or could not be reached)."""

    status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message
        if status is not None:
            self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        self.body = body
        self.headers = headers or {}
        super().__init__(self._text())

    def advice(self) -> str | None:
        """What the user can do about it, when we know."""
        return None

    def reword(self, message: str) -> None:
        """Say ``message`` instead (``str(error)`` follows), e.g. with a lifecycle hint added."""
        self.message = message
        self.args = (self._text(),)

    @property
    def from_gateway(self) -> bool:
        """Whether a class gateway refused it (its own sentence, for a participant, says what to do)."""
        return (self.headers or {}).get("x-imagewidgets-gateway") == "class"

    def _text(self) -> str:
        parts = [f"{self.status} " if self.status else "", self.message]
        if self.param:
            parts.append(f" (param: {self.param})")
        if self.code:
            parts.append(f" [code: {self.code}]")
        # a gateway's refusal speaks of the class: advice about keys or the offline renderer would
        # be wrong there, and would tell a participant how to leave the class
        advice = None if self.from_gateway else self.advice()
        if advice:
            parts.append(f" — {advice}")
        if self.request_id:
            parts.append(f" (request id {self.request_id})")
        return "".join(parts)


class BadRequestError(APIError):
    status = 400


class ModerationError(BadRequestError):
    """Refused by moderation. ``stage`` ("input": the prompt or images; "output": the picture made) and
    ``categories`` are set when the API says (the Responses API's ``moderation_details``)."""

    @property
    def stage(self) -> str | None:
        stage = (moderation_details(self.body) or {}).get("moderation_stage")
        return stage if stage in ("input", "output") else None

    @property
    def categories(self) -> tuple[str, ...]:
        found = (moderation_details(self.body) or {}).get("categories")
        return tuple(str(c)[:60] for c in found[:20] if isinstance(c, str)) if isinstance(found, list) else ()

    def explained(self) -> str:
        """'refused at the input stage (categories: violence)' or what is known of it."""
        where = {"input": "the input stage (the prompt or images)",
                 "output": "the output stage (the picture made)"}.get(self.stage or "")
        text = f"refused at {where}" if where else "refused (the API did not say at which stage)"
        return text + (f"; categories: {', '.join(self.categories)}" if self.categories else "")

    def advice(self) -> str | None:
        return (f"{self.explained()}; rephrase it, or try moderation='low' on GPT image models; the very same "
                "request is not sent again unless retry_refused=True (magics: --retry-refused), as each try may "
                "be paid")


class RepeatedRefusalError(ImagewidgetsError):
    """The very same request was refused by moderation before; it is not sent again (each try may be
    paid). ``refused`` is that ``ModerationError``. ``retry_refused=True`` sends it anyway."""

    def __init__(self, refused: "ModerationError") -> None:
        self.refused = refused
        self.stage, self.categories = refused.stage, refused.categories
        super().__init__(f"this very request was refused by moderation a moment ago ({refused.explained()}); "
                         "nothing was sent: the same request would most likely be refused again, and each try may be "
                         "paid. Change the prompt or images, or pass retry_refused=True (magics: --retry-refused) "
                         "to send it anyway.")


def moderation_details(body: Any) -> dict | None:
    """The ``moderation_details`` of an error body, a failed Responses call (the Response or a stream's
    event carrying it) or a stream's error event; None when the API did not say."""
    if not isinstance(body, dict):
        return None
    inner = body.get("response")
    response: dict = inner if isinstance(inner, dict) else body
    places: list[Any] = [body, body.get("error"), response.get("error")]
    output = response.get("output")
    places += [item.get("error") for item in output if isinstance(item, dict)] if isinstance(output, list) else []
    for place in places:
        if isinstance(place, dict) and isinstance(place.get("moderation_details"), dict):
            return place["moderation_details"]
    return None


class AuthenticationError(APIError):
    status = 401

    def advice(self) -> str | None:
        return "check OPENAI_API_KEY (or unset it to use the offline renderer)"


class PermissionDeniedError(APIError):
    status = 403

    def advice(self) -> str | None:
        return (
            "GPT image models need a verified organisation: verify it at "
            "platform.openai.com/settings/organization/general, then wait a few minutes"
        )


class NotFoundError(APIError):
    status = 404


class RateLimitError(APIError):
    status = 429

    @property
    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    def advice(self) -> str | None:
        if self.code == "insufficient_quota":  # a budget, not a speed limit: waiting does not help
            return None
        wait = self.retry_after
        return f"rate limited; retry in {wait:g}s" if wait is not None else "rate limited; retry later"


class ServerError(APIError):
    status = 500


class APIConnectionError(APIError):
    def __init__(self, message: str = "could not connect to the API", **kw: Any) -> None:
        super().__init__(message, **kw)

    def advice(self) -> str | None:
        return "check the network or base_url"


class APITimeoutError(APIConnectionError):
    """No answer in time. ``sent`` is True when the whole request had gone out (a read timeout):
    the server may have made — and billed — the image, so it is not retried by default."""

    sent: bool = False

    def __init__(self, message: str = "the request timed out", *, sent: bool = False, **kw: Any) -> None:
        self.sent = sent
        super().__init__(message, **kw)

    def advice(self) -> str | None:
        if self.sent:
            return ("the request was sent, so the image may have been made and billed; it was not retried "
                    "(RetryPolicy(retry_sent_timeouts=True) retries it; raise timeout= for slow models)")
        return "image generation can take up to two minutes; raise timeout= if needed"


class StreamError(APIError):
    """The server sent an error event in the middle of a stream."""


def error_for_status(status: int, body: Any, headers: dict[str, str] | None = None) -> APIError:
    """The ``APIError`` subclass for an HTTP error answer with the API's error JSON ``body``."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        err = {"message": body if isinstance(body, str) and body else f"HTTP {status}"}
    code = err.get("code")
    if status == 400 and code == "moderation_blocked":
        cls: type[APIError] = ModerationError
    else:
        cls = {
            400: BadRequestError,
            401: AuthenticationError,
            403: PermissionDeniedError,
            404: NotFoundError,
            429: RateLimitError,
        }.get(status, ServerError if status >= 500 else APIError)
    return cls(
        str(err.get("message") or f"HTTP {status}"),
        status=status,
        type=err.get("type"),
        code=code,
        param=err.get("param"),
        request_id=headers.get("x-request-id"),
        body=body,
        headers=headers,
    )
