# Plays, stars and Subsonic passwords for the Subsonic server; cover art; artists' Spotify ids; playlist comments.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('playlists', '0001_squashed_0006_merge_jobs'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CoverArt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('content_hash', models.CharField(help_text='sha256 of the picture file.', max_length=64, unique=True)),
                ('mime', models.CharField(help_text='image/jpeg or image/png.', max_length=32)),
                ('width', models.PositiveIntegerField()),
                ('height', models.PositiveIntegerField()),
                ('source', models.CharField(choices=[('embedded', 'embedded in the audio file'), ('folder', 'picture file beside the audio'), ('generated', 'generated')], max_length=16)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.AddField(
            model_name='artist',
            name='spotify_id',
            field=models.CharField(blank=True, db_index=True, help_text="The artist's Spotify id, from a Spotify lookup of one of their tracks.", max_length=64),
        ),
        migrations.AddField(
            model_name='playlist',
            name='comment',
            field=models.TextField(blank=True, help_text='A note on the playlist (set from a Subsonic player).'),
        ),
        migrations.AddField(
            model_name='rating',
            name='stars',
            field=models.PositiveSmallIntegerField(blank=True, help_text="A player's 1-5 rating, when one was given.", null=True),
        ),
        migrations.AlterField(
            model_name='rating',
            name='value',
            field=models.SmallIntegerField(choices=[(1, 'like'), (-1, 'dislike'), (0, 'neither (rated 3 of 5)')]),
        ),
        migrations.AddField(
            model_name='album',
            name='cover',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='albums', to='playlists.coverart'),
        ),
        migrations.AddField(
            model_name='track',
            name='cover',
            field=models.ForeignKey(blank=True, help_text="The file's own picture, else the picture beside it.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='tracks', to='playlists.coverart'),
        ),
        migrations.CreateModel(
            name='SubsonicPassword',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('secret', models.TextField(help_text='The password, encrypted (Fernet).')),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='subsonic_password', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='AlbumStar',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('album', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='stars', to='playlists.album')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='album_stars', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('user', 'album'), name='album_star_once')],
            },
        ),
        migrations.CreateModel(
            name='ArtistStar',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('artist', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='stars', to='playlists.artist')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='artist_stars', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('user', 'artist'), name='artist_star_once')],
            },
        ),
        migrations.CreateModel(
            name='NowPlaying',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('client', models.CharField(blank=True, max_length=100)),
                ('updated_at', models.DateTimeField()),
                ('track', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='now_playing', to='playlists.track')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='now_playing', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-updated_at'],
                'constraints': [models.UniqueConstraint(fields=('user', 'client'), name='now_playing_one_per_player')],
            },
        ),
        migrations.CreateModel(
            name='Play',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('played_at', models.DateTimeField()),
                ('client', models.CharField(blank=True, help_text='The player that reported it.', max_length=100)),
                ('track', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='plays', to='playlists.track')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='plays', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-played_at'],
                'indexes': [models.Index(fields=['user', 'played_at'], name='playlists_p_user_id_fc917b_idx'), models.Index(fields=['track', 'played_at'], name='playlists_p_track_i_057d7c_idx')],
                'constraints': [models.UniqueConstraint(fields=('user', 'track', 'played_at'), name='play_once_per_moment')],
            },
        ),
    ]
