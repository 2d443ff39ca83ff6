from __future__ import annotations

from django import forms

from playlists.models import Track
from playlists.services import MAX_PLAYLIST_LENGTH, MAX_SEEDS


class PlaylistForm(forms.Form):
    seeds = forms.ModelMultipleChoiceField(queryset=Track.objects.all(), required=False)
    seed_text = forms.CharField(max_length=500, required=False, help_text="a theme whose best-matching lyrics join the seeds")
    length = forms.IntegerField(min_value=1, max_value=MAX_PLAYLIST_LENGTH, initial=20)
    balance = forms.FloatField(min_value=0.0, max_value=1.0, initial=0.5, help_text="0 = lyrics only, 1 = sound only")
    name = forms.CharField(max_length=200, required=False)

    def clean_seeds(self):
        seeds = self.cleaned_data["seeds"]
        if len(seeds) > MAX_SEEDS:
            raise forms.ValidationError(f"Choose at most {MAX_SEEDS} seed tracks.")
        return seeds

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("seeds") and not (cleaned.get("seed_text") or "").strip() and "seeds" not in self.errors:
            self.add_error("seeds", "Choose at least one seed track, or describe a theme.")
        return cleaned
