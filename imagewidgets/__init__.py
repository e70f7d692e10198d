"""imagewidgets: OpenAI's image APIs as first-class citizens of Jupyter (work in progress)."""

__version__ = "0.1.0"
