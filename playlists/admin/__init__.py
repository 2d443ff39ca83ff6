"""The catalogue's control room: every model, with search, filters, embedding state and background jobs.

Django's admin autodiscovery imports this package; each module registers its models.
"""
from playlists.admin import catalogue, jobs, listening, playlists, spotify, training  # noqa: F401
