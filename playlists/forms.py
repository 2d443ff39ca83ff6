from __future__ import annotations

from django import forms

from playlists.models import Artist, Track
from playlists.services import MAX_PLAYLIST_LENGTH, MAX_SEEDS

FORM_ATTRIBUTES = ("tempo", "energy", "danceability", "valence", "acousticness", "popularity")


class PlaylistForm(forms.Form):
    seeds = forms.ModelMultipleChoiceField(queryset=Track.objects.all(), required=False)
    length = forms.IntegerField(min_value=1, max_value=MAX_PLAYLIST_LENGTH, initial=20)
    balance = forms.FloatField(min_value=0.0, max_value=1.0, initial=0.5, help_text="0 = lyrics only, 1 = sound only")
    name = forms.CharField(max_length=200, required=False)

    # Seeds of other kinds, combinable with the tracks.
    seed_artists = forms.ModelMultipleChoiceField(queryset=Artist.objects.all(), required=False)
    seed_text = forms.CharField(max_length=500, required=False, help_text="a theme matched against lyrics, e.g. “leaving home”")
    seed_file = forms.FileField(required=False, help_text="an audio file analysed on the fly, not added to the catalogue")
    path_to = forms.ModelChoiceField(queryset=Track.objects.all(), required=False, help_text="path mode: from the first seed to this track, through the other seeds")
    # Controls.
    diversity = forms.FloatField(min_value=0.0, max_value=1.0, required=False, initial=0.0)
    max_per_artist = forms.IntegerField(min_value=1, max_value=MAX_PLAYLIST_LENGTH, required=False)
    exclude_artists = forms.CharField(required=False, help_text="comma-separated")
    exclude_albums = forms.CharField(required=False, help_text="comma-separated")
    exclude_genres = forms.CharField(required=False, help_text="comma-separated")
    exclude_explicit = forms.BooleanField(required=False)
    languages = forms.CharField(required=False, help_text="comma-separated codes, e.g. en, ru; instrumentals always pass")
    leave_out_seeds = forms.BooleanField(required=False)
    keep_duplicates = forms.BooleanField(required=False)
    order = forms.ChoiceField(choices=[("score", "closest first"), ("flow", "smooth flow")], required=False)
    taste = forms.FloatField(min_value=0.0, max_value=1.0, required=False, initial=0.0)

    def clean(self):
        data = super().clean()
        if not (data.get("seeds") or data.get("seed_artists") or (data.get("seed_text") or "").strip() or data.get("seed_file")):
            raise forms.ValidationError("Choose at least one seed track, an artist, a text prompt or an audio file.")
        return data

    def attributes(self) -> dict[str, dict[str, float]]:
        """``{name: {"min"/"max"/"target": value}}`` from fields named ``min_<name>``, ``max_<name>``, ``target_<name>``."""
        out: dict[str, dict[str, float]] = {}
        for name in FORM_ATTRIBUTES:
            for bound in ("min", "max", "target"):
                raw = (self.data.get(f"{bound}_{name}") or "").strip()
                if raw:
                    try:
                        out.setdefault(name, {})[bound] = float(raw)
                    except ValueError:
                        raise forms.ValidationError(f"{bound} {name} must be a number") from None
        return out

    def controls(self) -> dict:
        """The cleaned form as :class:`~playlists.generation.PlaylistSettings` keyword arguments (seed files excluded)."""
        data = self.cleaned_data
        split = lambda text: [part.strip() for part in (text or "").split(",") if part.strip()]  # noqa: E731
        seeds = [t.id for t in data.get("seeds") or []]
        ordered = [int(s) for s in self.data.getlist("seeds") if str(s).isdigit() and int(s) in seeds]
        controls = {
            "seed_ids": ordered,
            "seed_artist_ids": [a.id for a in data.get("seed_artists") or []],
            "seed_text": data.get("seed_text") or "",
            "diversity": data.get("diversity") or 0.0,
            "max_per_artist": data.get("max_per_artist"),
            "exclude_artists": split(data.get("exclude_artists")),
            "exclude_albums": split(data.get("exclude_albums")),
            "exclude_genres": split(data.get("exclude_genres")),
            "exclude_explicit": bool(data.get("exclude_explicit")),
            "languages": split(data.get("languages")),
            "include_seeds": not data.get("leave_out_seeds"),
            "dedupe": not data.get("keep_duplicates"),
            "order": data.get("order") or "score",
            "taste": data.get("taste") or 0.0,
            "attributes": self.attributes(),
        }
        if data.get("path_to"):
            controls["path"] = ordered + [data["path_to"].id]
            controls["seed_ids"] = []
        return controls

    def clean_seeds(self):
        seeds = self.cleaned_data["seeds"]
        if len(seeds) > MAX_SEEDS:
            raise forms.ValidationError(f"Choose at most {MAX_SEEDS} seed tracks.")
        return seeds


class PlaylistRenameForm(forms.Form):
    name = forms.CharField(max_length=200)
