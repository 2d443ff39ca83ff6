"""Builds Crossfade's own demo catalogue so a newcomer gets playlists within minutes.

Why: a fresh install has no music. The demo synthesises a small library of
real audio files in distinct styles with original lyrics, ingests it through
the same path as a user's library, indexes it and creates a login.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from playlists.demo.services import demo_catalogue_build, demo_user_ensure
from playlists.management.progress import ProgressBars


class Command(BaseCommand):
    help = "Generate the demo music library, ingest it, index it and print a login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--folder", default=str(settings.CROSSFADE_DATA_DIR / "demo" / "music"), help="where the demo audio files go")
        parser.add_argument("--seed", type=int, default=7, help="random seed of the synthesis (the same seed gives the same library)")
        parser.add_argument("--no-index", action="store_true", help="skip the reindex")
        parser.add_argument("--no-user", action="store_true", help="do not create the demo login")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        bars = ProgressBars(verbosity)
        try:
            summary = demo_catalogue_build(
                Path(options["folder"]), seed=options["seed"], progress=bars.callback("synthesise"), ingest_progress=bars.callback("ingest")
            )
        finally:
            bars.close()
        if verbosity >= 1:
            made = "generated" if summary.generated else "already there"
            ingest = summary.ingest
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo library: {summary.tracks} tracks in {summary.folder} ({made}); "
                    f"ingest: {ingest.added} added, {ingest.updated} updated, {ingest.unchanged} unchanged, {ingest.failed} failed."
                )
            )
        if not options["no_index"]:
            call_command("reindex", verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)
        if not options["no_user"]:
            username, password = demo_user_ensure()
            self.stdout.write(self.style.SUCCESS(f"Log in at http://127.0.0.1:{settings.CROSSFADE_PORT}/accounts/login/ as  {username} / {password}"))
            if verbosity >= 1:
                self.stdout.write(
                    f"Music players (Subsonic): server http://127.0.0.1:{settings.CROSSFADE_PORT}, user {username}; "
                    f"set a Subsonic password or make an API key at /account/tokens/"
                )
