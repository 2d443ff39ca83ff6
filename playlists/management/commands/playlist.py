"""Makes a playlist from the command line, with every seed kind and control the site offers.

Why: scripts, cron jobs and people without a browser want "20 tracks like
these, no ballads, smooth flow" as a saved playlist or an M3U8 file. The work
is the same service the site and the API call.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ml.errors import MLError
from playlists.errors import CrossfadeError
from playlists.generation.build import playlist_build
from playlists.generation.services import playlist_generate
from playlists.generation.settings import PlaylistSettings
from playlists.generation.uploads import upload_analyse
from playlists.keep.export import playlist_export
from playlists.models import Artist, Playlist, Track


def _pairs(values: list[str], flag: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for value in values:
        name, _, number = value.partition("=")
        try:
            out[name.strip()] = float(number)
        except ValueError:
            raise CommandError(f"{flag} takes NAME=NUMBER, e.g. {flag} tempo=120; got {value!r}") from None
    return out


class Command(BaseCommand):
    help = "Generate a playlist from seeds (tracks, artists, a theme, an audio file, or a path A -> B) and controls; save it for a user or print/export it."

    def add_arguments(self, parser: CommandParser) -> None:
        seeds = parser.add_argument_group("seeds (combine freely)")
        seeds.add_argument("--track", type=int, action="append", default=[], help="seed track id (up to 5)")
        seeds.add_argument("--artist", action="append", default=[], help="seed artist name or id")
        seeds.add_argument("--text", default="", help="a text prompt: a theme matched against lyrics, or a sound (see --text-mode)")
        seeds.add_argument("--text-mode", choices=["lyrics", "sound", "both"], default="lyrics", help="match --text against lyrics, the audio tags (sound), or both")
        seeds.add_argument("--file", type=Path, help="an audio file analysed on the fly (not catalogued)")
        seeds.add_argument("--path", type=int, nargs="+", metavar="TRACK", help="path mode: FROM [WAYPOINT...] TO track ids")
        controls = parser.add_argument_group("controls")
        controls.add_argument("--length", type=int, default=20)
        controls.add_argument("--balance", type=float, default=None, help="audio share: 1 sound only, 0 lyrics only")
        controls.add_argument("--diversity", type=float, default=0.0, help="0 closest, 1 most varied")
        controls.add_argument("--max-per-artist", type=int)
        controls.add_argument("--exclude-artist", action="append", default=[])
        controls.add_argument("--exclude-album", action="append", default=[])
        controls.add_argument("--exclude-genre", action="append", default=[])
        controls.add_argument("--no-explicit", action="store_true")
        controls.add_argument("--language", action="append", default=[], help="keep lyrics in these languages (instrumentals pass)")
        controls.add_argument("--min", action="append", default=[], metavar="ATTR=N", help="e.g. --min tempo=100")
        controls.add_argument("--max", action="append", default=[], metavar="ATTR=N")
        controls.add_argument("--target", action="append", default=[], metavar="ATTR=N")
        controls.add_argument("--leave-out-seeds", action="store_true")
        controls.add_argument("--keep-duplicates", action="store_true")
        controls.add_argument("--order", choices=["score", "flow"], default="flow")
        controls.add_argument("--taste", type=float, default=0.0, help="bend toward --user's likes (0..1)")
        output = parser.add_argument_group("output")
        output.add_argument("--user", help="save the playlist for this username (and use their taste)")
        output.add_argument("--name", default="")
        output.add_argument("--export", choices=["m3u8", "xspf", "json"], help="also write the playlist in this format")
        output.add_argument("--out", type=Path, help="file for --export (default: stdout)")
        output.add_argument("--dry-run", action="store_true", help="show the playlist without saving it")

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}; create one with `manage.py createsuperuser`")
        elif not options["dry_run"]:
            raise CommandError("say whose playlist it is with --user NAME, or use --dry-run to only show it")
        attributes: dict[str, dict[str, float]] = {}
        messages: Sequence[str]
        for bound in ("min", "max", "target"):
            for name, value in _pairs(options[bound], f"--{bound}").items():
                attributes.setdefault(name, {})[bound] = value
        try:
            controls = dict(
                seed_artist_ids=[self._artist_id(a) for a in options["artist"]],
                seed_text=options["text"],
                seed_text_mode=options["text_mode"],
                path=options["path"] or [],
                diversity=options["diversity"],
                max_per_artist=options["max_per_artist"],
                exclude_artists=options["exclude_artist"],
                exclude_albums=options["exclude_album"],
                exclude_genres=options["exclude_genre"],
                exclude_explicit=options["no_explicit"],
                languages=options["language"],
                attributes=attributes,
                include_seeds=not options["leave_out_seeds"],
                dedupe=not options["keep_duplicates"],
                order=options["order"],
                taste=options["taste"],
            )
            if options["file"]:
                path = options["file"]
                if not path.is_file():
                    raise CommandError(f"{path} is not a file")
                with path.open("rb") as handle:
                    controls["seed_audio"] = [upload_analyse(path.name, iter(lambda: handle.read(1 << 20), b""), size=path.stat().st_size)]
            balance = django_settings.CROSSFADE.default_balance if options["balance"] is None else options["balance"]
            settings = PlaylistSettings(seed_ids=options["track"], length=options["length"], balance=balance, **controls)
            if options["dry_run"]:
                built = playlist_build(settings, user=user)
                rows = [(Track.objects.select_related("artist").get(id=i.track_id), i.is_seed, i.score, i.explanation) for i in built.items]
                messages, title = built.messages, options["name"] or built.name
                playlist = None
            else:
                assert user is not None  # without --dry-run a --user was required above
                playlist = playlist_generate(owner=user, settings=settings, name=options["name"])
                rows = [(i.track, i.is_seed, i.score, i.explanation) for i in playlist.items.select_related("track__artist").order_by("position")]
                messages, title = playlist.generation_messages, playlist.name
        except (CrossfadeError, MLError) as error:
            raise CommandError(str(error)) from None
        if verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(f"{title}: {len(rows)} tracks" + ("" if playlist is None else f" (saved as playlist {playlist.id})")))
            for position, (track, is_seed, score, explanation) in enumerate(rows, start=1):
                mark = "seed " if is_seed else (f"{score:5.3f}" if score is not None else "  -  ")
                self.stdout.write(f"{position:3d}. {mark}  {track}  ·  {explanation.get('why', '')}")
            for message in messages:
                self.stdout.write(self.style.WARNING(message))
        if options["export"]:
            if playlist is None:
                raise CommandError("--export needs a saved playlist; drop --dry-run")
            text, _, _ = playlist_export(Playlist.objects.get(id=playlist.id), fmt=options["export"])
            if options["out"]:
                options["out"].write_text(text, encoding="utf-8")
                if verbosity >= 1:
                    self.stdout.write(self.style.SUCCESS(f"Wrote {options['out']}"))
            else:
                self.stdout.write(text, ending="")

    @staticmethod
    def _artist_id(value: str) -> int:
        if value.isdigit() and Artist.objects.filter(id=int(value)).exists():
            return int(value)
        artist = Artist.objects.filter(name__iexact=value.strip()).first()
        if artist is None:
            raise CommandError(f"no artist named {value!r}")
        return artist.id

