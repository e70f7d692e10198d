"""imagewidgets: OpenAI's image generation and editing APIs as first-class citizens of Jupyter.

    %load_ext imagewidgets
    %imagine a lighthouse at dusk, watercolour --size 1536x1024 --quality low
    %edit add a red sailing boat

or in Python:

    >>> import imagewidgets as iw
    >>> s = iw.Session("harbour")                     # doctest: +SKIP
    >>> img = s.imagine("a lighthouse at dusk")       # doctest: +SKIP
    >>> s.edit("add a red sailing boat")              # doctest: +SKIP

With no ``OPENAI_API_KEY`` everything runs on the offline renderer on this machine (procedural
pictures, not AI); with a key, the same code talks to OpenAI or any compatible ``base_url``.

Importing this package is light: widgets, the offline server and IPython load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._lazy import lazy_exports
from .api import embedded as _embedded
from .api import provenance as _provenance
from .session import progress as _progress

__version__ = "0.3.0"

# public name -> module that defines it (imported on first access)
_EXPORTS: dict[str, str] = {
    "APIConnectionError": "api.errors",
    "APIError": "api.errors",
    "APITimeoutError": "api.errors",
    "AsyncClient": "api.client",
    "AuthenticationError": "api.errors",
    "BadRequestError": "api.errors",
    "Batch": "api.batches",
    "BatchJob": "session.batch",
    "BudgetExceededError": "api.errors",
    "Client": "api.client",
    "CompletedEvent": "api.results",
    "DEFAULT_MODEL": "api.models",
    "EditRequest": "api.requests",
    "Estimate": "api.cost",
    "FileObject": "api.client",
    "Gallery": "widgets",
    "GenerateRequest": "api.requests",
    "ImageInput": "api.inputs",
    "ImageResult": "api.results",
    "ImageSet": "api.results",
    "ImageStream": "api.streams",
    "ImageStudio": "widgets",
    "ImagewidgetsError": "api.errors",
    "LiveImage": "widgets",
    "MODELS": "api.models",
    "MaskPainter": "widgets",
    "ModelShutDownError": "api.errors",
    "ModerationError": "api.errors",
    "NotFoundError": "api.errors",
    "ParamError": "api.errors",
    "PartialImageEvent": "api.results",
    "PermissionDeniedError": "api.errors",
    "Preview": "api.preview",
    "QueueEvent": "api.results",
    "RateLimitError": "api.errors",
    "RepeatedRefusalError": "api.errors",
    "ResponsesRequest": "api.requests",
    "RetiredModelWarning": "api.lifecycle",
    "RetryPolicy": "api.client",
    "ServerError": "api.errors",
    "Session": "session.session",
    "SessionFileError": "api.errors",
    "StreamError": "api.errors",
    "Turn": "session.session",
    "Usage": "api.usage",
    "VariationRequest": "api.requests",
    "configure": "session.session",
    "estimate": "api.cost",
    "get_model": "api.models",
    "set_preview": "api.preview",
    "load_ipython_extension": "magics.magics",
    "unload_ipython_extension": "magics.magics",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


def _kernel_progress(label: str, total: int) -> Any:
    """Sweeps' and batch jobs' progress as a widget bar in a notebook kernel (the session layer
    reports through ``session.progress``; widgets and IPython load only when a sweep runs)."""
    from .widgets.progress import kernel_progress

    return kernel_progress(label, total)


_progress.set_display(_kernel_progress)


def _start_offline() -> str:
    """The embedded offline twin's base URL, started on first use. Registered here, above both
    layers, because the api layer must not import the offline layer (which reads api's costs and
    results); the twin's modules load only when a client with no key sends its first request."""
    from .offline.server import embedded_base_url

    return embedded_base_url()


_embedded.set_starter(_start_offline)


def _configured_provenance_check(image: Any) -> Any:
    """``img.provenance()`` with no client: a ``Client()`` of the configured backend for the one check
    (the API layer's results never import the client that builds them; this package wires it)."""
    from .api.client import Client

    with Client() as client:
        return client.check_provenance(image)


_provenance.set_configured_check(_configured_provenance_check)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .api.batches import Batch
    from .api.client import AsyncClient, Client, FileObject, RetryPolicy
    from .api.lifecycle import RetiredModelWarning
    from .api.cost import Estimate, estimate
    from .api.errors import *  # noqa: F403
    from .api.models import DEFAULT_MODEL, MODELS, get_model
    from .api.inputs import ImageInput
    from .api.requests import EditRequest, GenerateRequest, ResponsesRequest, VariationRequest
    from .api.preview import Preview, set_preview
    from .api.results import CompletedEvent, ImageResult, ImageSet, PartialImageEvent
    from .api.usage import Usage
    from .session.batch import BatchJob
    from .session.session import Session, Turn, configure
    from .api.streams import ImageStream
    from .widgets import Gallery, ImageStudio, LiveImage, MaskPainter
