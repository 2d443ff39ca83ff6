"""WSGI entry point for Crossfade (gunicorn under `manage.py serve`, runserver under `make dev`)."""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _collector_tuned() -> None:
    """Keeps the cyclic garbage collector out of the requests' way (settings.CROSSFADE_WEB_GC_THRESHOLD).

    Everything loaded so far (Django, the apps, the URL and template machinery) lives as long as the process:
    frozen, the collector's full scans skip it; a higher first-generation threshold makes collections rarer
    (what it did to the playlist page's tail under load: docs/site.md, *Under load*).
    """
    from django.conf import settings

    threshold = settings.CROSSFADE_WEB_GC_THRESHOLD
    if threshold > 0:
        gc.collect()
        gc.freeze()
        _, middle, oldest = gc.get_threshold()
        gc.set_threshold(threshold, middle, oldest)


_collector_tuned()
