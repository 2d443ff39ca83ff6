"""The site's forms: each turns a request's fields into typed values, once, for one service call.

Playlist forms end in :class:`~playlists.generation.settings.PlaylistSettings`,
which hold the rules of every control; a rule it refuses comes back as a
form error, so the page shows it beside the form.
"""
from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings as django_settings
from django.db.models import QuerySet
from django.utils.datastructures import MultiValueDict

from playlists.catalogue.selectors import TRACK_SORTS
from playlists.errors import CrossfadeError
from playlists.generation.settings import ATTRIBUTE_BOUNDS, DEFAULT_LENGTH, MAX_LENGTH, MAX_SEED_TEXT, MAX_SEEDS, PlaylistSettings
from playlists.models import Artist, Track

#: Attributes the builder offers (the API takes every one of ATTRIBUTES).
FORM_ATTRIBUTES = ("tempo", "energy", "danceability", "valence", "acousticness", "popularity")


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class BalanceForm(forms.Form):
    """``?balance=`` on pages that show similar tracks; a bad value falls back to the default."""

    balance = forms.FloatField(min_value=0.0, max_value=1.0, required=False)

    def balance_or_default(self) -> float:
        if self.is_valid() and self.cleaned_data.get("balance") is not None:
            return float(self.cleaned_data["balance"])
        return float(django_settings.CROSSFADE.default_balance)


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True)
    genre = forms.CharField(required=False, max_length=300, strip=True)
    language = forms.CharField(required=False, max_length=8, strip=True)
    lyrics = forms.ChoiceField(required=False, choices=[("", "any"), ("with", "with lyrics"), ("without", "instrumental")])
    tag = forms.CharField(required=False, max_length=100, strip=True)
    vocals = forms.ChoiceField(required=False, choices=[("", "any"), ("with", "with vocals"), ("without", "no vocals")])
    sort = forms.ChoiceField(required=False, choices=[("", "catalogue order")] + [(f"{d}{c}", f"{c}{' descending' if d else ''}") for c in TRACK_SORTS for d in ("", "-")])

    def filters(self) -> dict[str, str]:
        """Every filter as a string ("" when unset or unusable), in the order the page shows them."""
        data = self.cleaned_data if self.is_valid() else {}
        return {name: data.get(name) or "" for name in self.fields}


class ThemeSearchForm(forms.Form):
    # No length limit here: theme search itself says what is too long.
    q = forms.CharField(required=False, strip=True)


