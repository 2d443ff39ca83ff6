"""Imports a Kaggle Spotify CSV (Spotify Tracks Dataset or spotify-recommendation) as catalogue metadata.

Why: users arrive with these files; their rows give audio features, genres,
popularity and like/dislike labels to tracks already in the catalogue, and
metadata-only tracks for the rest, which filters and targets can use.
Nothing read here trains a model.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from playlists.errors import KaggleSchemaError
from playlists.management.progress import ProgressBars
from playlists.metadata.kaggle import kaggle_file_import

MAX_LISTED = 50
MATCH_NAMES = {"spotify_id": "Spotify id", "artist_title": "artist + title"}


class Command(BaseCommand):
    help = "Match the rows of a Kaggle Spotify CSV to catalogue tracks (Spotify id, then artist + title) and add the rest as metadata-only tracks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file: Spotify Tracks Dataset (dataset.csv) or spotify-recommendation (data_with_ids.csv)")
        parser.add_argument("--dry-run", action="store_true", help="report matches and rejections without writing")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        bars = ProgressBars(verbosity)
        try:
            summary = kaggle_file_import(Path(options["file"]), dry_run=options["dry_run"], progress=bars.callback("import"))
        except KaggleSchemaError as error:
            raise CommandError(str(error)) from None
        finally:
            bars.close()
        if verbosity < 1:
            return
        prefix = "Would import" if summary.dry_run else "Imported"
        how = ", ".join(f"{n} by {MATCH_NAMES.get(k, k)}" for k, n in summary.matched_by.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix} {summary.rows} rows ({summary.schema}): {summary.matched} matched"
                f"{f' ({how})' if how else ''}, {summary.created} created as metadata-only tracks, {summary.rejected} rejected."
            )
        )
        if summary.duplicates:
            self.stdout.write(f"  {summary.duplicates} rows repeat an earlier track id (another genre): their genres were merged.")
        shown = summary.rejections if verbosity >= 2 else summary.rejections[:MAX_LISTED]
        for line, reason in shown:
            self.stdout.write(self.style.WARNING(f"  line {line}: {reason}"))
        if len(shown) < len(summary.rejections):
            self.stdout.write(self.style.WARNING(f"  … and {len(summary.rejections) - len(shown)} more (-v 2 lists them all)."))
