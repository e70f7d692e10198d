"""The API layer: talking to OpenAI's image APIs (or any compatible server, the offline one included).

Requests (``requests``, their parameters declared with ``params`` and listed by ``registry``) are
validated against the model table (``models``, ``validation``) by whoever sends them, encoded
(``wire``), sent through the one HTTP module (``_http``) by ``client``, and decoded (``decode``,
``streams``) into results (``results``) priced from their usage (``usage``, ``cost``); ``errors`` is
the one exception tree, ``config`` says which backend is used and ``lifecycle`` holds the one clock.
No module here imports one that leads back to it (``tests/test_layout.py`` checks it).

May import: the standard library, Pillow, httpx2 (only in ``_http``). Never imports the session,
magics, widgets or offline layers: with no key configured a client reaches the embedded offline
backend through the starter registered in ``embedded`` (``imagewidgets/__init__.py``, above both
layers, registers one that loads the twin on first use). This ``__init__`` imports nothing, so
``import imagewidgets.api.models`` stays light.

    >>> from imagewidgets.api.models import get_model
    >>> get_model("dall-e-2").name
    'dall-e-2'
"""