class SeedSearchForm(forms.Form):
    """The builder's "find seed tracks" box, and the chosen seeds carried along in the query string."""

    q = forms.CharField(required=False, max_length=200, strip=True)
    q_to = forms.CharField(required=False, max_length=200, strip=True)
    seed = forms.TypedMultipleChoiceField(required=False, coerce=int, choices=())
    artist = forms.TypedMultipleChoiceField(required=False, coerce=int, choices=())
    to = forms.IntegerField(required=False, min_value=1)
    theme = forms.CharField(required=False, max_length=MAX_SEED_TEXT, strip=True)
    taste = forms.FloatField(required=False, min_value=0.0, max_value=1.0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id is acceptable here; unknown ones simply find no track.
        for name in ("seed", "artist"):
            self.fields[name].valid_value = lambda value: str(value).isdigit()  # type: ignore[attr-defined]

    def chosen_ids(self) -> list[int]:
        return list(self.cleaned_data.get("seed") or []) if self.is_valid() else []


class PlaylistForm(forms.Form):
    #: Bound to ``request.POST`` (unbound: Django's empty MultiValueDict), so the seeds' order is in ``getlist``.
    data: MultiValueDict[str, Any]

    seeds = forms.ModelMultipleChoiceField(queryset=Track.objects.all(), required=False)
    length = forms.IntegerField(initial=DEFAULT_LENGTH)
    balance = forms.FloatField(initial=0.5, help_text="0 = lyrics only, 1 = sound only")
    name = forms.CharField(max_length=200, required=False)

    # Seeds of other kinds, combinable with the tracks.
    seed_artists = forms.ModelMultipleChoiceField(queryset=Artist.objects.all(), required=False)
    seed_text = forms.CharField(max_length=MAX_SEED_TEXT, required=False, help_text="a theme matched against lyrics, e.g. “leaving home”")
    seed_file = forms.FileField(
        required=False,
        help_text="an audio file analysed on the fly, not added to the catalogue",
        error_messages={"empty": "The audio file you chose is empty (0 bytes); choose an MP3, FLAC, Ogg, WAV or M4A file.", "invalid": "That is not a file upload; choose an audio file."},
    )
    path_to = forms.ModelChoiceField(queryset=Track.objects.all(), required=False, help_text="path mode: from the first seed to this track, through the other seeds")
    # Controls.
    diversity = forms.FloatField(required=False, initial=0.0)
    max_per_artist = forms.IntegerField(required=False)
    exclude_artists = forms.CharField(required=False, help_text="comma-separated")
    exclude_albums = forms.CharField(required=False, help_text="comma-separated")
    exclude_genres = forms.CharField(required=False, help_text="comma-separated")
    exclude_explicit = forms.BooleanField(required=False)
    languages = forms.CharField(required=False, help_text="comma-separated codes, e.g. en, ru; instrumentals always pass")
    leave_out_seeds = forms.BooleanField(required=False)
    keep_duplicates = forms.BooleanField(required=False)
    order = forms.ChoiceField(choices=[("score", "closest first"), ("flow", "smooth flow")], required=False)
    taste = forms.FloatField(required=False, initial=0.0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for bound in ATTRIBUTE_BOUNDS:
            for name in FORM_ATTRIBUTES:
                self.fields[f"{bound}_{name}"] = forms.FloatField(required=False, error_messages={"invalid": f"{bound} {name} must be a number"})

    #: The fields that make seeds: one of them must be given.
    SEED_FIELDS = ("seeds", "seed_artists", "seed_text", "seed_file", "path_to")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if any(name in self.errors for name in self.SEED_FIELDS):
            # A seed was given but refused (too many, an empty file...): that error says what to do; "choose one" would contradict it.
            return data
        if not (data.get("seeds") or data.get("seed_artists") or (data.get("seed_text") or "").strip() or data.get("seed_file")):
            raise forms.ValidationError("Choose at least one seed track, an artist, a theme or an audio file.")
        return data

    #: Fields whose errors the builder shows beside them; the others are listed above the form.
    INLINE_ERRORS = ("seeds", "length", "seed_text", "seed_file")

    def other_errors(self) -> list[str]:
        return [str(message) for name, errors in self.errors.items() if name != "__all__" and name not in self.INLINE_ERRORS for message in errors]

    def clean_seeds(self) -> QuerySet[Track]:
        seeds: QuerySet[Track] = self.cleaned_data["seeds"]
        if len(seeds) > MAX_SEEDS:
            raise forms.ValidationError(f"Choose at most {MAX_SEEDS} seed tracks.")
        return seeds

    def settings(self, *, seed_audio: list[dict[str, Any]] | None = None) -> PlaylistSettings:
        """The cleaned form as settings; raises :class:`~playlists.errors.CrossfadeError` for a value a control cannot take."""
        data = self.cleaned_data
        chosen = {t.id for t in data.get("seeds") or []}
        ordered = [int(s) for s in self.data.getlist("seeds") if str(s).isdigit() and int(s) in chosen]
        attributes: dict[str, dict[str, float]] = {}
        for name in FORM_ATTRIBUTES:
            for bound in ATTRIBUTE_BOUNDS:
                if data.get(f"{bound}_{name}") is not None:
                    attributes.setdefault(name, {})[bound] = data[f"{bound}_{name}"]
        path = ordered + [data["path_to"].id] if data.get("path_to") else []
        return PlaylistSettings(
            seed_ids=[] if path else ordered,
            seed_artist_ids=[a.id for a in data.get("seed_artists") or []],
            seed_text=data.get("seed_text") or "",
            seed_audio=seed_audio or [],
            path=path,
            length=data["length"],
            balance=data["balance"],
            diversity=data.get("diversity") or 0.0,
            max_per_artist=data.get("max_per_artist"),
            exclude_artists=_split(data.get("exclude_artists")),
            exclude_albums=_split(data.get("exclude_albums")),
            exclude_genres=_split(data.get("exclude_genres")),
            exclude_explicit=bool(data.get("exclude_explicit")),
            languages=_split(data.get("languages")),
            include_seeds=not data.get("leave_out_seeds"),
            dedupe=not data.get("keep_duplicates"),
            order=data.get("order") or "score",
            taste=data.get("taste") or 0.0,
            attributes=attributes,
        )


class QueueSaveForm(forms.Form):
    """The player's "Save as a playlist": its queue's track ids in order, and a name."""

    tracks = forms.CharField(max_length=20_000)
    name = forms.CharField(required=False, max_length=200, strip=True)

    def clean_tracks(self) -> list[int]:
        ids = [int(part) for part in self.cleaned_data["tracks"].split(",") if part.strip().isdigit()]
        if not ids:
            raise forms.ValidationError("the queue is empty")
        return ids[:MAX_LENGTH]


class PlaylistRenameForm(forms.Form):
    name = forms.CharField(max_length=200)


class PlaylistAdjustForm(forms.Form):
    """The playlist page's "Adjust" controls; a field left out of the request keeps its stored value."""

    length = forms.IntegerField(required=False, max_value=MAX_LENGTH)
    balance = forms.FloatField(required=False)
    diversity = forms.FloatField(required=False)
    taste = forms.FloatField(required=False)
    max_per_artist = forms.IntegerField(required=False)
    order = forms.ChoiceField(required=False, choices=[("score", "closest first"), ("flow", "smooth flow")])
    #: Ticked to go on although the listener moved or removed tracks by hand (regenerating replaces those edits).
    replace_edits = forms.BooleanField(required=False)

    def changes(self) -> dict[str, Any]:
        """The controls the request changes; an empty max_per_artist means no cap."""
        changes: dict[str, Any] = {}
        for name in self.fields:
            if name == "replace_edits":
                continue
            if name not in self.data:
                continue
            value = self.cleaned_data.get(name)
            if name == "max_per_artist" and value is None:
                changes[name] = None
            elif value is not None and value != "":
                changes[name] = value
        return changes


class ItemMoveForm(forms.Form):
    offset = forms.IntegerField()


class PlaylistReorderForm(forms.Form):
    order = forms.CharField()

    def clean_order(self) -> list[int]:
        try:
            return [int(part) for part in self.cleaned_data["order"].split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError("an order is a comma-separated list of item ids") from None


class RatingForm(forms.Form):
    VALUES = {"like": 1, "dislike": -1, "clear": 0}

    rating = forms.ChoiceField(choices=[(name, name) for name in VALUES])
    next = forms.CharField(required=False)

    def value(self) -> int:
        return self.VALUES[self.cleaned_data["rating"]]

    def next_url(self) -> str:
        """Where to go back to: a path on this site only, never another host."""
        target = self.cleaned_data.get("next") or ""
        return target if target.startswith("/") and not target.startswith("//") else ""


class TokenForm(forms.Form):
    name = forms.CharField(required=False, max_length=100)
    revoke = forms.IntegerField(required=False)


class SubsonicPasswordForm(forms.Form):
    """The password Subsonic players log in with (checked by :func:`playlists.accounts.subsonic.subsonic_password_set`)."""

    subsonic_password = forms.CharField(required=False, max_length=128, strip=False, widget=forms.PasswordInput)
    clear = forms.BooleanField(required=False)


class CoverSizeForm(forms.Form):
    size = forms.IntegerField(required=False, min_value=16, max_value=2048)


class ReindexForm(forms.Form):
    full = forms.BooleanField(required=False)


class MapForm(forms.Form):
    colour = forms.CharField(required=False, max_length=20)
    playlist = forms.IntegerField(required=False)
    retry = forms.BooleanField(required=False)


def form_error_message(error: CrossfadeError | forms.ValidationError) -> str:
    return error.messages[0] if isinstance(error, forms.ValidationError) else str(error)
