"""Spotify tokens are encrypted at rest: the columns keep their type, the values already stored are encrypted here."""

from django.db import migrations

import playlists.models.fields


def _tokens_encrypt(apps, schema_editor):
    # Raw column values: the historical model's fields are the new encrypted ones, so read and write with update().
    from playlists.models.fields import PREFIX

    account = apps.get_model("playlists", "SpotifyAccount")
    for row in account.objects.values("id", "access_token", "refresh_token").iterator():
        changes = {}
        for name in ("access_token", "refresh_token"):
            value = row[name] or ""
            if value and not value.startswith(PREFIX):
                changes[name] = value
        if changes:
            # update() runs get_prep_value, which encrypts; the values read came through from_db_value unchanged.
            account.objects.filter(id=row["id"]).update(**changes)


class Migration(migrations.Migration):

    dependencies = [
        ("playlists", "0002_plays_subsonic_covers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="spotifyaccount",
            name="access_token",
            field=playlists.models.fields.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name="spotifyaccount",
            name="refresh_token",
            field=playlists.models.fields.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(_tokens_encrypt, migrations.RunPython.noop),
    ]
