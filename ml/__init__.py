"""Crossfade's machine-learning library.

Plain Python: it never imports Django or the ``playlists`` app and never reads
the environment. Callers build the config objects in :mod:`ml.config` and the
heavy objects (embedders, indexes) and pass them in.
"""
