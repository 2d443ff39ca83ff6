"""The Subsonic REST API (1.16.1) with OpenSubsonic extensions, at ``/rest/<method>`` (and ``.view``).

Players (Symfonium, Feishin, DSub, Substreamer, Amperfy, ...) browse,
stream, star and scrobble here, and their "similar songs", instant mix and
sonic path come from Crossfade's hybrid model. Not part of the JSON API:
Subsonic has its own envelope (:mod:`.responses`), its own authentication
(:mod:`.auth`) and its own error codes (:mod:`.params`). Requests are parsed
once by :class:`.params.Params`; each endpoint module (browsing, media,
lyrics, playlists, annotation, similarity, system) is a set of thin functions
over the features' services and selectors, registered in :mod:`.endpoints`.
"""
