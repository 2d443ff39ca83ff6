"""Writes the catalogue as an evaluation manifest for ``python -m ml.evaluate``.

Why: the evaluation reads a CSV (track_id, label, group, audio_path, lyrics);
exporting the catalogue (label = primary genre tag, group = artist) lets the
same artist-filtered p@k be measured on a user's own library or the demo.
Spotify fields are not exported.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from playlists.catalogue.selectors import manifest_rows

COLUMNS = ("track_id", "label", "group", "audio_path", "lyrics")


class Command(BaseCommand):
    help = "Write the catalogue as an evaluation manifest CSV (label = genre, group = artist)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="the CSV to write")
        parser.add_argument("--dry-run", action="store_true", help="count the rows, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        rows, untagged = manifest_rows()
        if not rows:
            raise CommandError("no track has a genre tag: nothing to evaluate against")
        out: Path = options["out"]
        if not options["dry_run"]:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                with open(out, "w", newline="", encoding="utf-8") as handle:
                    writer = csv.DictWriter(handle, fieldnames=COLUMNS)
                    writer.writeheader()
                    writer.writerows(rows)
            except OSError as error:
                raise CommandError(f"cannot write {out}: {error.strerror or error}") from None
        if options["verbosity"] >= 1:
            labels = len({r["label"] for r in rows})
            groups = len({r["group"] for r in rows})
            action = "would write" if options["dry_run"] else "wrote"
            self.stdout.write(self.style.SUCCESS(f"{action} {len(rows)} tracks ({labels} genres, {groups} artists) to {out}"))
            if untagged:
                self.stdout.write(self.style.WARNING(f"  {untagged} tracks without a genre tag left out"))
