"""Django set up for a benchmark on a data folder with a serving index, or on the demo catalogue built for it.

    with demo_catalogue(args.data_dir, prefix="crossfade-bench-flow-") as folder:
        ...  # Django is set up on ``folder``; the index serves

Without a folder the demo catalogue (the one ``manage.py demo`` makes, with
its covers) is written, ingested and indexed in a temporary folder, which is removed
when the block ends; a folder given is used as it is and kept.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def demo_catalogue(data_dir: Path | None, *, prefix: str) -> Iterator[Path]:
    folder = data_dir or Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["CROSSFADE_DATA_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    try:
        if data_dir is None:
            from django.core.management import call_command

            from playlists.catalogue.reindex import index_rebuild
            from playlists.demo.services import demo_catalogue_build

            call_command("migrate", verbosity=0)
            demo_catalogue_build(folder / "demo" / "music")
            index_rebuild()
        yield folder
    finally:
        if data_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
