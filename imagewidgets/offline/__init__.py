"""The offline backend: an HTTP app speaking OpenAI's image API, drawing pictures procedurally (no AI).

Nothing heavy is imported here; import ``imagewidgets.offline.render`` or the app module directly.
"""
