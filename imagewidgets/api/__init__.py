"""The API layer: talking to OpenAI's image APIs (or any compatible server, the offline one included).

Requests (``requests``) are validated against the model table (``models``, ``validation``), encoded
(``wire``), sent through the one HTTP module (``_http``) by ``client``, and decoded (``decode``,
``streams``) into results (``results``) with their cost (``cost``); ``errors`` is the one exception
tree and ``config`` says which backend is used.

May import: the standard library, Pillow, httpx2 (only in ``_http``). Never imports the session,
magics, widgets or offline layers: with no key configured a client reaches the embedded offline
backend through the starter registered in ``embedded`` (``imagewidgets/__init__.py``, above both
layers, registers one that loads the twin on first use). This ``__init__`` imports nothing, so
``import imagewidgets.api.models`` stays light.

    >>> from imagewidgets.api.models import get_model
    >>> get_model("dall-e-2").name
    'dall-e-2'
"""
