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

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_EXPORTS: dict[str, str] = {
    "APIConnectionError": "errors",
    "APIError": "errors",
    "APITimeoutError": "errors",
    "AsyncClient": "client",
    "AuthenticationError": "errors",
    "BadRequestError": "errors",
    "BudgetExceededError": "errors",
    "Client": "client",
    "CompletedEvent": "results",
    "DEFAULT_MODEL": "models",
    "EditRequest": "requests",
    "Estimate": "cost",
    "FileObject": "client",
    "Gallery": "widgets",
    "GenerateRequest": "requests",
    "ImageInput": "requests",
    "ImageResult": "results",
    "ImageSet": "results",
    "ImageStream": "streams",
    "ImageStudio": "widgets",
    "ImagewidgetsError": "errors",
    "LiveImage": "widgets",
    "MODELS": "models",
    "MaskPainter": "widgets",
    "ModerationError": "errors",
    "NotFoundError": "errors",
    "ParamError": "errors",
    "PartialImageEvent": "results",
    "PermissionDeniedError": "errors",
    "RateLimitError": "errors",
    "ResponsesRequest": "requests",
    "RetryPolicy": "client",
    "ServerError": "errors",
    "Session": "session",
    "StreamError": "errors",
    "Turn": "session",
    "Usage": "results",
    "VariationRequest": "requests",
    "configure": "session",
    "estimate": "cost",
    "get_model": "models",
    "load_ipython_extension": "magics",
    "unload_ipython_extension": "magics",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .client import AsyncClient, Client, FileObject, RetryPolicy
    from .cost import Estimate, estimate
    from .errors import *  # noqa: F403
    from .models import DEFAULT_MODEL, MODELS, get_model
    from .requests import EditRequest, GenerateRequest, ImageInput, ResponsesRequest, VariationRequest
    from .results import CompletedEvent, ImageResult, ImageSet, PartialImageEvent, Usage
    from .session import Session, Turn, configure
    from .streams import ImageStream
    from .widgets import Gallery, ImageStudio, LiveImage, MaskPainter
