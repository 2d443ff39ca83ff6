"""Audio tags keyed by vocabulary: the MagnaTagATune and Million Song Dataset taggers tag side by side.

Before, ``Track.audio_tags`` held the 50 MagnaTagATune tags of musicnn-mtt
under bare names ("piano"); now every key names its vocabulary ("mtt:piano",
"msd:rock"), so the two taggers' tags cannot collide ("rock", "pop", "guitar"
are in both). Existing tags are all MagnaTagATune's and get the "mtt:"
prefix; going back drops the prefix and any Million Song Dataset tags.
"""
from __future__ import annotations

from django.db import migrations, models


def _prefixed(apps, schema_editor):  # type: ignore[no-untyped-def]
    Track = apps.get_model("playlists", "Track")
    for track in Track.objects.exclude(audio_tags={}).only("id", "audio_tags").iterator():
        tags = track.audio_tags or {}
        if tags and not all(":" in key for key in tags):
            Track.objects.filter(id=track.id).update(audio_tags={(key if ":" in key else f"mtt:{key}"): value for key, value in tags.items()})


def _bare(apps, schema_editor):  # type: ignore[no-untyped-def]
    Track = apps.get_model("playlists", "Track")
    for track in Track.objects.exclude(audio_tags={}).only("id", "audio_tags").iterator():
        tags = track.audio_tags or {}
        bare = {key.partition(":")[2]: value for key, value in tags.items() if key.startswith("mtt:")}
        bare.update({key: value for key, value in tags.items() if ":" not in key})
        Track.objects.filter(id=track.id).update(audio_tags=bare)


class Migration(migrations.Migration):
    dependencies = [("playlists", "0004_playlist_edited_at")]

    operations = [
        migrations.AlterField(
            model_name="track",
            name="audio_tags",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Tag probabilities from the audio taggers, keyed by vocabulary: 'mtt:piano' (MagnaTagATune), 'msd:rock' (Million Song Dataset); filled by reindex.",
            ),
        ),
        migrations.RunPython(_prefixed, _bare),
    ]
