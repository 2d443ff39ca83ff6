"""The product's shapes for benchmarks: the configured models' vector dimensions, read from the settings.

Every benchmark that synthesises embeddings sizes them with :func:`product_dims`,
so a change of the default audio or lyrics model (``CROSSFADE_AUDIO_MODEL``,
``CROSSFADE_LYRICS_MODEL``, or the defaults in ``ml/config.py``) changes every
benchmark with it and nothing needs editing.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def product_dims() -> dict[str, int]:
    """``{"audio": dim, "lyrics": dim}`` of the models the settings configure (``ml.registry.embedder_dimension``)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    from ml.registry import embedder_dimension

    config = settings.CROSSFADE
    return {"audio": embedder_dimension(config.audio), "lyrics": embedder_dimension(config.lyrics)}


def product_models() -> dict[str, str]:
    """``{"audio": name, "lyrics": name}`` of the configured models (for the reports)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    return {"audio": settings.CROSSFADE.audio.model, "lyrics": settings.CROSSFADE.lyrics.model}
