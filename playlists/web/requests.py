"""The request a signed-in view gets, for annotations: what ``login_required`` guarantees, django-stubs cannot see."""
from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class SignedInRequest(HttpRequest):
    """A request past ``login_required``: ``user`` is a signed-in :class:`User`, never ``AnonymousUser``.

    Only views' annotations use it (the pattern django-stubs documents); Django
    builds the request objects themselves.
    """

    user: User
    #: The user's ratings when a view has read them already (``{% rating_of %}`` reads them itself otherwise).
    _crossfade_ratings: dict[int, int]
