"""Keys for cached page fragments (``{% fragment %}``, :mod:`playlists.templatetags.fragments`).

A key is a digest of what the fragment shows, made from the rows the view
loads anyway: every stored field of each row (so an edit through the site, the
admin, an ingest or a bulk update changes it, whatever path wrote it), plus
the values a view adds (the user's ratings of those tracks, settings). The
rendering is what costs (hundreds of links and forms per page); the digest
of a few dozen rows is a small fraction of it.
"""
from __future__ import annotations

import hashlib
from typing import Iterable

from django.db.models import Model


def _stored(row: Model | tuple[object, ...] | None) -> tuple[object, ...]:
    if row is None:
        return (None,)
    if isinstance(row, tuple):
        return row
    deferred = row.get_deferred_fields()
    return (row._meta.label, *(getattr(row, field.attname) for field in row._meta.concrete_fields if field.attname not in deferred))


def rows_digest(rows: Iterable[Model | tuple[object, ...] | None], *values: object) -> str:
    """A digest of every stored field of ``rows`` (in order) and of ``values`` (their ``repr``).

    Give each model instance a template reaches (an item, its track, the
    track's artist and album…): a related row's fields are only in the digest
    when the row itself is given. A row may also be a tuple of stored values as
    the database returned them (every field the template reaches, related rows'
    included: :func:`playlists.keep.selectors.playlist_items_stored`), which
    costs far less than building the instances.
    """
    digest = hashlib.blake2b(digest_size=20)
    for row in rows:
        digest.update(repr(_stored(row)).encode())
    digest.update(repr(values).encode())
    return digest.hexdigest()
